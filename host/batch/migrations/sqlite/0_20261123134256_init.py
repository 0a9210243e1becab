from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "host_batch_idempotency" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "scope" VARCHAR(300) NOT NULL,
    "key" VARCHAR(255) NOT NULL,
    "fingerprint" VARCHAR(64) NOT NULL,
    "state" VARCHAR(16) NOT NULL,
    "status" INT,
    "response" TEXT,
    "created_at" TIMESTAMP NOT NULL,
    CONSTRAINT "uid_host_batch__scope_1a670f" UNIQUE ("scope", "key")
) /* One key per scope (kind, tenant, caller): in flight until `response` is stored. */;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "host_batch_idempotency";"""


MODELS_STATE = (
    "eJzdl21P2zAQx7+KlVdFYghK6RDvOuhGJWgniDYEQsZNrklUxw62I6hQv/tsJ2ke+rAybY"
    "jxLrm7v+/yu0vsvDghlwqPifLCvYEPccIVMG92BR4XvnOCXhxGYtAXmwN3kUOSpB5mjIqM"
    "aUONo1JtdWOpBPGUjpoQKkGbfJCeiBIVcWa0IwZoCjOUgEDS4wmg1jRi/i7SaxCmdpFHKA"
    "Wxc4IihiY0CkKFUqYiih4EyIQzCQ8okkgqLsDfM0l97umsEQv+0fopix5TwIoHoEIQOsvd"
    "nWPXNl6dzLm/1xc6CzyDNG5zm0zxJAJa5x5ZutaO1SyxtgFTX22geZQx9jhNY1YGJzMVcr"
    "aIjpgy1gAYCKLALK9EakCzlNK8QwX7rPIyJCuxovFhQlJq2mXUWQGlzcF4OHLxdd/F2Flq"
    "ZaGo0M9Nnqaox0CXKu3TB6aET+2DzufO8WG3c6xDbJkLy+d5lroEkwktnqHrzK2fKJJFWM"
    "Yl1EUr6lxPQyJWg10IGmx10U22BclNcAtDSbec/bfAG5NnTIEFKtS3h/v7G2D+6F2dnveu"
    "Wjpqx6Tk+mXN3ulh7mpnPkO8JGxm/BV88/APSLd9dLQFXR21lq711elOdH4Qichf7W0pN2"
    "QfkHa3swXsbmcta+Oqo5ZKs3jVp6IQvB1e7cTZxuS8CeWD7haUD7prKRvXMuVUvmKnKwW/"
    "3+1WYM43s3czxH9lvytxFueSZaAuPK8hWtX80ei+M6YbgLn9G9esHEv5SKuj2brs3dipjW"
    "e552I0/FaEV0b59GL0pcHcE2DYYLLik3ymPSqKYTX5urLB3s+le8XF//iN1g/ojxid5VOy"
    "qTWDy/6127v8XuvPWc/tG0+71pvC2mp+aRaLoJ8D9xyZW3Q7GvYtXv0nEgibsYxzbx1TE0"
    "kVx4w/YeJXTryFtaA2N2f1ybRysDSGMfGmT0T4eMnD23xd7LIrbsdNC2EksD0zcOfzX90F"
    "Y0k="
)
