from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "savings_savings_account" ADD "tenant" VARCHAR(64) NOT NULL DEFAULT 'default';
        ALTER TABLE "savings_savings_transaction" ADD "tenant" VARCHAR(64) NOT NULL DEFAULT 'default';
        CREATE INDEX IF NOT EXISTS "idx_savings_sav_tenant_e4106e" ON "savings_savings_account" ("tenant");
        CREATE INDEX IF NOT EXISTS "idx_savings_sav_tenant_c9771b" ON "savings_savings_transaction" ("tenant");
        ALTER TABLE "savings_savings_account" ALTER COLUMN "tenant" DROP DEFAULT;
        ALTER TABLE "savings_savings_transaction" ALTER COLUMN "tenant" DROP DEFAULT;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP INDEX IF EXISTS "idx_savings_sav_tenant_c9771b";
        DROP INDEX IF EXISTS "idx_savings_sav_tenant_e4106e";
        ALTER TABLE "savings_savings_account" DROP COLUMN "tenant";
        ALTER TABLE "savings_savings_transaction" DROP COLUMN "tenant";"""


MODELS_STATE = (
    "eJztm/9v4jYUwP+VKL+MSh1qKeJu0zQpA6pDt7YnyDbppskyiQGriZM6Tlt06v8+20nI90"
    "Bo2gMuPwEvfv7yec+xn5/5pnrwEZOl150Fn5phOD5h6q/KN5VAG/EvZUXOFRW6bqKAkDA4"
    "t5JKIPqECa25xyg0RCMLaHmIi0zkGRS7DDuES4lvWULoGLwg145FPsEPPgLMWSK2QpQ/+P"
    "c/LsbERM/Ii36692CBkWWmRoFN0baUA7Z2pWxC2LUsKFqbA8OxfJvEhd01WzlkUxoH3V8i"
    "gihkSFTPqC+6L3oXDjwaUdDTuEjQxYSOiRbQt1hiuHMQy1QAbu90MBvrAKg1ABkOEXB5Vz"
    "05+qXows+9y/6H/serQf8jLyK7uZF8eAmajsEEihLPra6+yOeQwaCEZBxDZYjAgEoa7HAF"
    "aTHZWCNDl3c7SzdiWYU3ElTwVX9b+MQQ6JSV47GuGE1X9sNYd/mwLAsEvfpdfSsz2PAZWI"
    "gs2Yr/HPQrmP+tTYeftGln0D8TDTp8ogQT6jZ80pOPhFliM6BnhiiBFihy8nJbZNT2MkhI"
    "+0DcPcX58uJiB9C8VClp+SyNeg4t7jcoj3mEDGxDq5h0QitD2QzUuqF6M1Mgfq1GgC/eiH"
    "gF4NF4OLnR/uxc/nI+kIS9BwszlGTfz+Eljo2FR0JCfOGYhHso8hgQPGoy31bV9zHEG3p/"
    "07bwGGS+V2PVjBW2r5xN8eRT9KDXzgROf25jxkcPOBmz2J+5tARtkXLWg7mYYRt1o+c1X9"
    "0H7L6aPs7Q5PtH/Aj3pFmo/EPTdF3qPO4Js0D3R2bpULzEBNyjdZ29WFqr3YrtsBUzKJJz"
    "GBYEIKPQ44phpzWrnFV8OcKtgMoHaN4Rax1avQK+PrkZz3Tt5otozvb4xiDya/GkJ6XrjL"
    "QzyNhpU4nyz0T/pIifyte727HEy2OuJZUtxuX0r6roE/SZA4jzBKCZcNBIGlFLWd13zT2t"
    "ntZsrX4oVo8YJcwe9j4x1y2MCCuMb0u3oymd99uRHvxxTkyVL9ymb9TEmlZquYZcxcHj4r"
    "7wlCxwxDzia4civCSf0VqSnvA+lZwSBDV43eGmpiMj/BJ5USSN3/YUPm2Oa9NzVmwokYWC"
    "OHXKXyHTyVBXizz4NWwzx9tf4hpPlHF6ApdAFu48h8b9E6QmKPFr3grxoDxZLTgm+CPUvv"
    "48RRaUg9kKX49rPCEDSJhOz0lATOHNP7J7dlYCCVzKIYm2RUslfluRuUm4do3MTWKKtZmb"
    "o1qSzisyN/Izh7U8Po3KN5O1OfXQ1Fs5lIG6jNNaJ0d6l7RXedYrl/QyfEoRMdYcoFkLc0"
    "7xrTKR+cVH/Ws2ep8k49UOsK9KYV+1eZnGtwWN5WU4PkDRg4+pOHR1EeGNg/3yktuqerUt"
    "jugkdx9TtEeQ5a+j4zyMKjuCzIX3uwRI4aWnhoKjxMWrI/OF7xoYJWPKiuAoE3rWCJBYRn"
    "NbkKRqiom4S2KmdC7PFIcqT5itTB6jQ0vp9LiEKFAJa1dCH1I611jY3GA/eYqdvVaX7MNZ"
    "V80Y5V0abAO8wwrw2qt5e+yam7+aJxnu7t1R8fZYvSBdAe1o/auxxY2V2sBiy2627s2Phm"
    "57HBPW/HUP6pNXBGAF2q2btkFXG3Tl7n1EG89am8W0Uruobs9VJ/6n01BC9fTC1vNMQjXt"
    "ZamE6lCbDbXRuCqf2nwM/PI/lBtxKw=="
)
