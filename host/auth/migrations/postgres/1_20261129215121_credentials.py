from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "host_login_failure" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "username" VARCHAR(150) NOT NULL,
    "address" VARCHAR(64) NOT NULL,
    "failed_at" TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS "idx_host_login__failed__493642" ON "host_login_failure" ("failed_at");
CREATE INDEX IF NOT EXISTS "idx_host_login__usernam_ff4b6c" ON "host_login_failure" ("username", "address");
COMMENT ON TABLE "host_login_failure" IS 'One failed password check, for the login throttle (API and admin UI share it).';
        CREATE TABLE IF NOT EXISTS "host_revoked_token" (
    "jti" VARCHAR(64) NOT NULL PRIMARY KEY,
    "subject" VARCHAR(150) NOT NULL,
    "expires_at" TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS "idx_host_revoke_expires_63b46f" ON "host_revoked_token" ("expires_at");
COMMENT ON TABLE "host_revoked_token" IS 'An access token logged out before it expired (by its `jti`); dropped once it has expired.';
        ALTER TABLE "host_user" ADD "token_version" INT NOT NULL DEFAULT 0;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "host_user" DROP COLUMN "token_version";
        DROP TABLE IF EXISTS "host_login_failure";
        DROP TABLE IF EXISTS "host_revoked_token";"""


MODELS_STATE = (
    "eJztmetz2jgQwP8Vjb8cmWmZhAu0k2YyAymdcJdAJyHtTR/jCFuAipFcSU7C9PK/30rG+M"
    "WzBzRl+JLg1a4k/9beh/XD6nOpilWf/k1G1gn6YTE8JPAjJX+BLOz7kVRfKtzxJmo29qk9"
    "GOt1pBLYUTDWxZ4kIHKJdAT1FeVMW1TREDt9yghyBHEJUxR7J+ju1BekSx/PiqeSwIA6u3"
    "uDOPNGSPUJCkV/SHRzUX1ZKlcQlUgqDvZFvajLHViVst6G5g8Y/R4QW/EeAW0Bq3z+CmLK"
    "XPJIZHTpD+wuJZ6bwkhdPYGR22rkG1mDqXdGUW+9YzvcC4YsVvZHqs/ZRJsyQ7xHGBFYET"
    "29EoEGywLPG/shYh3uNFYJt5iwcUkXB552j7YONxDLLNtuttr2Tb1t21bOdZFFgvZY5HCm"
    "3Q5blebue3oLL0tHx6+OX/9ZOX4NKmabE8mrp3DpGExoaPA029aTGccKhxqGcQzV/M9hPe"
    "9jMZ1rpJ8hC1vOko04zkMbCWK28ZO+DbhD/Gh7hPVUHy6PDg/noPxQvT6/qF4XQOtAL8nh"
    "1Qzf2+Z4qBSOad4x3/BVWYVwbLEexr/28U0TriwDuDKbbyWLN4w2dh/L/iqMM2Y7+DBXjp"
    "dAXTmeiVoPpVEL7sEUOch/3bSa0yFPDDJ4Xeoo9C/yqMxF43Vhtk67AXM0QdQJqKcok0W9"
    "3pm1IfhzYGtAeuahlN+9JOTCVfWfLP/zy1bNIINaoCfMLGaCWsYZUBbQ+ymBu8YBOmbTHR"
    "IbZTzSAatNuSKKNtuFXmu1LlPQa412BvXtVa0O0cZ4AJSoIsmMGaOGSKGR2Fjlcb+FEUWH"
    "ZDrvtGX2LRibFqMfv2PIgRt0W1D5jf08xyHtxlX9pl29ep/yyttqu65HSkY6ykgL2UwwmQ"
    "R9bLQvkL5En1rNevaNmei1P1l6TzhQ3Gb8wcZuIgFG0ojak648u4NEmaQFHewMHrBw7dwI"
    "L/FZuvmhYWmYlWCGe8ZnGq7epukTLnmPsneYeoEgVq6LSI0u6iU8rWx3E9oLO4oW1PragL"
    "jIx1I+cOEip0+cwQvU5cIU+GZW+CW4Uh5Bher7BsLMRdgdgvy2gSSkXYKoOsg3FOuffnE/"
    "8dkKJBFR3QpPADwk0vq6bzO22WYkXbBskZa02cEK7ai8VLtRntNulHPtRvR4r4A5YbKDlN"
    "dfB4fx6yfKgZThdqqBbYaQ3yT5R5CeZ/a/Jvd8QNw2/GH57J8aXZT9RagMqTHSXvw9kSHs"
    "OBAMkDHSuRj2iHigUIdAgtZpF5FHnwqQFjojuJTo7puidwdvkCu472tt5hg9aK4j3SlfFj"
    "e10hf2hTWYqSR0MupgfZ+MKwTFA0a+4HrRE0TuiYBJ4QHGehJdU8DO9GSCdCHxSDOD2dv/"
    "/WwJm14lHI/Vd+7bz7oC8ewaQwadb8SZEpbnfAeKTXYw922kwghfNPkT+S9tuU+A+wQ4JQ"
    "HeShNdM4nPSBclvCBSWpTnZnt0fzq1bxufG+LNh/ToU8zKxyg5wx1MoqVyeQnioDWTuBnb"
    "n6Xsz1L2Zyn7s5TZUWe3zlKSXjdttA0dt9RMlq+ScnaLC6Z1OfrwGRdMv7ROf/oPw7l0Rw"
    "=="
)
