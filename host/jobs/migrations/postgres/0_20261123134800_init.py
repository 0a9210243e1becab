from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "host_jobs_job" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "kind" VARCHAR(20) NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "owner" VARCHAR(150) NOT NULL,
    "tenant" VARCHAR(64) NOT NULL,
    "state" VARCHAR(12) NOT NULL,
    "total" INT NOT NULL,
    "enclosing" BOOL NOT NULL,
    "max_attempts" INT NOT NULL,
    "parallelism" INT NOT NULL,
    "credential" TEXT NOT NULL,
    "params" JSONB NOT NULL,
    "error" TEXT,
    "alerted" BOOL NOT NULL,
    "heartbeat" DOUBLE PRECISION NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "started_at" TIMESTAMPTZ,
    "finished_at" TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS "idx_host_jobs_j_owner_ed3a3f" ON "host_jobs_job" ("owner");
CREATE INDEX IF NOT EXISTS "idx_host_jobs_j_tenant_653941" ON "host_jobs_job" ("tenant");
CREATE INDEX IF NOT EXISTS "idx_host_jobs_j_state_58ecf2" ON "host_jobs_job" ("state");
CREATE TABLE IF NOT EXISTS "host_jobs_item" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "seq" INT NOT NULL,
    "ref" VARCHAR(100) NOT NULL,
    "request" JSONB NOT NULL,
    "deps" JSONB NOT NULL,
    "children" JSONB NOT NULL,
    "pending" INT NOT NULL,
    "state" VARCHAR(10) NOT NULL,
    "attempts" INT NOT NULL,
    "lease_owner" VARCHAR(100),
    "lease_expires" DOUBLE PRECISION,
    "not_before" DOUBLE PRECISION NOT NULL,
    "status" INT,
    "result" JSONB,
    "error" TEXT,
    "started_at" TIMESTAMPTZ,
    "finished_at" TIMESTAMPTZ,
    "job_id" INT NOT NULL REFERENCES "host_jobs_job" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_host_jobs_i_job_id_dc6e66" UNIQUE ("job_id", "seq")
);
CREATE INDEX IF NOT EXISTS "idx_host_jobs_i_job_id_46e75f" ON "host_jobs_item" ("job_id", "state", "seq");
CREATE TABLE IF NOT EXISTS "host_jobs_schedule" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "workflow" VARCHAR(200) NOT NULL UNIQUE,
    "cron" VARCHAR(100) NOT NULL,
    "next_run" DOUBLE PRECISION NOT NULL,
    "last_run" DOUBLE PRECISION,
    "last_job_id" INT,
    "claimed_by" VARCHAR(100)
);
COMMENT ON TABLE "host_jobs_schedule" IS 'One row per scheduled workflow: the next due time is claimed by one host only.';"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "host_jobs_schedule";
DROP TABLE IF EXISTS "host_jobs_item";
DROP TABLE IF EXISTS "host_jobs_job";"""


MODELS_STATE = (
    "eJztm21vm0gQgP8K4lNO6kUJcV56Op1kO07rNrGr2L2rWlVogbVNs951lkWO1ct/v13M+1"
    "vAZwh2/aUlszOwPDueHWbgpzwjFlN/EM06/kA0+Q/pp4zBHPKD2MgbSQaLRUQuZAxoKKot"
    "/nG0NYtRoDM+OAHIglxkQEun5oKZBHMpthESQqJzRRNPA5GNzUcbqoxMIZtByge+fediEx"
    "vwCVren4sHdWJCZEQmbRri2o5cZauFI+tjduMoiqtpqk6QPceB8mLFZgT72iZmQjqFGFLA"
    "oDg9o7aYvpide7veHa1nGqispxiyMeAE2IiFbldTA5msqoPhWB31xqoqlwCkEyzg8qlazt"
    "1PxRR+V05bl62rs4vWFVdxpulLLp/Xlw7ArA0dPIOx/OyMAwbWGg7jAOoDv60k1u4M0HSu"
    "nn6MLJ9ynKzHMQ+tJwjYBv5UB9w5eFIRxFM2E0RPckj+3b7vvm/fHyknv4kLEu7+6x/HwB"
    "1RnCEBO4Dr/F8CrqdfH1xZrgltMbZ5cBN0yZLzKIPXN6iKb62BIQL49LwIYK6VCdgZiwJm"
    "EIN1xCxKOLCoDbF/WAvni1YBzBetTMpiKArZYpxHGca+QX2IuaYNjXoInypFHFnJ9mMl4c"
    "aEAVQidfD1X84ethWGTxqdPQQoIdYRscQVEzg7hCAIcDrSiF0Mq8YNq+LqSypgmwOuMxze"
    "ijPPLesROYL+OOavn+86Pe7HjhtzJZPBdOLitwEYg/MFs0r4cNysPlc+2xFXXgAKEILItO"
    "YluMas6sPa2hGsOoUGxMxMi7hj+JSBNWq1B+lvDrNx78s4Ehy8vevorv3FiQfzlTtyOxy8"
    "89RDsaN7O+ykePM8JUB8GA0H2Z48T4sNhqkz6V+Ju3hlziz/ObGxLphKmm0iZmLrWFz2r1"
    "dYDkEofzni5AUyYrEpdc7inCC+HJBSkvJokv0D8A028n03Y2vKY3Xdzg8QpAymlDFyc5KQ"
    "1SEjKZGRzCCgTIMg5cHwBhGQ4eARqxjviTCrLLU+riq5zsF9Pfzcue1Jn+573f6o7wYYz7"
    "HXg1HM9732bXInFSjUNNDXfISZc5i5m4Ys4+HdNT32Dnaxbsdv0BhitHJjX17A6d/1RuP2"
    "3aeI91+3xz0xokQXxpUeXcTivn8S6Z/++L0k/pS+Dge9+Fbg642/ymJOwGZExWSpAiP0YO"
    "1JPWrxcgDdbNWjlltY9R3aVRq0yB6T3FWemNi0Zhstc8z0sM5NW2fRv5o8hJotQqAB/WEJ"
    "qKFGRkK9Lf6onpK+d1yzm4/3EAGHZHLNI828Pj/RDkb0Z8/NPakX2QU8opAsnMmhuTKPSw"
    "AGU+eWxLXFlZLEMpujHs+CDVLTU99qh/Sb7DZeLfgof4/1S4NBrzDsaxVuo3bM6a/SSX2r"
    "KGdnl8rJ2cXVeevy8vzqxC95JIfyah+d/juRHEdiy8v9VrE2CfyZ7F3t+spMje9kByQpnJ"
    "Rpm7jqe1BbivVLCrVWT3Naq6fJ1iqF/D6tlNwku54UMqm/oPQ66UglpSMDLkrV8Tz9ZlTx"
    "xPX2poqnz0xkUIjLLEfY5rAkW1+SBcRGavsxu2MTWBz6ufE9tHkvH6T4dK1vHxTbTHP20v"
    "hWukHz9nUat7viswgCC6qlX/6Kme1Dn6WGRHBNDT4tTBGUE7hzCv4Jyw2L/g1jXnHRHxOm"
    "anBCaEpUzoEdNTu0VwqQFjuZXSYqBwYbxeSG+fH2n8Yt9yXM4g+MnsX/ypMbxvXwpkFDaF"
    "fypsGhO7evXZtDd+7XW+cfRFNLfVQWGBwq8m4OkOh2RvCmJLE8RzWn+CNcOYj7fEIA62lp"
    "a+IbxR2jm9XS5GIKln5jLuRU/OYNiOA6Ze22R932dU9+zm4fV9wbHek8kNkO27TmqD/8pn"
    "B31AqbvNQhlYcYSpQspQWkkmdpSEtCH/gTzZLDnEEJ8zxHMmwoiWgqmZakI8CPDElbSYTb"
    "i2vzA7Q6lmOLVsHpD9+2NuvbVm8ty5SJwjbbqXG+LuLqP8PUKUnpkGQT9vT38AviSkpwIg"
    "ap1E5hnFcQChnVWQ7a3cobAlZ5zGGjQ32zKOXSeXfM6lB/S/nuap2YqNqqVCyOWO1DRaii"
    "gFzipc7tZ+XP/wGOEi9f"
)
