from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "clients_office" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "name" VARCHAR(100) NOT NULL UNIQUE,
    "external_id" VARCHAR(100) UNIQUE,
    "opening_date" DATE,
    "created_at" TIMESTAMP NOT NULL
) /* A branch; every client belongs to one (Mifos `officeId`). */;
CREATE TABLE IF NOT EXISTS "clients_client" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "firstname" VARCHAR(100),
    "middlename" VARCHAR(100),
    "lastname" VARCHAR(100),
    "fullname" VARCHAR(300),
    "display_name" VARCHAR(400) NOT NULL,
    "external_id" VARCHAR(100) UNIQUE,
    "mobile_no" VARCHAR(50),
    "active" INT NOT NULL,
    "activation_date" DATE,
    "submitted_on_date" DATE,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "office_id" INT NOT NULL REFERENCES "clients_office" ("id") ON DELETE RESTRICT
) /* A person served by the institution. Either first\\/last name or a full name (an entity). */;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "clients_client";
DROP TABLE IF EXISTS "clients_office";"""


MODELS_STATE = (
    "eJztml9v2zYQwL8K4acU6LLWcdpie3JSBzW6xIWrtUCHgqUkSiZCkypFJREKf/fxKMv6a9"
    "XOkixO/RTzeEcef0eRx0N+9DzOqNDx4an92/sD/egJMqfmR73rOeqRKCp1gEQTl5eVsVco"
    "u7FWxIMxA8JjakQ+jT3FIs2kAJshiqiKpUAxVVfUR26K9IwiJmLNdAJah2jEjEihgKlY/8"
    "5JrBG4h6RCBAUJ51nzgAhkpmU6fXYIc/vSM5MzEd7vNIlg3xOKtQwpmJvJ/vlqxEz49IbG"
    "eTO6xAGj3K/AZT4MYOVYp5GVjYU+s4qwAhd7kidzUShHqZ5JsdJmGeaQCqqIpjC8VglgFs"
    "bhZVxy8pmnhUrmYsnGpwFJOAQLrDMHClkP44uJgz+OHIx7jUDmFiXoS5EnBWwCBrsFVh+C"
    "C7/1Xw5eD94cvRq8MSrWzZXk9SKbugCTGVo8F05vYfuJJpmGZVxAteGzjQbb0xlR7XArRj"
    "XGxvk645xoCfIS4YpxrlJALj6Ah6A8JzeYUxHqmWm+fPGig+mn4fT03XB6YLSewZTSfLHZ"
    "B32x7OpnfQC+AD1nvm9m2JJ01WqPeiPUcBhtC7pss8e8EWY45Lc+OUo2Tw/z0UaYjzowHz"
    "Ux+yyOOEnxtqjrdrfC3bgMHxXvwUa8Bx28B03e9EZTJQjHbfnGetw1szvZ3P9v5vEAd6J0"
    "GadYyK2uxLLR0ztDjjfhfLwe83GDsnlQsKuWo+NESk6JaKdcGNUQu8bqvg6OleQeKHdQPZ"
    "lM/oKR53H8nVvB2Knh/fv8ZGS2t6VulJjOXh/L9LrGmoBv2KTcLdDfGmkH8appDT2INZvT"
    "w7x/t/Z5RwTeDp1RjWScuHOmzdrwLVi2Gv/KND1FYWWY6HaMAKIdZdWyiyH82MWUwizQnw"
    "ieLmPcAdYZn48+OsPzD5XTAnBDT99K05r04FXtqF4Ngj6PnXcImujL5GJk8cpYh8rOWOg5"
    "X3rgE0m0NLfeNSZ+KRXIpTm1StSTyL9l1KuW+6g/lqjnjEphX3pfRF0GAfNoa/q6tlxWsf"
    "l51WwXAnwHhTMoRQaXrXWzDFiT8JlUlIXiPU0t6LHxiQiv7f7Ja8WT1Ug7RniRb6JcWpxK"
    "ilyvCrjVvQX3MeU0y5+mZqtPx6cGNZB2iXd5TZSPK8ihR/ZlTbLSbXbN+/O6hAgSWj6wEH"
    "C7xr6thF+EZYMSfrEbNinhu8psidmfiF5RlaJsDORSLkUYIy2RFBQdnLNAxuhbNvLY/9Za"
    "pf8PI+0L8Y+rEL9teeduyzpPvdKwL+o8GGoZUWFc2PrNVrfbP9f2z7Wnk7ive641Usz1mV"
    "AjR2kp6S0Nz95PKbe1pI7Es/gnhR3bAusSz8Xd54qLfwH5GevC"
)
