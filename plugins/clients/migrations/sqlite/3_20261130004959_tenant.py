from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = False


async def upgrade(db: BaseDBAsyncClient) -> str:
    # SQLite cannot drop a column's UNIQUE: "clients_client" is rebuilt with foreign keys off (which
    # only works outside a transaction, hence the explicit one), as SQLite documents
    return """
        PRAGMA foreign_keys = OFF;
        BEGIN;
        CREATE TABLE "clients_client__new" (
            "tenant" VARCHAR(64) NOT NULL,
            "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
            "firstname" VARCHAR(100),
            "middlename" VARCHAR(100),
            "lastname" VARCHAR(100),
            "fullname" VARCHAR(300),
            "display_name" VARCHAR(400) NOT NULL,
            "external_id" VARCHAR(100),
            "mobile_no" VARCHAR(50),
            "active" INT NOT NULL,
            "activation_date" DATE,
            "submitted_on_date" DATE,
            "closed_on_date" DATE,
            "legal_form_id" INT,
            "created_at" TIMESTAMP NOT NULL,
            "updated_at" TIMESTAMP NOT NULL,
            "office_id" INT NOT NULL REFERENCES "clients_office" ("id") ON DELETE RESTRICT
        );
        INSERT INTO "clients_client__new" ("tenant", "id", "firstname", "middlename", "lastname", "fullname", "display_name", "external_id", "mobile_no", "active", "activation_date", "submitted_on_date", "closed_on_date", "legal_form_id", "created_at", "updated_at", "office_id")
            SELECT 'default', "id", "firstname", "middlename", "lastname", "fullname", "display_name", "external_id", "mobile_no", "active", "activation_date", "submitted_on_date", "closed_on_date", "legal_form_id", "created_at", "updated_at", "office_id" FROM "clients_client";
        DELETE FROM sqlite_sequence WHERE name = 'clients_client__new';
        INSERT INTO sqlite_sequence (name, seq) SELECT 'clients_client__new', seq FROM sqlite_sequence WHERE name = 'clients_client';
        DROP TABLE "clients_client";
        ALTER TABLE "clients_client__new" RENAME TO "clients_client";
        CREATE UNIQUE INDEX "uid_clients_cli_tenant_ce4453" ON "clients_client" ("tenant", "external_id");
        CREATE INDEX "idx_clients_cli_tenant_01d1ed" ON "clients_client" ("tenant");
        COMMIT;
        PRAGMA foreign_keys = ON;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP INDEX IF EXISTS "idx_clients_cli_tenant_01d1ed";
        DROP INDEX IF EXISTS "uid_clients_cli_tenant_ce4453";
        ALTER TABLE "clients_client" DROP COLUMN "tenant";
        CREATE UNIQUE INDEX "uid_clients_cli_externa_380e61" ON "clients_client" ("external_id");"""


MODELS_STATE = (
    "eJztmm1v2zYQgP8KoU8pkBlt4qRFNwzIK2p0iYvU7YC+QKWlk02EJlWSSmIU+e/jUZb1Yl"
    "mzvXiJk3xJpOMdeXzuQp7I/PICzkAY3Tpyv7235Jcn6AjsQ7Vpm3g0jgsNKDG0z4vKfpAr"
    "97VRNMA+I8o1WFEIOlAsNkwKtDkgMSgtBdGgriAk/TExQyBMaMNMglpvCSURU9oQKkL7zK"
    "l9RP+2iVTYlnDu3skWFcQOzMz4RQtHD2Vgh2disM6BvolvIqWjSR+4FANipNU2IKgwZEtG"
    "EQtAE6qA6KH9GRIFESgQAZCQGrpNOLsEEisZJoHRqeuJYD8T8I0cgPVS2Ql8/eqlXWIz3B"
    "hQgnKfhd7371bARAg3oFEPX+NLP2LAw1Isra5tcnLfjGMn6whz6hQRV98PJE9GIleOx2Yo"
    "xVSbpaMPQICiBrB7oxKMqrBsJmmQBTqdQq6SuliwCSGiCcfcQOvUgVzm+f55t+d/POn5vj"
    "eTN5lFIcITUSAF5hzD5MTZD9CF33ZetV+33+zut99YFefmVPL6Nh06B5MaOjznPe/WtdtA"
    "pRqOcQ41j0kZ7JENdT3Z3KJC17pdpZuxbMKbCRr4en9EiQgQHRlKbVo4m5bzIxi37LQ491"
    "Ov/vTWFYYRvfE5iIEZ2tf9dgPzzwcXR+8OLrb22y9wQGnXj3R5OZ+07LgmDEseBvd3616W"
    "iETJaKVgTEg3xCJf9v6PZC9RfvXy5QKYrdZczq6tDHrEwtCOsCTpstUz6oVQ4/6zLOiizT"
    "PmhTDjtr70ylGweXyYdxfCvNuAeXcWc8h0zOnYXxZ11W5dm+Y98m4vxLvdwLs9y7tYIi6B"
    "u2L2+JJ7Pbui7DMOvpBLbYpFo8cHem8RznvzMe/NULYfkuyqZvE4lJIDFfWUc6MK4r61Wt"
    "fSMZWsgXID1cNu9y/seaT1T+4EnV4F76ezwxOb3o66VWIm/QycfOdUWFP0zbdfCzXQj620"
    "gXjZtIIexYaNoJW1b1aeN0Tg+KB3UiGpk/6IGTs3fwWWtcZPmWbApV4N5azlU+bIYWA3+U"
    "iqUW2BMPdcaMbu34+IHj66uzkkKiSpApy7T2sOho4nWTYnSUuWTQmKD5tY+doJhl3Bx5Ms"
    "aODa65ydfOwdnH0obWmYy9iy46TjinRrv1JPTDshf3d67wi+ki/d8xOHV2ozUG7EXK/3xU"
    "OfaGKkLc2ufRoWjtQyaUatFPUkDleMetnyOeoPJeoZo0LYJ97nUU/P95dbREs2Ky2gDy7A"
    "d7CC4sVFdFl7yp4CmyV8KhWwgXgPYwe6Y32iIqjb3LOLrO60pw0jfJslUSbNVyVFr6fXPe"
    "XcwmIHOKRF/oVN9YvOkUWNpPs0uLymKvRLyLFF7siKZKo72zTaGVUlVNCB44MTQbcr7Ovu"
    "F/OwLHC/mGfDIveLfWVTYvg7gStQY5L2Mbmp03hVJwWQrTMWSU1+pD13wh+1F4j/oaea+7"
    "zna7t7vLZb9hTybk8f7xft+o/DHtDZ42NHLWMQ1oWlv4ardk/5W/j5c21+Bm9m4T7vc22m"
    "xJxfCc3UKDXnzhPD0/cXwN2BZ0Phmf8H1YalwLzC8/bua8XbfwBmjWuZ"
)
