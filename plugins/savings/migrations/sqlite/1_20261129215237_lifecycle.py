from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "savings_savings_transaction" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "type" INT NOT NULL,
    "amount" VARCHAR(40) NOT NULL,
    "date" DATE NOT NULL,
    "running_balance" VARCHAR(40) NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "account_id" INT NOT NULL REFERENCES "savings_savings_account" ("id") ON DELETE CASCADE
) /* A deposit (1) or withdrawal (2) on a savings account (Fineract's m_savings_account_transaction). */;
        ALTER TABLE "savings_savings_account" ADD "approved_on_date" DATE;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "savings_savings_account" DROP COLUMN "approved_on_date";
        DROP TABLE IF EXISTS "savings_savings_transaction";"""


MODELS_STATE = (
    "eJztm21v4jgQgP9KlC9HpR5qKeru7TeOUi3aa7uC3K20p5NlEhesJnbqOG3Rqv/9bCchzh"
    "sQmnahm0/AxOOXZ8bOjG1+mAF8wGQedKfR58C2aUi4+cn4YRLoIfGlqsixYULf1wpICYcz"
    "V1cCySfUtGYBZ9CWjdxCN0BC5KDAZtjnmBIhJaHrSiG1RUGhnYpCgu9DBDidI75ATDz49z"
    "8hxsRBTyhIfvp34BYj18mMAjuybSUHfOkr2ZjwS1VQtjYDNnVDj6SF/SVfULIqjaPuzxFB"
    "DHIkq+cslN2XvYsHnowo6mlaJOqipuOgWxi6XBvuDKQyE4DrGwtMRxYAZg1ANiUSruhqoE"
    "Y/l134vXfa/9D/eHbe/yiKqG6uJB+eo6ZTMJGiwnNtmc/qOeQwKqEYp1DRE0eMQBeU0R0u"
    "ICvHm1PLcRYDyHNOqGqgY4x7wtmDT8BFZM4X4ufpyckaqv8MJsPPg0lHlDqSTVIxF6I5cx"
    "0/6kXPJPoU9Qy6kNioiPkC2diDbjlpTStH2YnUurH6FsQLrp0IUubpfE4An7wS8TWAL0bD"
    "8dXgr87pH8fninBw72KOdPb9Al5CPSw9EhISSsckwkNRwIHkUZP5pqp+jiFe0fubtkXAIQ"
    "+DGst1qrB5yW6Kp5iie71oazjDmYe5GD0QZJxyfxbSCrRlynkPFmKOPdRNntdcuvfYfQfW"
    "KEdTBC74Ae5Is1T5l6bp+4w+7AizRPdXZkkZnmMC7tCyTiyW1WpDsS1CMZshNYchL3dX6X"
    "HlsLOa65xVfjnAUMAUA3RuiLuMrb4GvjW+Gk2twdVX2ZwXiMAg8Wv5pKeky5y0c56z06oS"
    "49vY+mzIn8b3m+uRwksDPmeqxbSc9d2UfYIhp4DQRwAdzUETaUItY/XQd3a0elaztfq+WD"
    "1hpJk97r02112MCC/NbyvD0YzO20Wke7+PkFIVL24ntGtizSq1XGOucsfr9q50eyZyxCLi"
    "S8oQnpMvaKlIj0WfKnYJohqC7nBV04ERfk68KJGmqz2Dj6t9wuyclQElclGUp07EEjIZDy"
    "2zzINfwja3r/o1rfGdMs5O4ArI0p1n0L57hMwBFX4tWiGBzKVEi0UL/BlrX36ZIBeqwWyE"
    "b6U1viMDKJi0RzWIGbzFR17Py0sggXM1JNm2bKnCb9ccGWiuXePIQJti7ZHBQb2SjtccGa"
    "jPAtbq/DQpv1NmumdoXz81DRaUcVCXcVbr3ZHub8G5X0m5X0j/Q8YQsZcCoFMLc0GxGdLb"
    "vHzMv6cX5pvAPtsC9lkl7LP2XKbxsKCxcxmBDzB0H2ImN119RETjYLdzyU1VvdgWB7STu4"
    "sp2i3I6uXoMDejqrYgC+n9NglSfNumoeRIu/FzYL7wUxMjPadckxzlUs8aCRLPaW5KksyB"
    "4SDhkpgbndMjgzLjEfOFI3J06BqdnpAQAxpx7UbsQ0bnEkub2/y3wPDy97n0Phx1zZxR3q"
    "TBNsHbrwRPodkea1K83c8t2SeHXrLw1oitUqU2ot0QRtW9ctDQNYNDwlq8Z8BC8oLIv0S7"
    "ddM22m+j/cKFgyTiqRWlZJXal+rmQ1LtnwkNneS9v3zpOHeSl/WyzEnecDAdDi5G6w7ymk"
    "++nv8H1Wx0wg=="
)
