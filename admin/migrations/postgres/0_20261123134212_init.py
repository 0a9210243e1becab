from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "host_admin_route_version" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "app" VARCHAR(100) NOT NULL,
    "content" TEXT NOT NULL,
    "hash" VARCHAR(64) NOT NULL,
    "author" VARCHAR(150) NOT NULL,
    "action" VARCHAR(20) NOT NULL,
    "note" VARCHAR(200) NOT NULL,
    "applied_at" TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS "idx_host_admin__app_669739" ON "host_admin_route_version" ("app");
COMMENT ON TABLE "host_admin_route_version" IS 'One version of a routes.d file as written by the admin UI (or found on disk before).';"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "host_admin_route_version";"""


MODELS_STATE = (
    "eJzdl9Fu2jAUhl/FyhWVNtRmlFa7Yy1bkVqYaNZVnSbLYCexSOzUdgao4t1nOwkJSUFwUa"
    "b1jhz/v8/h84ntvDghlwoiHFPWHvNUkQciJOXM+QxeHIZion9s1XwADkqSTYUJKjSJakYo"
    "jBH+qTgnUgk0VVrno0gSHcJETgVNVJbfGTECcgPgPkDAziHbGPg0IgBJMBdUKcLAZAlUqC"
    "MmE/gxAC0ugM9ThoG2YipnYEJ8LshJ22TGfKpTUxa8ZZKU0eeUQMUDol1Cp/r1W4cpw2RB"
    "ZPGYzKBPSYQ3cFNsJrBxqJaJjQ2Y+mqFpv4JnPIojVkpTpYq5GytpkyZaEAYEUgRM70SqU"
    "HM0ijKV6egnlVaSrISKx5MfJRGZqGMOyugjDkQDkcevO97EDqNRSwcFeR5aMqZaQBdqrT/"
    "PjAlfHTPOhedy0/dzqWW2DLXkYtVlroEkxktnqHnrOw4UihTWMYlVNOoDapXIRKvY83lNa"
    "664DrXguIusEXgH5GN0QJGhAUq1I9np6c7OD70xlc3vXFLq05MSq7f0OxVHuZDbjZmYJdw"
    "dUb9hqgmYI8stvRtxfJWkMtt5QiUd0D1+o+emTmW8jmqsmzd9R4t5niZj9yOht8KeYX91e"
    "3oSw15iGR4SEMX+ncBe7Olu509Orrb2drQZmgTLko1JHHQfrF2vEPAZ+d77RnnO/aM88ae"
    "oY/+/CawN+O14x0ydvdB7G4n7DYAM67IIXgL/fHgOs6R0O7HdhfcZvsmSUQJhuiVU+9ac1"
    "I0JluvFhVnjTbOre3ix//Y2IIgPGLRMr/o7DoaB3f9e693933jfLzueX0z4m6cjUW01a2t"
    "03oS8HPg3QDzCJ5Gw77Fq79AAmEzljrvyTE16T2bQ8bn+gulcicrogW1lbmn+7PKpdIEJm"
    "g6myOBYWOEu3ybtjkUu3E9ghgK7JoZuKvVX81cWpc="
)
