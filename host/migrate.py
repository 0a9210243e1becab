"""Schema migrations (placeholder until the aerich-based runner lands: creates missing tables)."""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise

from host.plugin import Plugin

__all__ = ("apply_migrations",)


async def apply_migrations(config: dict[str, Any], plugins: list[Plugin]) -> list[str]:
    await Tortoise.generate_schemas(safe=True)
    return []
