from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "loans_loan" ADD "note" VARCHAR(500);"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "loans_loan" DROP COLUMN "note";"""


MODELS_STATE = (
    "eJztmttu2zgQQH/F0FMKZINacdLuvnkdBzXaJIWjdoEWC4KWaJsIRaoU1cQo/O9LUvdrrd"
    "RNrKwekljDGV4Oh2NqJj8MwiD1Tz7I38Zfgx8GhS6SH7Li44EBPS8RqmcBFyRVAyRWW/iC"
    "Q1vIliUkPpIiB/k2x57ATPVPA0KUkNlSEdNVKgoo/hYgINgKiTXisuHrv1KMqYMekB8/en"
    "dgiRFxclPFjhpby4HYeFo2o+JSK6rRFsBmJHBpquxtxJrRRBtToaQrRBGHAqnuBQ/U9NXs"
    "orXGKwpnmqqEU8zYOGgJAyIyy12AVGYAcH1jgdupBYDRApDNqIIrp+rr1a/UFP4wh6M3o7"
    "en56O3UkVPM5G82YZDp2BCQ43n2jK2uh0KGGpoxilU9CAQp5CAKrqTNeTVeAtmBc5yAUXO"
    "MdUM6AjjgXB24QMgiK7EWj4OX79uoPp5PJ+8G8+PpNYrNSSTZyE8JtdRkxm2KfT5oxYiag"
    "E6Z/QozCV/jgUp6PQQJ1RlI/6OnQAS40mIm7sAN+t5myXcnhzdxl64gDzuC2RjF5Jq4jm7"
    "AnEnNDyJOvhd9H+jnzdQvphOZlfjD0fDP4/PNWf/G8ECZTdgVKJMA3eBOGBLwJEHNy5S4+"
    "wepuvMfx64O8B6P7E7ZZ0gAug74psWmCsse8KNhJccyRVSe1MTsXdAXe6iZ17BXPaLOPIF"
    "UAyAJ6OB/MGs4jrSGLabuumj+E+iuC+gCNrE7dTg6XxaXqk64tJ+sHCxkKsHkoy8elfEjw"
    "sprUFbZVz0YCkW2EUncXvLq/YBu+/YmhZoogcP2YqHg/1FwH2ko2tbrM29/J/52hyplQEo"
    "qnkqENVM85ZNDNWHDsZZ+W0OnRtKNtEeN4C1ZlfTW2t89VEN5/oy6sa4VYuppZuC9Oi88D"
    "6TdDL4Z2a9G6jHwZeb66nGy3yx4nrEVM/6Yqg5wUAwQNk9gE7mxTmWxtRyux54ziN3PW/Z"
    "7/qh7HrMKLPt0ewzr2usKmrWpx9i/b0keJ57W3MJh7OdUjxnDSmes3KKxyZYfau0ylTmbP"
    "o3hIrrlMeZE9gtseaNeq4RV5VdX95VpoJDRywjvmQc4RV9jzaa9EzOCVK7KiyEPfgnk6Sn"
    "jhHexl4US9MoxuF9UpPIn1l1TUcEhe9Ycxmh57OJZVR58K+wTQs1H9POXije/Nmt4as8eQ"
    "Htu3vIHZBzadXCTFaQJLrlJtd0ixJI4UoDUitR8y7zry6jZXZnh2oayHhGX1XrVCQ9bqiq"
    "6b9trlmR/n4KPC+9kOavGRegLeO81YsjPdqB86iW8qh0kw0417lrmzmtMJcMn7Bo+en24m"
    "mqlac7wD6thX3alyqfI8ntYvV1+zjSJdtfpn1gL8d7hy2Py6NhF2172M2wO1+EH5oHfdHr"
    "fAl+2Dm8Ha+/d8Wf++L780fvvv5W7+7drMTU1d9Kydf6HFYhtVT2jL8js8v3c0SgBlv2gf"
    "x/d3ds8+uyhdv95/e2/wEktiuA"
)
