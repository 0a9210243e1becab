from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "savings_savings_product" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "name" VARCHAR(100) NOT NULL UNIQUE,
    "short_name" VARCHAR(4) NOT NULL UNIQUE,
    "currency_code" VARCHAR(3) NOT NULL,
    "nominal_annual_interest_rate" VARCHAR(40) NOT NULL,
    "min_required_opening_balance" VARCHAR(40),
    "created_at" TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS "savings_savings_account" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "external_id" VARCHAR(100) UNIQUE,
    "balance" VARCHAR(40) NOT NULL,
    "nominal_annual_interest_rate" VARCHAR(40) NOT NULL,
    "status" INT NOT NULL,
    "submitted_on_date" DATE,
    "activated_on_date" DATE,
    "origin_key" VARCHAR(100) UNIQUE,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "client_id" INT NOT NULL REFERENCES "clients_client" ("id") ON DELETE RESTRICT,
    "product_id" INT NOT NULL REFERENCES "savings_savings_product" ("id") ON DELETE RESTRICT
);"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "savings_savings_account";
DROP TABLE IF EXISTS "savings_savings_product";"""


MODELS_STATE = (
    "eJztml9v2jAQwL8KylMndagF1HZ7Y5SqqCutINukTpNlEhMsEjt1nLao4rvPdhLynxJKO+"
    "h4As539vl3Z8e+8Kx58AETy6sPg8+2YVCfcO1r7Vkj0EHiS5nKYU2DrptQkBIOR3bSCESf"
    "MGE18jiDhhxkDG0PCZGJPINhl2NKhJT4ti2F1BCKwjoW+QTf+whwaiE+QUw0/P4jxJiY6A"
    "l50U93CsYY2WZqFtiUYys54DNXyXqEXyhFOdoIGNT2HRIruzM+oWShjQP3LUQQgxzJ7jnz"
    "pfvSu3Di0YwCT2OVwMWEjYnG0Ld5YrojEMs0APo3Ohh2dQC0CoAMSiRc4aqnZm9JFz43jl"
    "unrbPmSetMqCg3F5LTeTB0DCYwVHj6ujZX7ZDDQEMxjqGiJ44YgTYootuZQFaMN2OW4Swm"
    "kOUcUU2ADjFuCWcHPgEbEYtPxM/jo6MlVH+2B53L9uBAaH2SQ1KxFoI10w+bGkGbRB+jHk"
    "EbEgPlMZ8jAzvQLiadsMpQNgOzemi+AvFcakeCmHm8niPAR29EfAng826nd93+fnD85fBE"
    "EfbubcxRkn0rh5dQB8uMhIT4MjGJyFDkcSB5VGT+Ulf/JhBvmP2bjoXHIfe9Ctt1bPDylr"
    "0pnmKJbvWmncDpjxzMxeyBIGMW57OQlqAtMs5msBBz7KB61F5x697i9G3r3QxNcXDBD3BN"
    "moXG/zNNyrCFCZiiWZXzQ9pqf3xY4fhgMKTyDvLifJUZVww7bbksWeWXHXx8aWKC5g2xZ2"
    "HUl8DXe9fdod6+vpXDOZ54mEV5LVsaSjrLSA9OMnFadFL71dMva/Jn7e6m31V4qcctpkaM"
    "9fQ7TfoEfU4BoY8AmokEjaQRtVTUfddcM+ppy33UtyXqEaNE2EPvE2vdxojwwjtZ6REqZf"
    "N+p6itv/vGVF1GTd+oiDVttOcacpVVmvG0sKQQJGIe8QVlCFvkCs0U6Z7wqeRmG/Tg1TuL"
    "nnaM8DzKokga7/YMPi5qW+k1Kw+UyEbB3WogtpBBr6NrRRn8GraZWuBt3OMHZZxewCWQZT"
    "qPoDF9hMwEqbyWLbRBM5KFbr7JaThZCSTQUoDkTKTfJUFYUrNNxKlCzTaRL/ua7U7tr4dL"
    "arbqM4e1/LIV6a91zdoytG9/z/ImlHFQlXHa6sORbq3AuVVKuZW7y/qMIWLMBECzEuac4W"
    "ZIr/Io034Mz7V3gd1cAXazFHZzXxjf+CFjY4VxgQ8wdO9jJiuILiJicLDei6GXunp1LHao"
    "LLlOKPb1tPLtaDcrK2X1tNxdtfy0n3xLoP7uUPAS61toeXE1QDZUbAseRKV/udixXCi7Zs"
    "03fzGa/wU+WkDD"
)
