from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "host_admin_session" (
    "sid" VARCHAR(64) NOT NULL PRIMARY KEY,
    "username" VARCHAR(150) NOT NULL,
    "created_at" DOUBLE PRECISION NOT NULL,
    "expires_at" DOUBLE PRECISION NOT NULL,
    "revoked_at" DOUBLE PRECISION
);
CREATE INDEX IF NOT EXISTS "idx_host_admin__usernam_4b6f71" ON "host_admin_session" ("username");
CREATE INDEX IF NOT EXISTS "idx_host_admin__expires_02ae5b" ON "host_admin_session" ("expires_at");
COMMENT ON TABLE "host_admin_session" IS 'A signed-in admin UI session. The cookie (signed) names it; this row says whether it is';"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "host_admin_session";"""


MODELS_STATE = (
    "eJzdl+9v2jgYx/+VR3lFpQ51jOumu1esZTekFiaa7ab9UGTiJ4lFsDPboUVT//ezTUICFA"
    "a70euQEEoeP48f5+PH9tffvUQoHRA6YbzZsf83qBQT3PsTvnucTNA8bPQ5BY9k2bKHNWoy"
    "SlcCA1WLGSktSaiNR0RShcZEUYWSZXqe2euAYjFH+oxxcOHwvgdFD03wE4RQiDFDaMz9Ts"
    "AOVQHTf4FOmAIpbkGRmYLbBHWC0rQAUzY5FaHJznh8wDxfuNIsTSEWgp6CEkAgFbHINQhu"
    "fgiWCzDjRXiIYPvBKFdIbTtOUc5A2N5OgXAKKpdTNkXrZAKkVk37HTln33IMtIhdYvM1n7"
    "8aM+MU71CVr9k4iBimdGk6FaO2B9cQ6FnmjBcJkW+cq4U0CkKR5hNec89mOhF84W8gWmuM"
    "HCXRSGuTyfM0LSqgNM1Hawxa5rgYJq0MFCOSp7YkbPR8CJXNC4L+wA9uun4QeGvlUkbUZr"
    "YwhYLbUmNcK0dgQu6CFHmsE/N63r6f56lAzL1swg+d4cXbzrBx3j6xCYWp13lJ94uWlmu6"
    "d10QTeadOO4VaDOl0j3vQbse82uQl4anwPz5H2c7QDdeG6m7Nou9whxKtDgCotdBv0kF0Q"
    "+TXg5bYR3ZuF9Du9rjHgH3FrqXg/evr7rwbti96N30Bn2bZTJT39Kq0ZqMgWnHYNjtXK2g"
    "xruMmW1oX9TLYYdD/ZiFfWDSEqdivH9RL4f9JOkC4xHXtD0bo3Ft07aGEQnHt0TSYK1FtM"
    "Qm3/WmSWuyaiGcxI6b/UD7OTVFNTS6AD+g3Ka6lnz2UV3SBgbTWuQPtdfA6JMiAERkpIvr"
    "QzUpRCxFIEbrSKY1chjNjAjCSjg1hIRI5NzJGMrUGEYYCYknzTXhdagk/0EVPSSKenzDMn"
    "tQEpl6XV1cxUp6uoootkN41nreftl+9eK8/cq4uGEuLC+3rL5e3/+BArKFuof4KdyPUPec"
    "7aR7zrbonrN13SO4WSEPnA8+3m3SPFXIoSA/laPB73703XGgiuOgZNm47nw8WToorgb9v0"
    "v3GvuLq8HrFeQJUck+BV36HwXsw1yfaptFbiDJvfaLRcQRAj7IXckc/YUS2JnxIuIIGbd2"
    "QdzaTLi1BpgLvdd9v/R/PLie90hod2O7De56+WZZyjbcii4NJ80muFFa1CJXaNMitFk+/I"
    "6FLZHQAU9nhdDZdjT2rrs3fuf63dL5eNnxu7altXyJKqyN85V5WnQC//T8t2Bf4dOg7+5b"
    "mbmBxNJlrPz8T54dk9mzRcDFrbmh1DRZaS2p/b83tPt/AXqebYY="
)
