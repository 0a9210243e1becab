from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "loans_loan" DROP CONSTRAINT IF EXISTS "loans_loan_external_id_key";
        DROP INDEX IF EXISTS "uid_loans_loan_externa_dcd08d";
        ALTER TABLE "loans_loan" ADD "tenant" VARCHAR(64) NOT NULL DEFAULT 'default';
        ALTER TABLE "loans_loan_transaction" ADD "tenant" VARCHAR(64) NOT NULL DEFAULT 'default';
        CREATE UNIQUE INDEX IF NOT EXISTS "uid_loans_loan_tenant_65985c" ON "loans_loan" ("tenant", "external_id");
        CREATE INDEX IF NOT EXISTS "idx_loans_loan_tenant_3eb516" ON "loans_loan" ("tenant");
        CREATE INDEX IF NOT EXISTS "idx_loans_loan__tenant_d701f7" ON "loans_loan_transaction" ("tenant");
        ALTER TABLE "loans_loan" ALTER COLUMN "tenant" DROP DEFAULT;
        ALTER TABLE "loans_loan_transaction" ALTER COLUMN "tenant" DROP DEFAULT;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP INDEX IF EXISTS "idx_loans_loan__tenant_d701f7";
        DROP INDEX IF EXISTS "idx_loans_loan_tenant_3eb516";
        DROP INDEX IF EXISTS "uid_loans_loan_tenant_65985c";
        ALTER TABLE "loans_loan" DROP COLUMN "tenant";
        ALTER TABLE "loans_loan_transaction" DROP COLUMN "tenant";
        CREATE UNIQUE INDEX IF NOT EXISTS "uid_loans_loan_externa_dcd08d" ON "loans_loan" ("external_id");"""


MODELS_STATE = (
    "eJztnP9vmzgUwP8VxC/XSbtoTdNuN51OyiWpFm1tpza7kzZNlgNOwhVsZkzbbOr/fjaE8M"
    "0QoElbUv/QL7H9nu3Pexj78cgv3SYQe51P/Lf+XvulY+gg/k+y+LWmQ9ddF4rPDE7tuBmw"
    "o2ZTj1FoMF4zg7aHeJGJPINaLrOI0I992xaFxOANLTyPi3xs/fARYGSO2AJRXvHtm84Qhp"
    "gJzeiOIYqhDSxT//6dF1jYRHfIE+3ER/cazCxkm6k58La8KigHbOkGZWPMToOGYhhTYBDb"
    "d3Dc2F2yBcHr1lbY+xxhRCFDQj2jvpiXGPYKQjTVcApxk3CICRkTzaBvswSHKYjLdADOLy"
    "bgajQBQK9BziBYUOdD9YLZz8UQfu8e9t723h2d9N7xJsEw1yVv78OuYzChYIDnfKLfB/WQ"
    "wbBFwDiGGtskDXawgFRONpbI0OXDztKNWJbhjQpK+Op/znxsCHTagnisI2bTCcZhLDt8Wr"
    "YNwlH9pe/KDA68AzbCc7bgH096Jcz/6V8OPvQvD056r0SHhF9B4cV1vqrpBlXCLLEZkhdE"
    "DVtkxBoZZEW7xB7xxf8YDp8iffjmTQXUvFUh66AuDVusbyGkGqhTQrvy/DxpUWndWKYP7c"
    "fx7W4V4N1i3t0cbpf3blhuOIE07iEyLAfacuIpuQxxMxTsrBTsiv4O/byE8nA0GJ/1Px0c"
    "/vH6JODs/bAthpIG6OUoY9+ZIgrIDFDkwqWDRD/V75dF4pvvoC1gvZ2baMx6jQigG0SXNT"
    "BLJBXhUsIzivgM+Y2+YMWugDqvQjGXMOd6EUUeA4IBcPlqwH8sItmQlC7bZWrUKr5hFfcY"
    "ZH6ddTsWeDyf5luqlri0508di/HZA06Gnxok68eQlxaglQlnPZgXM8tBnai+XZvtMvftT0"
    "a5Q4qLDMHDtLypTz0UrK51sZZrecl8DYrEzACUnMeHKxBypmnJMobinxaus/xuDs0LbC9X"
    "Ni4BOxmfja4m/bPPojvH46tuhFvUdIPSZab04CRznlkr0f4dTz5o4qP29eJ8FOAlHpvToM"
    "e43eSrLsYEfUYAJrcAmolIRlQaUUtZ3XfNhlZPSyqrPxerR4wSZl+NPnFcI7JVszj8ELXf"
    "vxDPcaUQz3FJiOe4KMSDqBNv/mtsqgqkG+2wnhv7Le+wJKjqHtTKVCjkeeTQIZRZP6EYR1"
    "3WUlkFueQwXBNwTk7BLYFrQNvw7dAbwyhBY94lqpQJ8ibgqrEHjRAXJQbyPN49EF0yNF9y"
    "wmat/UlVffu3f9nJIyrocog3zeIWMtmXfKxe82j6IEqu4MGxzBZBbRLKpOi/MM7TwIVlsi"
    "/ZhaNQWSOYUuGXTNOwSUOUecmXzdESodtaeVkpGfUYTrIz4/ca0zdqYk0LKa4rriKXcHYt"
    "TXwLHTGP+JRQZM3xR7QMSI/5mCA2ZNd6qMHrDNaaWkb4PvKiqDRekCi8XWdgpq9ZsfYhG4"
    "V3/8vR1eRyPJjoMg9+CNs4X/VzrGxP8aav3QK+wpOn0Li+hdQEBS6dOINJHiH/vZI+/XiJ"
    "wnNyKfdJrGyP2AccSZck+KXI5qucrpMtgRjOgymJvkVPeW+V514nfLlCCjZIXEfbTcVWGd"
    "dPmHEd/M1hLXnys2q/nZzTp0W7+8CJtyCUgbqM01J7R7pKunpxtnouWd3wKQ2e0tQNEuYE"
    "HzGP+svVUH8U2EcVYB8Vwj5S2dNPEaxyLNw4PJiTVZHBDbD55dIYdlZWwS6H3fr3Ag67z3"
    "qj1/q3Ag5bh7flrwS0xZ/V+wBPv3qrlOBid29ncmhRSnAuVF0l4rcOHz0o1NdC4z9VfC8Z"
    "FZXH+DJx0ypxPpYR2RTr0/ta8t0JjVANaut7m0Zm/KNQrB2cWsKqBvvN05xcX686eob1Vh"
    "WruOPzijuqb3qoZoYdf9NDzS2remO1ZIcKHeLLXLo8m2stpHafG3aftTONtpMU0yas+awY"
    "9WbPTt/sUSeiYvr7dSLKvWZUa1uYkFD3zs3pUNF3vj08YaeFbKtm6iR8KpWmM+hfDfrDUV"
    "mWzvbPpff/A8Qx0Rs="
)
