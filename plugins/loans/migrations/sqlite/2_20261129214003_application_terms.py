from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "loans_loan" ADD "interest_type" INT;
        ALTER TABLE "loans_loan" ADD "interest_calculation_period_type" INT;
        ALTER TABLE "loans_loan" ADD "loan_term_frequency_type" INT;
        ALTER TABLE "loans_loan" ADD "transaction_processing_strategy_code" VARCHAR(100);
        ALTER TABLE "loans_loan" ADD "loan_term_frequency" INT;
        ALTER TABLE "loans_loan" ADD "amortization_type" INT;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "loans_loan" DROP COLUMN "interest_type";
        ALTER TABLE "loans_loan" DROP COLUMN "interest_calculation_period_type";
        ALTER TABLE "loans_loan" DROP COLUMN "loan_term_frequency_type";
        ALTER TABLE "loans_loan" DROP COLUMN "transaction_processing_strategy_code";
        ALTER TABLE "loans_loan" DROP COLUMN "loan_term_frequency";
        ALTER TABLE "loans_loan" DROP COLUMN "amortization_type";"""


MODELS_STATE = (
    "eJztmm1v2zYQgP+KoU8ZkAW146TdvnmOgxptksLxNqDDQNDS2SFCkSpJNXEL//eRkmW9q5"
    "bjpFamD3nxkXckH57O5Om+W5RjJk8+6t/W753vFsMu6H+S4uOOhT1vIzSfFZ7RuBuiUbeZ"
    "VALbSrfMMZWgRQ5IWxBPEW7sM59SI+S27kjYIhb5jHzxASm+AHUHQjf8868WE+bAI8joo3"
    "eP5gSok5oqcczYgRyppRfIxkxdBh3NaDNkc+q7LO7sLdUdZ5vehCkjXQADgRUY80r4Zvpm"
    "duu1RisKZxp3CaeY0HFgjn2qEsudoVhmIXR9M0W3oylCVg1ANmcGrp6qDFa/MFP4tdftv+"
    "2/Oz3vv9NdgmluJG9X4dAxmFAxwHM9tVZBO1Y47BEwjqHCowLBMEVFdId3WBTjzahlOOsF"
    "ZDlHVBOg1xgPhLOLHxEFtlB3+mP3zZsKqn8NJsP3g8mR7vWLGZLrZyF8TK7XTb2wzaBPP2"
    "ohohqgU0o7Yc75cySIQccP8YaqbiRfieNjar0I8d42wHvlvHs53J4e3SZeuIA07guwiYtp"
    "MfGUXoa4EyqerA08F/1n9PMKyhej4fhq8PGo+9vxecBZfqFEQXID+jnKzHdnIBCfIwEeXr"
    "pgxtk+TJep/zhwN4D1fmJ3zHqDCMFXEMsamAs0W8KVhOcC9AqZvSyJ2FugzptomRcw13ZB"
    "gFTIMECejgb6h/CC40hl2K4y00bxH0RxqbDy68TtWOHlfFofqRri0tKfuUTp1SNNRh+9C+"
    "LHhZaWoC1SznqwFiviwknUXvOofcDuO5iOMjTh0QPb8HCInPlCQhBd62KttvJ/5msLMCtD"
    "WBXzNCCKmaY1qxiafxoYZ/W3OXZuGF2u97gC7HR8NbqdDq4+meFcqaNuhNu09ALpMiM9Os"
    "/cZzZGOn+Pp+875mPn8831KMDLpVqIYMS43/SzZeaEfcUR4w8IO4mLcySNqKV23fecHXc9"
    "rdnu+qHsesQose3r2Seua7woapanH6L+e0nw/OxtTSUczrZK8ZxVpHjOylI8INz48F/jUF"
    "WivdMJ69DY7/mEVYCq7kWtykSLPI8cu1wo8g2bedRlXajbQq64DNcEnNNr4VbAtTG1fRp6"
    "Y5gl2Jl3hal2C/JboE0zie0Ql+A2SKmHR2ZIBYulJuzUOp9sa+/1nV+e5RWVTYm5Fdd605"
    "rSaTOcBU6vHdPx7ZpY00ot1zVXUx0wvy98lR06Yh7xJRdAFuwDLAPSYz0nzOyisBBakCfD"
    "jaWGEV5FXhRJ4ygm8MOmpiL9zJo0I1AIc8QTfcOcjIdTq8iDn8I2LjT5FBt7pXjTz24JX+"
    "PJM2zfP2DhoJRLmxbe4xnJpm++ye25WQlmeBEAMisx887zLy4DSuzOFtVAKOEZbVVQoyLp"
    "cae8Kij4W+MYFvXfT4HKay8Eknf6NozqMk5rvTrS/S0490sp93MnWV+IIKVT90aRU3zBoq"
    "s/by+sF4F9ugXs01LYp22p1VPfwu3ykt4l5ut2N9I53SfTPrDL8d5h68dlZ9hZ3RZ2NezG"
    "FxF2ewd90Gt8CWG3cXgbXj/YFH9uiwd/fvRu64fK3b2ZlSRl9UO55Gt5DiuTWsp7xh9rtc"
    "sPEwjfn1UmDRu4+WXZwtX+83ur/wD2ogEg"
)
