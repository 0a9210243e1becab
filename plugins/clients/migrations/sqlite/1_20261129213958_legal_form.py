from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "clients_client" ADD "legal_form_id" INT;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "clients_client" DROP COLUMN "legal_form_id";"""


MODELS_STATE = (
    "eJztml9v2zYQwL8K4acUaIPWcdqie3JSBzXaxIXrrUCLgaUkWiZCkSpFJREKf/fxKMv6a8"
    "3OnMxO/RTpeEeefncmj2R+dVzOqNDR8bn923mHfnUECah5qDY9Rx0ShoUGkGji8KIydnNl"
    "J9KKuNDnlPCIGpFHI1exUDMpwKaPQqoiKVBE1Q31kJMgPaOIiUgzHYPWO0TQlKlIIyI888"
    "yJeQT/niOpoC3m3L6jIyKQGZjp5NkxjO5J1wzPhP/QA8WC/Ywp1tKnpk9lhvv+txEz4dE7"
    "GmWv4TWeMsq9EmDmQQdWjnUSWtlQ6AurCN/gYFfyOBC5cpjomRRLbZai9qmgimgK3WsVA2"
    "phHF7EJqOfepqrpC4WbDw6JTGHgIF16kAu62B8NZrgL4MJxp1aMDOLAvaFyJUCEoFBxsDX"
    "++DCi+6r3pve25PXvbdGxbq5lLyZp0PnYFJDi+dq0pnbdqJJqmEZ51BtFO1Lje35jKhmuC"
    "WjCmPjfJVxRrQAeYFwyThTySHnP4LHoByQO8yp8PXMvL56+bKF6V/98fmH/vjIaD2DIaX5"
    "1aY/6qtFUzdtA/A56IB5nhlhQ9JlqwPqtVDDbLQp6KLNAfNamGGS33jmKNg8Pcwna2E+ac"
    "F8UsfssSjkJMGboq7a3Qt3bTHcKd69tXj3Wnj36rzpnaZKEI6b6o3VuCtmW0nu/7fyeIQ1"
    "UTqMUyzkRkti0ejpzSGn63A+XY35tEbZbCrYTcPUcSYlp0Q0U86NKogdY/VQE8dS8gCUW6"
    "iejUafoOcgin5yKxhOKnj/vDwbmPS21I0S0+nuY1FeV1gT8A2bkrsB+nsjbSFeNq2gB7Fm"
    "AT3O2vcrz1si8L4/GVRIRrETMG2+Dd+DZaPx70yTU98sTVOpgsZlbeU2umb37zvq3Ue3nT"
    "114eRHUfh2THRzjkKWNeMtW7YlKDzsY71mPtAbCZ4ssqCF62R4Ofgy6V9+Lk3FkMvQ0rXS"
    "pCI9el1ZB5edoK/DyQcEr+jb6Gpg8cpI+8qOmOtNvnXAJxJraUqKW0y8Qp2VSTNqpajHoX"
    "fPqJctD1HflahnjAphX3ifR11Op8ylm02iJZt7TaA7F+AtzKBwzju9bjyUTIHVCV9IRZkv"
    "PtLEgh4an4hwmxb37DB+tOxpzwjPsyTKpPmspMjt8nS8nFtQ7FBO0+J0bFJ9PDw3qIG0Q9"
    "zrW6I8XEIOLbIrK5Klbr0p6AZVCRHEt3zgQ8DtCvumO5I8LGvckeTZsM4diaNMSsz+QPSG"
    "qgSlfSCHcin8CGmJpKDo6JJNZYR+pD0PvR+NlyD/oafDLcdu3XJsena23TOzp36Mczgxez"
    "TUMqTCuLDxhrhq9zvvhQ/btdUZvJ+F+6rtWq3EXF0J1WqUhvPSheHFxzHl9qCupfDM/wtk"
    "z1JgVeE5336tOP8HWgJaQg=="
)
