"""The batch API: a JSON array of requests run in-process through the pipeline (docs/batch.md)."""

from pathlib import Path

from host.batch.endpoint import routes
from host.plugin import Plugin

__all__ = ("plugin",)

plugin = Plugin(
    name="host_batch",
    version="1",
    models="host.batch.models",
    package_dir=Path(__file__).resolve().parent,
    rest={"v1": routes, "v2": routes},
    description="The batch API (Mifos/Fineract): POST /api/v1/batches",
)
