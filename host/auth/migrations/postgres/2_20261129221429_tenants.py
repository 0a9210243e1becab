from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "host_api_key" ADD "tenant" VARCHAR(64);
        ALTER TABLE "host_user" ADD "tenant" VARCHAR(64);"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "host_user" DROP COLUMN "tenant";
        ALTER TABLE "host_api_key" DROP COLUMN "tenant";"""


MODELS_STATE = (
    "eJztWetP2zoU/1esfLkgMQS9tJsYQmoZE70X2gnKdrWHgpu4rdfUzmwHqHb53++x0zSvPr"
    "ltx6p8gea8fPI78XnYP60el2q/6tO/ydA6Rj8thgcEfqToe8jCvh9R9aPCbW8sZmOf2v2R"
    "XFsqgR0FvA72JAGSS6QjqK8oZ1qjigbY6VFGkCOIS5ii2DtGdye+IB36eLp/Igkw1OndW8"
    "SZN0SqR1BI+kOim4vqq1K5gqhEUnHQ39eLutyBVSnrrsl+wOiPgNiKdwlIC1jlyzcgU+aS"
    "RyKjR79vdyjx3BSM1NUGDN1WQ9/Q6ky9N4La9bbtcC8YsFjYH6oeZ2NpygziXcKIwIpo80"
    "oEGlgWeN4oDhHWoaexSOhiQsclHRx4OjxaO3Qgplm23Wi27Jvzlm1budBFGgm0RySHMx12"
    "cFWat+9qF16VDo9eH735s3L0BkSMm2PK66dw6RiYUNHA02hZT4aPFQ4lDMYxqOZ/DtazHh"
    "aTcY3kM8iCy1lkIxxnQRsRYmzjL30T4A7wo+0R1lU9eDw8OJgB5cfq9dlF9XoHpHb1khy2"
    "ZrhvGyNWKeRpvGN8w62yDMKxxmow/rWfbxrhyiIAV6bjW8nCG2Ybu4dlbxmMM2pb+DFXjh"
    "aAunI0FWrNSkMtuAcmciD/ddNsTAZ5rJCB16WOQv8ij8pcNl4VzNZJJ2CORhC1A+opyuS+"
    "Xu/UWhP4M8DWAGnLAyl/eEmQd66q/2TxP7ts1gxk0At0hbFiDNQywYC2gN5PSNw1DqBjNj"
    "kgsVImIm3QWlcoomyzWdBrzeZlCvRavZWB+vaqdg7ZxkQAhKgiyYoZQw2ZQkNiY5WH+x1w"
    "FB2QyXinNbO7YKS6H/34HVMOvKDbhM5vFOcZAWnVr85vWtWrD6movKu2zjWnZKjDDHUnWw"
    "nGRtCneusC6Uf0udk4z+6YsVzrs6V9woHiNuMPNnYTBTCiRqiloq4Iw2xCxKfXlFjjWeVk"
    "5NSLCe0aqonu7Dv9RBuqCW3s9B+wcO0ch5f4NNk8a1AaZCmY4a4BTr+h9t/MYZe8S9l7TL"
    "1AECs3paW4e3NmNU8L252E9NyJrQmzlFYgLvKxlA9cuMjpEae/hzpcmAHKWIVfgivlEbRT"
    "/VBHmLkIuwOg39aRhE+QIKp28wPb6s3Pn9e+WIEkIpoLYIfBJpTWt2KM2+QYlwzBogkrqb"
    "OFHfBheaFxrjxjnCvnxrno814C5oTKFqK8+jkjzF/PaLdSipvptjaZQn6T5ioCKdddvYjq"
    "f03ueZ+4LfjD8tU/xZ1X/UUoDKUxkp5/XssQdhxIBsgo6VoMPiIeKNQmUKB12UXk0acCqD"
    "vtITxKdPdd0bvdt8gV3Pe1NHOMXA/LSHbCye26VvrKvrI6M52ELkZtrN+TcYWgecDIF1wv"
    "eozIPRFgFD5grI3ongI808YE6UDhkcaC8e3/HguD08uk45H41p2trSoRT+8xZND+TpylZq"
    "KEyhbWvrV0GOFGk8+of2nNogAWBXBCAbyVJrtmCp+hzit4QSQ0r85Nj2hx+1eMjS8N4vWn"
    "9OgoZulrqpziFhbRUrm8AOIgNRVxwyvuqoq7quKuqrirmp51iruq4q7qeSeS5pjCvidCas"
    "cW70JzevMb0lVtpIMX3JD+0jno6T/vSVQY"
)
