from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "clients_client" ADD "closed_on_date" DATE;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "clients_client" DROP COLUMN "closed_on_date";"""


MODELS_STATE = (
    "eJztmv9v2joQwP8Vi586aas2Srdp+4l2VENby8R4e9KenjwncYJVx84cpy2a+N+fzyHkKz"
    "xgtIOWn5qc7+zL5w77bPdXy+WMCh0fn9u/rXfoV0uQkJqHatNz1CJRVGgAiSYOLypjN1d2"
    "Yq2IC336hMfUiDwau4pFmkkBNl0UURVLgWKqbqiHnAnSY4qYiDXTCWi9QwT5TMUaEeGZZ0"
    "7MI/j3HEkFbQnn9h0dEYHMwExPnh3D6J50zfBMBPc9UCLYz4RiLQNq+lRmuH/+NWImPHpH"
    "4+w1usY+o9wrAWYedGDlWE8iK+sLfWEV4Rsc7EqehCJXjiZ6LMVcm6WoAyqoIppC91olgF"
    "oYh2exyeinnuYqqYsFG4/6JOEQMLBOHchlLYyvBiP8tTfCuFULZmZRwD4TuVJAIjDIGPj6"
    "AFx40X7VedN5e/K689aoWDfnkjfTdOgcTGpo8VyNWlPbTjRJNSzjHKqNon2psT0fE9UMt2"
    "RUYWycrzLOiBYgzxDOGWcqOeT8R/AQlENyhzkVgR6b11cvXy5h+q07PP/YHR4ZrWcwpDS/"
    "2vRHfTVraqdtAD4HHTLPMyOsSbpsdUC9EmqYjdYFXbQ5YF4JM0zya88cBZvHh/lkJcwnSz"
    "Cf1DF7LI44meB1UVftNsJdWwx3indnJd6dJbw7dd70TlMlCMdN9cZi3BWzrST3n608HmBN"
    "lA7jFAu51pJYNHp8c8jpKpxPF2M+rVE2mwp20zB1nEnJKRHNlHOjCmLHWN3XxDGX3APlJV"
    "TPBoPP0HMYxz+5FfRHFbx/XZ71THpb6kaJ6XT3MSuvK6wJ+IZNyd0A/YORLiFeNq2gB7Fm"
    "IT3O2vcrz5dE4EN31KuQjBMnZNp8G96AZaPxU6bpchlvhrJu+ZQ5chqYJd6XKmwsDxYeR9"
    "Ts/v9kYvfRbedsopCkisK3Y6KbExSybEGSliyXJSg87GPdaz7QGwg+mWXBEq6j/mXv66h7"
    "+aW0pEEuQ0vbSicV6dHrSj0x7wT93R99RPCKvg+uehavjHWg7Ii53uh7C3wiiZamNLvFxC"
    "vUq5k0o1aKehJ5G0a9bHmI+q5EPWNUCPvM+zzq0veZS9ebREs2G02gOxfgLcygcF7uXzce"
    "7qbA6oQvpKIsEJ/oxILuG5+IcJsW9+xSYzDvac8IT7MkyqT5rKTI7fyWoZxbUOxQTtMif2"
    "hSfdg/N6iBtEPc61uiPFxCDi2yLSuSuW69KWyHVQkRJLB84EPA7Qr7prumPCwr3DXl2bDK"
    "XZOjTEqM3yN6Q9UEpX0gh3IpghhpiaSg6OiS+TJGP9Ke+96Pxsuk3+jpcFu0W7dF655Bbv"
    "fs8bEfhx1OHh8MtYyoMC6svRuu2j3lvfBhu7Y4g/ezcF+0XauVmIsroVqN0nDuPDO8+DSk"
    "3B54Lik88/+m2bMUWFR4TrdfK07/A/b0xnw="
)
