from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "clients_client" ADD "tenant" VARCHAR(64) NOT NULL DEFAULT 'default';
        CREATE INDEX "idx_clients_cli_tenant_01d1ed" ON "clients_client" ("tenant");"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP INDEX IF EXISTS "idx_clients_cli_tenant_01d1ed";
        ALTER TABLE "clients_client" DROP COLUMN "tenant";"""


MODELS_STATE = (
    "eJztmm1v2zYQgP8KoU8pkBmt46RFNwxwEgc1usSD621A10GlpJNNhCZVkkpiFP7vIynLsl"
    "6s2Z6dxom/JNLxjjw9dyGPZL47PiXAlGxc2N/Oe/TdYXgM+qHYdIwcHEULDUaisEcXlV0/"
    "U/akEtg3fYaYStCiAKQvSKQIZ8amjSIQkjMkQdxBgLwJUiNAhElFVGy03iOMQiKkQpgF+p"
    "li/Wj8O0ZcmLaYUvuOjjBDemCiJq8aZvSA+3p4woa7HOgL+8ISOhJ5QDkbIsW1tgKGmUJH"
    "PAyJDxJhAUiO9M8ACQhBAPMBBVjhY0TJLaBI8CD2lUxcjxn5FoOr+BC0l0J/wN//aDFhAT"
    "yATF+jWzckQINcyEhgOrByV00iK+sydWUVDRXP9TmNxyxTjiZqxNlcmyTBGwIDgRWY7pWI"
    "TfCYRjCLdhrPxNNMJXFxwSaAEMfUpICxThzIZI7r3vQG7qfOwHWdUnqkFguBnIl8zkxqEZ"
    "OD5uuHxoWfmm9ab1vvTs5a77SKdXMueTtNhs7AJIYWz83Amdp2HY9EwzLOoCbRLIO90BGt"
    "JptZFOhqt4t0U5Z1eFNBDV/nlzBmvkGHRlyqhvmahvXDnzT0Z1HqJl796uwqDGP84FJgQz"
    "XSr2etGuZ/tvsXH9r9o7PWKzMg19NEMovczFqatsmEJQuD/fO0L2tEIme0UTBmpGtikc1u"
    "j5HsOcpvXr9eAbPWWsrZtuVBj0kQ6BHWJJ23OqBeCbVZZtYFvWhzwLwSZrN6rz1zLNg8P8"
    "wnK2E+qcF8UsYcEBlRPHHXRV2029Wi+QN5t1bi3arh3SrzhgcFgmHqVpV9y3EXzLaS3D+2"
    "AHyENZF7hILL+FpL4qLR85tDTlfhfLoc82mJst4tkruKqeOccwqYVVPOjAqIPW21q4ljLt"
    "kB5Rqq573eb6bnsZTfqBV0BwW8f1yfd3R6W+paiahkEzjb5RRYY+Obq/cKFdAvtbSGeN60"
    "gN6IFRlDI23frzyvicBle9ApkJSxNyZKf5u7ActK45dM06dcboaybPmSOVIY6iU+5GJcWR"
    "4sPRUq2f33AdHTR7edI6KFJBVgvt3FFcdCl7MsW5KkOcu6BDUP+1j36g8MeoxOZllQw3XQ"
    "ve58GrSvf88taSaXTUvTSicF6dFZoZ6Yd4L+6g4+IPOKPvduOhYvl2oo7IiZ3uCzY3zCse"
    "K6NLt3cbBQr6bSlFou6nEUbBj1vOUh6k8l6imjhbDPvM+inhzirzeJ5mw2mkCfXIC3MIOa"
    "a4vwtvKMPQFWJnzFBZAh+wgTC7qrfcLMr1rc09uq3rynPSM8TZMolWazksD388uefG6ZYg"
    "coJEV+X6d6v3uhURvSHvZv77EI3Bxy08KbvCCZ65abxs1xUYIZHlo+5kOM2wX2VZeIWVhW"
    "uETMsmGVS0RP6JQY/YzgDsQEJX3MruOkuY/jDNDRNQm5RF+TnrvB18pbwv/R0+HS7mld2q"
    "17Brnds8fnfhx2OHl8NNQ8AqZdWHs3XLR7yXvhw3ZteQbvZ+G+bLtWKjGXV0KlGqXi3Hlm"
    "ePWxD9QeeNYUntm/Se1ZCiwrPKfbrxWn/wJmjmJe"
)
