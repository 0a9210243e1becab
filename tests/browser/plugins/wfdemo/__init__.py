"""A test-only plugin with a parameterised workflow, for starting one from the admin UI."""

from __future__ import annotations

import asyncio
from typing import Any

from host import Plugin, Workflow
from host.jobs.workflows import WorkflowContext, chunked


async def plan(ctx: WorkflowContext) -> list[dict[str, Any]]:
    return [{"n": n} for n in range(int(ctx.params["chunks"]))]


async def step(ctx: WorkflowContext, chunk: dict[str, Any]) -> dict[str, Any]:
    await asyncio.sleep(float(ctx.params["pause"]))
    return {"n": chunk["n"], "label": ctx.params["label"]}


plugin = Plugin(
    name="wfdemo",
    version="1.0",
    description="Browser-test plugin: a workflow that counts chunks slowly.",
    workflows=[
        Workflow(
            name="count",
            run=chunked(plan, step),
            description="Count to `chunks`, pausing `pause` seconds per chunk.",
            params={"chunks": 10, "pause": 0.05, "label": "demo"},
        )
    ],
)
