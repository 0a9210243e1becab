from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "host_api_key" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "name" VARCHAR(100) NOT NULL,
    "prefix" VARCHAR(16) NOT NULL UNIQUE,
    "secret_hash" VARCHAR(64) NOT NULL,
    "roles" JSONB NOT NULL,
    "active" BOOL NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE "host_api_key" IS 'A machine credential: `<prefix>.<secret>`; only the secret''s SHA-256 is stored.';
CREATE TABLE IF NOT EXISTS "host_user" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "username" VARCHAR(150) NOT NULL UNIQUE,
    "password_hash" VARCHAR(255) NOT NULL,
    "roles" JSONB NOT NULL,
    "active" BOOL NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL
);"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "host_user";
DROP TABLE IF EXISTS "host_api_key";"""


MODELS_STATE = (
    "eJztl11v2jAUhv+KlZt10opaBrTqqkqhZSpbgamk29Rpck1iiEVip7GzFnX899kOIeAABa"
    "nttoor8PmwT54TO68fLJ9xUbIj8hmPrCPwYFEUYvlnzv4OWCiKMqsaCtQLpmEQRQQOJ3E9"
    "LmLkCunro4BjafIwd2MSCcKoyrBBiFyfUAzcGHuYCoKCI3BzHMW4T+5PSsccS4c4ufkAGA"
    "1GQPgYpKY3HHTP7d1ytQYIB1wwmV9Si3rMlasSOnim+RNKbhMMBRtgGR3LVX78lGZCPXyP"
    "eTaMhrBPcODNYSSemkDboRhF2tak4qMOVKX3oMuCJKR5cDQSPqPTaEI18QGmOEYCq+lFnC"
    "iwNAmCSR8y1mmleUha4kyOh/soCVR7VHZaQG6zIGx3HNhtOBBahdZlGTO0JyaXUdV2WSrX"
    "Tz9QJeyW9ysHlcP3tcqhDNFlTi0H43TpHEyaqPG0HWus/UigNEIzzqHq3wLWUx/Fi7lm8Q"
    "ZZWbJJNuO4Cm1myNnmb/pLwA3RPQwwHQhfDvf39lag/Gpfnp7blzsy6q1aksmtme7b9sRV"
    "Tn2Kd8433SqbEM4znobx33195wnX1gFcW863ZuJNTxvoI+5vwthIe4Uvc62yBupaZSlq5Z"
    "pHHbNATlGA/KnbaS+GPE0w8HrEFeA3CAgvnMZPhdk67ifUVQRBLyGBIJSX1Hon1jPBXwFb"
    "AVIzh5zfBrOQd1r2d5P/6UWnrpFJLTCI9Sx6grrRDCkLyK8FB3edSeiILm5InmR0pCeznq"
    "sV2WnzstDrnc7FHPR60zFQX7XqDXna6A7IICLw7BczRy1PCoUEIlHEfSY9goR4Me/5THMX"
    "TFJL2Z//8ciRD+h1pPKb9HlFQ5xmq9F17NaXua6c2U5DecraOjKsO+aXYDoJ+NZ0zoEagu"
    "tOu2HumGmcc22pmlAiGKTsDiJv5gOYWTNqY6U8+8MZmaQMPeQO71DswYKHldmy2KIrLIem"
    "BVE00D1TcFWZ+p5wxbUqNm4P2vrY3SHJgh67OCxv8Fae/1vyXLV0U4k+m/P6JGR1LZFeXS"
    "HSq0WRjji/Y3LfbqojC4mvUEmWq9U1iMuopcS1bysmt2JyKya3YnIrJl9ATI7/APnvL9E="
)
