from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "loans_loan" ADD "tenant" VARCHAR(64) NOT NULL DEFAULT 'default';
        ALTER TABLE "loans_loan_transaction" ADD "tenant" VARCHAR(64) NOT NULL DEFAULT 'default';
        CREATE INDEX "idx_loans_loan_tenant_3eb516" ON "loans_loan" ("tenant");
        CREATE INDEX "idx_loans_loan__tenant_d701f7" ON "loans_loan_transaction" ("tenant");"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP INDEX IF EXISTS "idx_loans_loan__tenant_d701f7";
        DROP INDEX IF EXISTS "idx_loans_loan_tenant_3eb516";
        ALTER TABLE "loans_loan" DROP COLUMN "tenant";
        ALTER TABLE "loans_loan_transaction" DROP COLUMN "tenant";"""


MODELS_STATE = (
    "eJztnFtv2zYUgP+KoJelQGY0jpt2wzDAsx3UaJMUibYBHQaClmhbi0SqFJXELfLfR0rWnZ"
    "IlxU4sRw+5mOQ5JD8e8XJ06B+qRSB2e5/5b/VX5YeKoY34P8nkY0WFjhMlis8Mzqy4GLDC"
    "YjOXUagznjOHlot4koFcnZoOM4nQjz3LEolE5wVNvIiTPGx+8xBgZIHYElGe8c+/PNnEBn"
    "pAbvjRuQVzE1lGqqmmIer20wFbOX7aFLNzv6CobQZ0Ynk2jgs7K7YkOCptYiZSFwgjChkS"
    "6hn1RPNF69Z9DXsUtDQuEjQxIWOgOfQslujuDMRpKgCXVxq4mWgAqDUA6QQLuLyprt/7hW"
    "jCz/2TwfvBh9OzwQdexG9mlPL+Mag6BhMI+nguNfXRz4cMBiV8xjFUhjAMqKTBjpaQysnG"
    "Ehm6vNlZuiHLMrxhQglf9be5h3WBTlkSl/VEb3p+O/RVj3fLskDQqt/VXQ2DDR+AhfCCLf"
    "nHs0EJ87+G16OPw+ujs8EbUSHhD0rwDF2uc/p+lhiWeBjQA0MUQwvIjLx4LDJijQZkTXtP"
    "zD3F+eTt2wqgealC0n5eGrWYxAJENUCnhHZl9/FcGlHlmeadaXjQeh7L7lcB3i/m3c/hdn"
    "jtuukEHUjjHiPdtKElJ56SyxA3AsHeWsGu6O/Qzksojyej6cXw89HJL8dnPmf3m2UylByA"
    "QY4y9uwZooDMAUUOXNlI1FN9tSwS37x+toD1dpbQmHWECKA7RFc1MEskO8KlhOcU8R7yZb"
    "5gxq6AOq+iYy5hzvUiilwGBAPg8NmA/5hEsh0pnbbL1HSz+IZZ3GWQeXXm7Vjg+Wyab6la"
    "YtKuN7NNxnsPOBl+ZpDMH2OeWoBWJpy1YJ7MTBv1wvyaW+09Nt+hNskdURykCx6G6c486i"
    "J/dq2LtVzLa+arUyR6BqDkND5eg5AzTUuWMRT/tHCe5as5NK6wtVqPcQlYbXoxudGGF19E"
    "dbbLZ90Qt8jp+6mrTOrRWeY8EylR/p5qHxXxUfl6dTnx8RKXLahfY1xO+6qKNkGPEYDJPY"
    "BG4uAcpobUUqPuOUbDUU9LdqO+L6MeMkoM+7r1ieMakc2axe6HsPxWHDwvPawph8O7Si6e"
    "dyUunndFLh5E7XjzX2NTVSDdaIe1b+y3vMOSoKp7UCtT0SHPI4c2ocz8DkU76rKWynaQSw"
    "7DNQHn5Dq4JXB1aOmeFVhj4CVozLtEVTcE+SHgqrEL9QAXJTpyXV49EFUytFhxwkat/UlV"
    "fYe3f9nJKyrocIh3zfwWMtnXfKyOeDR9ESVX8GRfZougNnFlUvRf4OdpYMIy2ddswqGrrB"
    "FMqfBrpqlbpCHKvOTr5mgK122tqKyUTPcaTrIz42uN4ek1saaFOq5rriKScH4rDXsLDDGP"
    "+JxQZC7wJ7TySU95myDWZc96oMHtjSJNLSP8GFpRmBpPSBTeR/GX6WdWzH3IQsHqfz250a"
    "6nI02VWfBT2MZBqV9iZQeKN/3sFvAVljyD+u09pAYoMOnEGUzyCvmPtfT5p2sUnJNLuWux"
    "sgNi73MkfZLglyKbz7L7djYFYrjwuyTqFjXlrVUeYJ2w5Qpx1iDxHHXx1q1ad46V4nhr/2"
    "8Oa8mbn3X57cScHnpsr7sklIG6jNNSB0e6SrB6cax6LlRd9yj139LUdRLmBJ8xjvrPm7H6"
    "LLBPK8A+LYR92kVPv4SzyjZxY/dgTrbzDG6AzR+XxrCzsh3sctitvxdw0t/rjV7rbwWctA"
    "5vy68EtMWeu/sALz97dyHBxebezuDQopDgnKu6iscvch89ydXXwsF/Kf9e0isq9/Fl/KZV"
    "/HwsI7LJ16cOleTdCYVQBSrR2qaQOf8oFCtH56YYVZ395Cp2rq43PTXDequKO7/jfvkdu+"
    "95qDYMO/6eh5pb1u7GaskOFdrEk5l0eTRXJNTtPjfsPmtHGm0nKKZNWPNRMd3Nnp3e7OlO"
    "RMX0D+tElLtmVGtbmJDo1s7N4VDhF7s9PWCnhWyrRuokbCoVpjMa3oyG40lZlM72z6WP/w"
    "NXhcfg"
)
