"""The batch API: a JSON array of requests run in-process through the pipeline (docs/batch.md)."""

from host.batch.endpoint import install

__all__ = ("install",)
