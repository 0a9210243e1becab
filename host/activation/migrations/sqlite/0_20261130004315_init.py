from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "host_activation" (
    "instance" VARCHAR(200) NOT NULL PRIMARY KEY,
    "state" VARCHAR(16) NOT NULL,
    "generation" INT NOT NULL,
    "serving" JSON NOT NULL,
    "attempted" JSON NOT NULL,
    "error" TEXT NOT NULL,
    "aborted_at" TIMESTAMP,
    "changed_at" TIMESTAMP NOT NULL,
    "rolled_at" TIMESTAMP
);"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "host_activation";"""


MODELS_STATE = (
    "eJztl2tv2jAUhv9KlE+dtCFgiFbTNIlStjIVqEq0VZ0my0lMsHDs1DlpQR3/fXbIhYSLSg"
    "Udmvotec859vHz2rk8mWMRAsIO0AcMVPBKK7s0PxlPJsc+URfb0t4bJg6CNUk6Athm6waI"
    "q+wQpJJUeIRZSJTkktCRNEim5xFjWhSOSqTcy6WI0/uIIBAegTGRKvDrt5Ipd8mUhOltME"
    "EjSphbWAnlIWDuEN1BHEUwC+JIe4zl1zhfT2ojR7DI5+WaYAZjwbMi1ZlWPcKJxEDcpcXo"
    "XpPlp9KibyWAjEjWsJsLLhnhiMHS4m2UayZC/YGFhh0LIXMHXI7gGjXlEMYsfDxFjHAPxu"
    "q2Xq3OFxPlOBZpesYfrZv2ZevmRGW901MK5djC0X4Sqi9i83gQDHgxTGxCTl3xg52QZwX7"
    "4Z0KOfB8y7068VrzGcBrzY28dUjjzvEmOJKDVWTc5bAecbGoxFl1fijO1UNB9nQHH+q1xm"
    "nj7GOzcaZS4i4z5XQL927fKkENiXzQ860Q/T4c9Dfs2rykxNOlDhh/DEbDg3E1P48i7mhq"
    "hh1RBuqpVdHzfTEPBHwLTY1Ij+yH4T1b3r0nvdZteWO3rwbnMTL1jvBkPEo8wHnJEAxA/E"
    "BD28GSQtGbKXs3hUgp5KohFplueOxkBa/3ZDf/AWyrc2tth+3PksjVoP8tTS87UDoBtpAK"
    "DcKwSvxCQQPqkw3HoFBZPgdJaSW9eIYRyQfLsbxhtznR7XWGVqt3XbDjomV1dKResCJVT8"
    "pv32wQ42fXujT0rXE36HfKRyTLs+5M3ROOQCAuHhF2l5mkcioVXHbGmHsvcrlYuQeXj+1D"
    "6n+yWQrGXuRyofDtKB+bx/rXczRZ+g3Sgo2dySOWLlqJiLrYlLsa8ut+WcEce7FJmuZ8/h"
    "dUjg4X"
)
