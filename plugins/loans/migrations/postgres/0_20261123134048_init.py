from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "loans_loan_product" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "name" VARCHAR(100) NOT NULL UNIQUE,
    "short_name" VARCHAR(4) NOT NULL UNIQUE,
    "currency_code" VARCHAR(3) NOT NULL,
    "principal" DECIMAL(19,6) NOT NULL,
    "min_principal" DECIMAL(19,6),
    "max_principal" DECIMAL(19,6),
    "number_of_repayments" INT NOT NULL,
    "repayment_every" INT NOT NULL,
    "repayment_frequency_type" INT NOT NULL,
    "interest_rate_per_period" DECIMAL(19,6) NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS "loans_loan" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "external_id" VARCHAR(100) UNIQUE,
    "loan_type" VARCHAR(20) NOT NULL,
    "principal" DECIMAL(19,6) NOT NULL,
    "number_of_repayments" INT NOT NULL,
    "repayment_every" INT NOT NULL,
    "repayment_frequency_type" INT NOT NULL,
    "interest_rate_per_period" DECIMAL(19,6) NOT NULL,
    "status" INT NOT NULL,
    "submitted_on_date" DATE,
    "expected_disbursement_date" DATE,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "client_id" INT NOT NULL REFERENCES "clients_client" ("id") ON DELETE RESTRICT,
    "product_id" INT NOT NULL REFERENCES "loans_loan_product" ("id") ON DELETE RESTRICT
);"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "loans_loan";
DROP TABLE IF EXISTS "loans_loan_product";"""


MODELS_STATE = (
    "eJztmttu2zgQQH/F0FMWSINaMdJu37yOgxptksJRW6CLBUFLY5sIRaoU1cQo/O9LStb9Us"
    "tN0yjVQxJrOEMOD4cjmpPvBuWY+Sfv1W/jzeC7wbAL6kNWfDwwsOclQv0s8YKmaojGagtf"
    "CmxL1bLE1AclcsC3BfEk4bp/FlCqhdxWioStUlHAyNcAkOQrkGsQquHf/5SYMAfuwY8fvV"
    "u0JECdnKvE0WOHciQ3XiibMXkRKurRFsjmNHBZquxt5JqzRJswqaUrYCCwBN29FIF2X3u3"
    "m2s8o8jTVCVyMWPjwBIHVGamu0CpzEDo6tpCN1MLIaMFIJszDVe56oezX2kXXpjD0avR69"
    "Oz0WulErqZSF5to6FTMJFhiOfKMrZhO5Y40ggZp1DhXoJgmKIqupM1FtV4C2YFzmoCRc4x"
    "1QzoHcYnwtnF94gCW8m1ehy+fNlA9dN4Pnk7nh8prb/0kFzthWibXO2azKhNo89vtQhRC9"
    "A5o4Mwl+I5FqSg002cUFWN5BtxAkyNRyFu7gPcrOdtlnB7anSbeNEE8rjPwSYuptXEc3YF"
    "4k5keLLr4FfR/4Vx3kD5fDqZXY7fHw3/Pj4LOftfKZGQXYBRiTIL3AUIxJdIgIc3Luhx9k"
    "/TdeY/TtwdYP0wuTtlnSBC8A3EpgXmCsuecCPhpQA1Q2ZvajL2HqjLXfTMK5irfkGAL5Fm"
    "gDyVDdQP4RXHkca03dRNn8V/kMV9iWXQJm+nBo8X0+pI1ZGQ9oOFS6SaPVJk1NG7In+cK2"
    "kN2irjYgQrsSQunMTtLY/aTzh8x9a0QBPuPbA1D4f4i0D4EGbXtlibe/mT+doC9MwQltU8"
    "NYhqpnnLJob6QwfzrHqbY+ea0c1ujRvAWrPL6Y01vvygh3N9lXVj3LrFDKWbgvTorPB9Ju"
    "lk8HlmvR3ox8GX66tpiJf7ciXCEVM964uhfcKB5IjxO4SdzBfnWBpTy6164DkHrnresl/1"
    "p7LqMaPMsu+8z+x1SnTaa3WVlrPpj7AV73tPcCewW2LNG/Vcd1z19e/ytvKuMgrEMuILLo"
    "Cs2DvYhKRnyifM7Kr3etSDfzJJeuoY4W0cRbE0zfYC3yWX5vk9q8+RQCH6EjBXKWQ+m1hG"
    "VQT/DNu0kvAh7eyZ4s3v3Rq+OpIX2L69w8JBuZDWLdzkBUmiW25yTbcowQyvQkB6JtrvMv"
    "/qOk9mdfYo96BMZPRln05l0uOGsk/4t4S1vgwR6z9MBeK5V3r8NRcStWWct3p2pEd7cB7V"
    "Uh4VGduBEOHlqs2dVphLho9YVft4c/445bTTPWCf1sI+7Wtpv+MW1iX6dXsY6ZLtT9Pu0J"
    "3WQbDVdjkYdtG2h90Mu/NV4qH5pA96na8RDzuHt+MF4q7Ec18d/v3Zuy8Q1Yd7N0sFdQWi"
    "0uVr/R1W4WqpHBn/7Mwu3s2B4hBsOQby/37cscWvuy3cPvz93vZ/yaO8tw=="
)
