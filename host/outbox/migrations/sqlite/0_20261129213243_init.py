from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "host_outbox_event" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "topic" VARCHAR(200) NOT NULL,
    "payload" TEXT NOT NULL,
    "tenant" VARCHAR(64),
    "request_id" VARCHAR(128),
    "published_at" REAL NOT NULL,
    "origin" VARCHAR(100) NOT NULL
);
CREATE INDEX IF NOT EXISTS "idx_host_outbox_publish_0fe495" ON "host_outbox_event" ("published_at");
CREATE TABLE IF NOT EXISTS "host_outbox_delivery" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "subscription" VARCHAR(200) NOT NULL,
    "state" VARCHAR(8) NOT NULL,
    "attempts" INT NOT NULL,
    "due_at" REAL NOT NULL,
    "claimed_by" VARCHAR(100) NOT NULL,
    "last_error" TEXT,
    "done_at" REAL,
    "event_id" BIGINT NOT NULL REFERENCES "host_outbox_event" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_host_outbox_event_i_0018d8" UNIQUE ("event_id", "subscription")
);
CREATE INDEX IF NOT EXISTS "idx_host_outbox_state_e43b42" ON "host_outbox_delivery" ("state", "due_at");"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "host_outbox_delivery";
DROP TABLE IF EXISTS "host_outbox_event";"""


MODELS_STATE = (
    "eJztWV1v2jAU/StVnlZpmyBQYHsDSjtUBhNlU6WqspzEBKuOnSZOC6r477MT8k0yUlE0UJ"
    "+A63sc+9zL9T3Oq7JgLgfM4xpbfp34H5eI4GfkrJTvZ68KhRYSX8rcPp8p0LYzTtLKoUay"
    "YGAkYZrLHahz4TOHxEXCZCBXd7DNMaPCSj1CpJHpwhFTMzZ5FD95CHBmIr5Ajhi4v1fQM6"
    "JcTux6WjzNw4OwYGqgJXIDP5dDjqSfIaaAPPCwH8EcI2Kkto0N6ebbAV/Zvq2HzSHlV76v"
    "nEMDOiOeRWN/e8UXjEYAHCzKRBQ54sHyCdzx5G7lZjYkhQQEG4tdgoUnMAaaQ4/wBDsaiG"
    "0KAOPJDNwOZgAoFfjUGZWxEEt1fQJMuYQv31S10WirtUarc9Fsty86tY7w9debH2qvg8XE"
    "bAVT+ZwNr4fjmVwQEwEPskIa1j4Gchig/PjE7KfCmItDfwGd7VHI4jLxEBvNxiNkvywgoS"
    "GOSJy0hwiJBZeAIGryhfip1moldP/pTvs/utNPwus8Tfp4M6QGY5L/BN/h/2JnokPA4RhW"
    "bEQNydNBaO7sQHKnkOJOlmDIObJs8aAcx4UVJQn5d13ZF8u1960rar3ZbnYarWZUTiJLWR"
    "UJK0ZM6KaA5+i8IgwWEBpDMnTOJeYIC0MJYZeT373R4OzXdNAf3g4nY/kUa+U+kXjQPy6f"
    "COY+B9NBd5ShWCcQW8gA2qpKZUijDlgeDlMX6juV33pJ+a3nyy+Bok1CjsOcPNMztCzI5z"
    "TqTUxvOosjSOjZ4M7vIix3k8QhoZ9+du/OU+k9moyvQ/dEAPqjSS9bRBitXkVizBvLyPGQ"
    "vo8q4rfmoGo7nUQd7vA7ib5aSpr549a2OpJJmWxnDsImvUErPxhDsXBI9W3tXV4MDsIpjy"
    "we6zDjQmv8x3TgSyQIU4koiBAiFgWp3u/e9ruXA8XnW4P64wt0DJAiXo4wlWUskW9+yFKt"
    "rAVSaPrsyG3IRReFoFyzR2GqINijbNmvWs+I8g8F/l8qcM5srFfp+yLAh+beTXPbcCUahi"
    "1JXtzxJSAnwfKh+z2OKNx2AJZkdYQ4hf46ndWt5g5J3WoW5rQcSvPrILFNd3u3V8xxGnV6"
    "PNfVXS6ThFexZFRzF0q2pxHsLoTQrqhfssD3uws55KH5ziKGOdjElW6iY8THFUjRFUhOqR"
    "S30gnNHrxGwmjLXWpvg726mSICC14ClL/QOs4TNCdj1vvXHuu/EyADdA=="
)
