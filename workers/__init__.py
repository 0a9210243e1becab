"""The Dramatiq side of jobs: broker set-up (`broker.py`) and the `plughost worker` process
supervisor (`supervisor.py`).

What a job *is* (rows, claims, the runner, the API) lives in `host/jobs/`, because the batch API and
the embedded server use it too; this package only decides how work reaches a process.
"""
