"""The `plughost worker` process: the command (`cli.py`, registered through the
`plughost.commands` entry point group) and the process supervisor (`supervisor.py`).

What a job *is* (rows, claims, the runner, the broker set-up, the API) lives in `host/jobs/`,
because the batch API and the embedded server use it too; this package only runs worker
processes. It imports the host; the host never imports it.
"""
