from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "host_admin_session" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "sid" VARCHAR(64) NOT NULL UNIQUE,
    "username" VARCHAR(150) NOT NULL,
    "created_at" REAL NOT NULL,
    "expires_at" REAL NOT NULL,
    "revoked_at" REAL
) /* A signed-in admin UI session. The cookie (signed) names it; this row says whether it is */;
CREATE INDEX IF NOT EXISTS "idx_host_admin__usernam_4b6f71" ON "host_admin_session" ("username");
CREATE INDEX IF NOT EXISTS "idx_host_admin__expires_02ae5b" ON "host_admin_session" ("expires_at");"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "host_admin_session";"""


MODELS_STATE = (
    "eJztl29v2joUxr/KUV5RqUMd43bT9oq17A6phYlmf7Tdq8gkJ4lFsDPboUVTv/tsJyEJFC"
    "5cja4XXamqkuPz+Dg/G/vxDyfmUnkkmFHW7pn/Nygl5cx5DT8cRmaoHzbmnIJD0rSZYYKK"
    "TJIVoSdrmolUgvhKZ4QkkahDAUpf0FTllZ0eSBoxDJ5RBlYOHwdQ9NAGN0bwOZ9ShFaedw"
    "JmqBKoegMqphIEvwVJFhJuY1QxCt0CVJriAfd1dcqiA9b5i0lFkwQizoNTkBwIJDzimQLO"
    "9B+C4QJUZxHmI5h+MMwkBqYd5ygWwE1vp0BYADITczpHk6QFQsm2+Y6M0e8ZeopHtrD+mm"
    "9/6zBlAd6hLF/TqRdSTILGdNLAdGDjnlqkNjZg6p1NNIgmns+TbMaq5HShYs6W2ZQpE42Q"
    "oSAKTfdKZGYiWZYkxeyXc5uPtErJh1jTBBiSLDHLwajzAVQxx/OGI9e76bue56wtlVJRm9"
    "Ui5HNmlpkeqrRfH5khPOs8777svnpx3n2lU+wwl5GX93npCkwutHiGrnNv24kieYZlXEGV"
    "D1G9iIl4GKt8kKse8CrXkuLTBTsjd16CLFKxfj3vbqH4qTe+eN8bt867J6Yg15tAvk8Mi5"
    "aObTKgK7D6dyHs8x5065pfg7gMPAXGz/842wGyztpI2bY1MfsCDQ6PqHXQ7xJONmwPTdkK"
    "69Dofg3t6qB4BNxb6F6OPr696sOHcf9icDMYDU2V2UJ+T6pGE9IBqiyDcb93tYIa71Kq9/"
    "J9UTdlh0P9mAv7wKQFzvl0/0XdlP1L0gXGI17TxmCE09ppaAIT4k9viQi8tRbe4Zty15tm"
    "ndlqhDASWW7mA83n1GzpWJsr/IRim3Vt5OxjXYURevOa8h8N7EibvEIAPNT+z/Yh2wGENE"
    "Eg2jAKqhQymCy0k8TKfba4gJBnzHrBgMopTDDkAk/aa+71UEX+t5ZPy1qahbqH+SnSj9D3"
    "nO3ke862+J6zdd/Dmf6FPHA+uHi3yfNUkkNBfipHg9v/4trjQBbHQcmydd37ctI4KK5Gwz"
    "/L9Br7i6vR2xXkMZHxPgu6zD8K2Ie+LpFMQxJ77RdLxRECPshdSR/9hRPYmfFScYSMO7sg"
    "7mwm3FkDzLja675f5j8eXMd5JLS7sd0Gd335pmlCN9yKLjUnRWe40VrUlCu0g0LaLh/+iw"
    "tbIAlGLFkURmfb0Ti47t+4vesPjfPxsuf2TUuneYkqoq3zlXladgKfB+57MK/wdTS0961U"
    "30AiYStWee5Xx4xJ79ncY/xW31BqnqyMltR+7w3t/ieM+tJ5"
)
