from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = False


async def upgrade(db: BaseDBAsyncClient) -> str:
    # SQLite cannot drop a column's UNIQUE: "savings_savings_account" is rebuilt with foreign keys off (which
    # only works outside a transaction, hence the explicit one), as SQLite documents
    return """
        PRAGMA foreign_keys = OFF;
        BEGIN;
        CREATE TABLE "savings_savings_account__new" (
            "tenant" VARCHAR(64) NOT NULL,
            "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
            "external_id" VARCHAR(100),
            "balance" VARCHAR(40) NOT NULL,
            "nominal_annual_interest_rate" VARCHAR(40) NOT NULL,
            "status" INT NOT NULL,
            "submitted_on_date" DATE,
            "activated_on_date" DATE,
            "approved_on_date" DATE,
            "origin_key" VARCHAR(100) UNIQUE,
            "created_at" TIMESTAMP NOT NULL,
            "updated_at" TIMESTAMP NOT NULL,
            "client_id" INT NOT NULL REFERENCES "clients_client" ("id") ON DELETE RESTRICT,
            "product_id" INT NOT NULL REFERENCES "savings_savings_product" ("id") ON DELETE RESTRICT
        );
        INSERT INTO "savings_savings_account__new" ("tenant", "id", "external_id", "balance", "nominal_annual_interest_rate", "status", "submitted_on_date", "activated_on_date", "approved_on_date", "origin_key", "created_at", "updated_at", "client_id", "product_id")
            SELECT 'default', "id", "external_id", "balance", "nominal_annual_interest_rate", "status", "submitted_on_date", "activated_on_date", "approved_on_date", "origin_key", "created_at", "updated_at", "client_id", "product_id" FROM "savings_savings_account";
        DELETE FROM sqlite_sequence WHERE name = 'savings_savings_account__new';
        INSERT INTO sqlite_sequence (name, seq) SELECT 'savings_savings_account__new', seq FROM sqlite_sequence WHERE name = 'savings_savings_account';
        DROP TABLE "savings_savings_account";
        ALTER TABLE "savings_savings_account__new" RENAME TO "savings_savings_account";
        ALTER TABLE "savings_savings_transaction" ADD "tenant" VARCHAR(64) NOT NULL DEFAULT 'default';
        CREATE UNIQUE INDEX "uid_savings_sav_tenant_55d402" ON "savings_savings_account" ("tenant", "external_id");
        CREATE INDEX "idx_savings_sav_tenant_e4106e" ON "savings_savings_account" ("tenant");
        CREATE INDEX "idx_savings_sav_tenant_c9771b" ON "savings_savings_transaction" ("tenant");
        COMMIT;
        PRAGMA foreign_keys = ON;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP INDEX IF EXISTS "idx_savings_sav_tenant_c9771b";
        DROP INDEX IF EXISTS "idx_savings_sav_tenant_e4106e";
        DROP INDEX IF EXISTS "uid_savings_sav_tenant_55d402";
        ALTER TABLE "savings_savings_account" DROP COLUMN "tenant";
        ALTER TABLE "savings_savings_transaction" DROP COLUMN "tenant";
        CREATE UNIQUE INDEX "uid_savings_sav_externa_6f7d3b" ON "savings_savings_account" ("external_id");"""


MODELS_STATE = (
    "eJztm/9v2jgUwP+VKL+MSh1qKWLb6XQSB1RDu7YT5O6kTZNlEgNWEyd1nLZo6v8+20nI90"
    "BoaAvLT8Czn7983nPi52d+qi68x2Thtqf+Z1/XbY8w9Q/lp0qghfiXoiqnigodJ1ZBSBic"
    "mXElEH7CmNbMZRTqopM5NF3ERQZydYodhm3CpcQzTSG0dV6Ra0cij+A7DwFmLxBbIsoLvn"
    "9XGSLQbxk9MkQJNAE21B8/uAATAz0iV9QTP51bMMfINBLT43V5kZQDtnKkbEzYpawohjED"
    "um16FokqOyu2tMm6NvZ7XyCCKGRINM+oJ+Ylhh0QCafqTyGq4g8xpmOgOfRMFuMwA5FMBe"
    "D6RgPTkQaAWoGcbhNBnQ/VlbNfiCG875x3P3Q/XvS6H3kVOcy15MOT33UExleUeK419UmW"
    "Qwb9GpJxBDWySRLsYAlpPtlII0WXDztNN2RZhjcUlPBV/5x7RBfolKXtsraYTVuOQ1+1+b"
    "RME/ij+kvdlxks+AhMRBZsyX/2uiXM/+tPBp/7k1aveyI6tPkK8lfadVDSkUXCLJEZ4gui"
    "gi1SajsZJKBdYo9o8b+EwydIn5+dbYGa1ypkLcuSsGfQ5J6DsqCHSMcWNPNZx7RSnA1frR"
    "2o17MIstDP9kS8BPBwNBhf9f9pnX867UnC7p2JGYqz72bwEtvCwichIZ5wTcJ9FLkMCB4V"
    "mW9q6nUMsUfvr9sWLoPMcyu8NyOFze/OunjyJfqm354xnN7MwozPHnAyRr4/c2kB2jzltA"
    "dzMcMWaoflh/XwLnPfvjZK0eRbS3wPd6SZq/xb03Qcat/vCDNH93dmaVO8wATcolWV3VhS"
    "q5bN2OvGHvvfiukUyTUMc0KQYeBx+bCTmmXOKr4c4FZA5RM0boi5CqxeAl8bX42mWv/qq+"
    "jOcvnGIPRrUdKR0lVK2uql7LRuRPl/rH1WxE/l2831SOLlUdeCyh6jeto3VYwJeswGxH4A"
    "0Ig5aCgNqSWs7jnGjlZPajZWfytWDxnFzB6MPrbWTYwIy41wC7ejCZ2X25G++QOdiCp/cR"
    "ueXhFrUqnhGnAVR4/z29xzMt8Rs4gvbYrwgnxBK0l6zMdUcErgt+C2B+uWDozwU+hFoTR6"
    "2lP4sD6wTa5ZsaFEJvLj1Al/hEzGA03N8+DnsE2dfH+NWjxSxskFXABZuPMM6rcPkBqgwK"
    "95L8SF8mw155jg70D78ssEmVBOZiN8LWrxiAwgYdodOwYxgTdbZHWstAQSuJBTEn2Lngr8"
    "tiSpE3PtCkmd2BKrN6nT5G5eMXcjPzNYi+PTsH49eZtjD03dpU0ZqMo4qXV0pLdJfBXnvT"
    "JpL92jFBF9xQEalTBnFPeVi8y+fNR/p8OXSTNebAH7ohD2RZOXqX1bUFtehuMDFN15mIpD"
    "VwcR3jnYLS+5qaln2+KATnJ3MUVzBFn8ODrMw6iiI8hMeL9NgBTch6opOIrdyTowX3jVwC"
    "geU5YER6nQs0KAxFKam4Ikta8YiLskZkrr/ESxqfKA2dLgMTo0lVaHS4gClaB1JfAhpXWJ"
    "hc119s5VrPSNu/gYTtpqyigv0mET4L2tAK+5nLfDrrn+y3mS4fbeHVZvjtVz0hXQCt9/Fb"
    "a4kVITWGzYzVa9+VHTbY9Dwpq97kE98owALEe7cdMm6GqCrsy9j3DjWWmzmFRqXqqbc9Wx"
    "v/DUlFA9vrD1NJVQTXpZIqE66E8H/eGoLJ9afwz89Atze3pm"
)
