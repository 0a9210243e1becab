from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "loans_loan_transaction" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "type" INT NOT NULL,
    "amount" DECIMAL(19,6) NOT NULL,
    "date" DATE NOT NULL,
    "note" VARCHAR(500),
    "created_at" TIMESTAMPTZ NOT NULL,
    "loan_id" INT NOT NULL REFERENCES "loans_loan" ("id") ON DELETE CASCADE
);
COMMENT ON TABLE "loans_loan_transaction" IS 'A disbursement or a repayment of a loan (Fineract''s m_loan_transaction).';
        ALTER TABLE "loans_loan" ADD "disbursed_on_date" DATE;
        ALTER TABLE "loans_loan" ADD "approved_principal" DECIMAL(19,6);
        ALTER TABLE "loans_loan" ADD "closed_on_date" DATE;
        ALTER TABLE "loans_loan" ADD "rejected_on_date" DATE;
        ALTER TABLE "loans_loan" ADD "approved_on_date" DATE;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "loans_loan" DROP COLUMN "disbursed_on_date";
        ALTER TABLE "loans_loan" DROP COLUMN "approved_principal";
        ALTER TABLE "loans_loan" DROP COLUMN "closed_on_date";
        ALTER TABLE "loans_loan" DROP COLUMN "rejected_on_date";
        ALTER TABLE "loans_loan" DROP COLUMN "approved_on_date";
        DROP TABLE IF EXISTS "loans_loan_transaction";"""


MODELS_STATE = (
    "eJztnF9T2zgQwL+Kxy9HZzimhEB795YLYZppgQ747mZ6c6NRbCX4sCVXloG0w3c/yY7/y4"
    "5tAsRBD6V4rV1JP63l9XrNT90hEPsHX/hP/Xftp46hi/gvWfG+pkPPS4TimMGZkzYDTtxs"
    "5jMKTcbPzKHjIy6ykG9S22M2EfZx4DhCSEze0MaLVBRg+3uAACMLxG4Q5Sf++ZeLbWyhB+"
    "THh94tmNvIsXJDtS3RdygHbOmFsilmZ2FD0dsMmMQJXJw29pbshuCktY2ZkC4QRhQyJMwz"
    "Gojhi9Gt5hrPKBpp2iQaYkbHQnMYOCwz3RlIZToAF5cGuJ4YAOgtAJkEC7h8qH44+4UYwq"
    "+Dw+GH4cejk+FH3iQcZiL58Bh1nYKJFEM8F4b+GJ6HDEYtQsYpVPTAEMXQATK64xtI5XgL"
    "agXOfAJFzjHVDOgVxi3h7MIH4CC8YDf88PD9+xqqf42uxp9GV3u81TvRJeHXQnSZXKxODa"
    "JzAn3+UosQtQCdU+qEueTPsSAFnV7ECVV+0r6zrQA6+osQHzQBPqjmPSjh9njvpu1FE8jj"
    "PkWm7UJHTjynVyBuRYoHKwPPRf8Z/byG8ulkPD0ffdk7/G3/JOTsf3dshrILMCxRxoE7Qx"
    "SQOaDIg0sXiX6ab9NV6us37h6w3szenbJOEAF0h+iyBWaJpiJcS3hOEZ8hNpcVO3YD1GUT"
    "irmEObeLKPIZEAyAx3cD/s8mknCkdtuuM6N28TW7uM8gC9rs26nCy/k0D6l64tJ+MHNtxm"
    "cPOBkeekv2j1MurUArUy56MBcz20UH8fmWofYWu+/ImBRoogcPmYKHZfuzgPoo3F3bYq23"
    "8pb5mhSJmQHI5DwFCDnTvGYdQ/FLD/dZfjeH1iV2lqs1rgFrTM8n18bo/KvozvX5rhvjFm"
    "cGoXRZkO6dFJ5nEiPa31PjkyYOtW+XF5MQL/HZgoY9pu2Mb7oYEwwYAZjcA2hlHpxjaUwt"
    "t+qBZ3Vc9bymWvVtWfWYUWbZV6PPPK4R2a5ZnX6I228kwfPay5pLOBw3SvEc16R4jqtSPI"
    "i6afDfIqiq0O4UYW0b+w1HWBJUbR/U6kwo5GXk0CWU2T+gGEdb1lJdBbnmYbgl4JKeglsD"
    "14SOGTiRN0ZZgs68a0ypJSgvATeNfWhGuCgxke/z7oHokqHFkhO2WsUnTe3tXvzyLK+ooM"
    "ch3nXLW8h03/JjdcKj64souYEn5zJ7BLVLKpOi/6I8TwcXlum+ZReOU2WdYEqV3zJN0yEd"
    "UZY13zZHW6RuW5UD5XTUazhJZMbvNVZgtsSaV1JcV1xFCdv8VlpvFTliGfEZoche4M9oGZ"
    "Ke8jFBbMqu9ciCfzBOLPWM8GPsRbE03ZAovE8K//LXrNj7kIOiu//V5Nq4mo4NXebBT2Gb"
    "VkN+TY3tKN78tVvBV3jyDJq395BaoMKlM89gklfIf6y0zz5foeg5uZa7kRrbIfYhRzIgGX"
    "45suVT7sAtSiCGi3BKom/RU9lb5ZW9GV9uUOALMteRKvTt1X1nX6su9A3/L2GtefOzar+Z"
    "mtNdr+31bwhloC3jvNbOkR424DyspDwsMjYDSsO3NG2ThCXFF6yj/vP6VH8R2EcNYB9Vwj"
    "5S1dOvkaxybdw5PVjSVZnBNbD55dIZdlFXwa6H3fvvAg4HWx3o9f6rgMPe4e35JwF98Wf1"
    "PcDr796qJLja3ftZHFpVElxKVTfJ+CXpoyel+nq4+K+V38tmReU5vkLetEmejxVU1uX69J"
    "GW/XZCI1SDWnJv08icHwrD2t6ZLVbVZL/4mlvq692BXmC9UcMq77hdeceWsZL6VLImNIIu"
    "CWQvD+vLiBIlFfasCXtal7hsphqjT1jL5Rjqk5Jn/aREheLV9HcrFC9939IqHsloqHvn+j"
    "qc+E9ZPb1SpIdsm5aIZHwqVx8yHl2PR6eTuvKQzT8QPf4PTOPLdw=="
)
