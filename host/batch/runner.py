"""Running a planned batch: every item through the pipeline in-process, as a standalone call would.

Without `enclosingTransaction`, items run as soon as their parents are done, at most
`batch_concurrency` at a time, earlier items first; each item is its own unit of work. With it,
items run one after another (one connection, one transaction) and the first failure rolls
everything back: after-commit work (bus events) is dropped with it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from aiohttp import web
from multidict import CIMultiDictProxy, MultiDict

from host.auth import Identity
from host.batch import idempotency
from host.batch.grouped import run_grouped
from host.batch.items import IDENTITY_HEADERS, IGNORED_HEADERS, BatchItem
from host.batch.plan import Plan
from host.batch.refs import Path, Unresolved, lookup_path, resolve_json, resolve_text
from host.batch.sharing import LoopShare
from host.context import RequestContext
from host.counters import count_batch_items
from host.data.db import CONNECTION, unit_of_work
from host.pipeline import Call, Pipeline, carried_headers, subrequest
from host.pipeline.pipeline import response_json_bytes
from host.problems import PROBLEM_JSON, Problem, problem_body

__all__ = ("BatchRun", "ItemResult", "Outcome", "run_batch")

log = logging.getLogger("plughost.batch")

# sub-response headers that only make sense on a wire
_HOP_BY_HOP = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive", "date"})
SERVED_FROM_CACHE = "x-served-from-cache"  # Fineract's name for an idempotent replay
_NO_VALUE = object()


@dataclass(slots=True)
class ItemResult:
    index: int
    request_id: Any
    status: int
    headers: list[dict[str, str]]
    body: str | None
    _json: Any = field(default=_NO_VALUE, repr=False)

    @property
    def ok(self) -> bool:
        return self.status < 400

    def as_dict(self) -> dict[str, Any]:
        return {
            "requestId": self.request_id,
            "statusCode": self.status,
            "headers": self.headers,
            "body": self.body,
        }

    def document(self, source: str, path: str) -> Any:
        """The answer parsed as JSON, for references into it."""
        if self._json is _NO_VALUE:
            try:
                self._json = json.loads(self.body or "")
            except ValueError:
                raise Unresolved(source, path, "cannot be read: that answer is not JSON") from None
        return self._json

    @classmethod
    def problem(
        cls, item: BatchItem, status: int, detail: str, *, slug: str, **extra: Any
    ) -> ItemResult:
        body = problem_body(status, detail, type_=f"/problems/{slug}", **extra)
        return cls(
            item.index,
            item.request_id,
            status,
            [{"name": "Content-Type", "value": PROBLEM_JSON}],
            json.dumps(body),
        )


@dataclass
class Outcome:
    results: list[ItemResult]
    rolled_back: bool = False
    failed: ItemResult | None = None


OnResult = Callable[[ItemResult], Awaitable[None]]


@dataclass
class BatchRun:
    """Everything items inherit from the batch call."""

    app: web.Application
    pipeline: Pipeline
    version: str
    identity: Identity | None
    context: RequestContext
    headers: CIMultiDictProxy[str]
    app_name: str | None = None
    concurrency: int = 8
    enclosing: bool = False
    idempotency_ttl: int = 86400
    on_result: OnResult | None = None
    commit_every: int = 100
    """Group commits (host.batch.grouped): at most this many items per commit..."""
    commit_window: float = 0.02
    """...and a transaction open for at most this long (seconds); 0 items: a commit per item."""


async def run_batch(plan: Plan, run: BatchRun) -> Outcome:
    runner = _Runner(plan, run)
    if run.enclosing:
        outcome = await runner.in_one_transaction()
        count_batch_items(run.app, (r.status for r in outcome.results))
        return outcome
    reads_only = all(item.method == "GET" for item in plan.items)
    grouped = any(item.group is not None for item in plan.items)
    if not grouped and (run.commit_every <= 1 or reads_only):
        await runner.concurrently()  # each item its own unit of work (reads: nothing to commit)
    else:
        await run_grouped(
            runner,
            lanes=1 if _single_writer() else run.concurrency,
            every=run.commit_every,
            window=run.commit_window,
            on_result=run.on_result,
        )
    outcome = Outcome(runner.finished())
    count_batch_items(run.app, (r.status for r in outcome.results))
    return outcome


def _single_writer() -> bool:
    """SQLite has one writer: lanes would only queue for its lock."""
    from tortoise import connections

    dialect = getattr(connections.get(CONNECTION).capabilities, "dialect", "")
    return str(dialect) == "sqlite"


class _Abort(Exception):
    """Leaves the enclosing unit of work so that it rolls back."""


class _Runner:
    def __init__(self, plan: Plan, run: BatchRun) -> None:
        self.plan = plan
        self.run = run
        self.results: list[ItemResult | None] = [None] * len(plan.items)
        self.by_key = {item.key: item.index for item in plan.items}
        self.carried = carried_headers(run.headers)
        self.share = LoopShare()

    def finished(self) -> list[ItemResult]:
        return [r for r in self.results if r is not None]

    def internal_error(self, i: int) -> ItemResult:
        return ItemResult.problem(
            self.plan.items[i],
            500,
            "An internal error occurred; quote the request id when reporting it",
            slug="internal-error",
        )

    def commit_failed(self, i: int) -> ItemResult:
        """The answer of an item whose group commit failed: nothing it did was kept."""
        return ItemResult.problem(
            self.plan.items[i],
            503,
            "Not kept: the commit covering this item failed; it can be sent again",
            slug="commit-failed",
        )

    # scheduling -------------------------------------------------------------------------------
    async def concurrently(self) -> None:
        """A worker pool over a ready queue ordered by request position."""
        plan, total = self.plan, len(self.plan.items)
        pending = [len(ps) for ps in plan.parents]
        ready: asyncio.PriorityQueue[int] = asyncio.PriorityQueue()
        for i, n in enumerate(pending):
            if n == 0:
                ready.put_nowait(i)
        done = 0
        workers = max(1, min(self.run.concurrency, total))
        stop = sys.maxsize

        async def worker() -> None:
            nonlocal done
            while True:
                i = await ready.get()
                if i == stop:
                    return
                try:
                    result = await self.execute(i)
                except Exception:
                    log.exception("batch item failed", extra={"index": i})
                    result = self.internal_error(i)
                self.results[i] = result
                if self.run.on_result is not None:
                    await self.run.on_result(result)
                for child in plan.children[i]:
                    pending[child] -= 1
                    if pending[child] == 0:
                        ready.put_nowait(child)
                done += 1
                if done == total:
                    for _ in range(workers):
                        ready.put_nowait(stop)

        await asyncio.gather(*(worker() for _ in range(workers)))

    async def in_one_transaction(self) -> Outcome:
        failed: ItemResult | None = None
        try:
            async with unit_of_work():
                for i in self.plan.order:
                    result = self.results[i] = await self.execute(i)
                    if not result.ok:
                        failed = result
                        raise _Abort
        except _Abort:
            pass
        if failed is None:
            outcome = Outcome(self.finished())
        else:
            outcome = Outcome(self._rolled_back(failed), rolled_back=True, failed=failed)
        if self.run.on_result is not None:
            for result in outcome.results:
                await self.run.on_result(result)
        return outcome

    def _rolled_back(self, failed: ItemResult) -> list[ItemResult]:
        """Every item's answer after a rollback: which one failed, and that nothing was kept."""
        self.group_failed([item.index for item in self.plan.items], failed, "batch")
        return self.finished()

    def group_failed(self, members: list[int], failed: ItemResult, what: str) -> None:
        """Rewrite the answers of a rolled-back group (an atomicityGroup, or the whole batch for
        enclosingTransaction): the cause keeps its own answer; every other item is a 424 naming
        it, with `originalStatusCode` when it had run. No entry of the group is left with a 2xx,
        so a client that checks every statusCode cannot mistake it for success."""
        who = f"item {failed.index} (requestId {failed.request_id!r})"
        for i in members:
            item, result = self.plan.items[i], self.results[i]
            if result is failed:
                continue
            if result is not None:
                self.results[i] = ItemResult.problem(
                    item,
                    424,
                    f"Rolled back: {who} failed with {failed.status}, so nothing in this "
                    f"{what} was kept",
                    slug="batch-rolled-back",
                    originalStatusCode=result.status,
                    failedRequestId=failed.request_id,
                )
            else:
                self.results[i] = ItemResult.problem(
                    item,
                    424,
                    f"Not run: {who} failed with {failed.status} and the {what} was rolled back",
                    slug="batch-rolled-back",
                    failedRequestId=failed.request_id,
                )

    # one item ---------------------------------------------------------------------------------
    async def execute(self, i: int) -> ItemResult:
        """The item's answer, echoing the item's own request headers as Fineract does."""
        await self.share.now_and_then()  # an item may never suspend: others get their turn
        result = await self._execute(i)
        echo = self.plan.items[i].echo_headers()
        if echo:
            present = {h["name"].lower() for h in result.headers}
            result.headers = result.headers + [
                {"name": n, "value": v} for n, v in echo if n.lower() not in present
            ]
        return result

    async def _execute(self, i: int) -> ItemResult:
        item = self.plan.items[i]
        for p in self.plan.parents[i]:
            parent = self.results[p]
            if parent is not None and not parent.ok:
                return ItemResult.problem(
                    item,
                    424,
                    f"Not run: it depends on requestId {parent.request_id!r}, which failed "
                    f"with {parent.status}",
                    slug="failed-dependency",
                    failedRequestId=parent.request_id,
                )
        try:
            request = self.build(item)
        except Unresolved as exc:
            return ItemResult.problem(
                item,
                422,
                f"The reference {exc.path} {exc.reason} in the answer of requestId {exc.source!r}",
                slug="unresolved-reference",
                path=exc.path,
                sourceRequestId=exc.source,
            )
        except Problem as exc:
            return self._from_problem(item, exc)
        key = item.header("Idempotency-Key")
        if key is None:
            return await self.call(item, request)
        return await self.call_once(item, request, key)

    async def call(self, item: BatchItem, request: Call) -> ItemResult:
        return _result(item, await self.run.pipeline.run(request))

    async def call_once(self, item: BatchItem, request: Call, key: str) -> ItemResult:
        """Fineract's per-item Idempotency-Key: a stored answer is replayed, marked as cached."""
        identity = self.run.identity
        tenant = request.context.tenant if request.context is not None else self.run.context.tenant
        scope = idempotency.scope_of("item", tenant, identity.subject if identity else None)
        query = "&".join(f"{k}={v}" for k, v in request.query.items())
        print_ = idempotency.fingerprint(request.method, request.path, query, request.body or b"")
        try:
            stored = await idempotency.claim(scope, key, print_, self.run.idempotency_ttl)
        except Problem as exc:
            return self._from_problem(item, exc)
        if stored is not None:
            replay = dict(stored.response)
            headers = [*replay["headers"], {"name": SERVED_FROM_CACHE, "value": "true"}]
            return ItemResult(item.index, item.request_id, stored.status, headers, replay["body"])
        try:
            result = await self.call(item, request)
        except BaseException:
            await idempotency.release(scope, key)
            raise
        await idempotency.finish(
            scope, key, result.status, {"headers": result.headers, "body": result.body}
        )
        return result

    def _from_problem(self, item: BatchItem, exc: Problem) -> ItemResult:
        body = exc.body(instance=item.relative_url)
        return ItemResult(
            item.index,
            item.request_id,
            exc.status,
            [{"name": "Content-Type", "value": PROBLEM_JSON}]
            + [{"name": k, "value": v} for k, v in exc.headers.items()],
            json.dumps(body),
        )

    # building the sub-request -----------------------------------------------------------------
    def lookup(self, item: BatchItem) -> Callable[[str | None, str, Path], Any]:
        def find(source: str | None, path: str, steps: Path) -> Any:
            key = source if source is not None else item.reference
            assert key is not None  # validated: `$.path` needs a reference
            result = self.results[self.by_key[key]]
            assert result is not None  # validated: only ancestors, which are done
            return lookup_path(result.document(key, path), steps, source=key, path=path)

        return find

    def build(self, item: BatchItem) -> Call:
        run = self.run
        # resolution also turns `$$` into `$`, so it runs on every item (cheap without a `$`)
        find = self.lookup(item)
        raw_path, _, raw_query = item.relative_url.partition("?")
        segments = [
            _segment(resolve_text(unquote(s), find)) for s in raw_path.removeprefix("/").split("/")
        ]
        query = MultiDict(
            (k, str(resolve_text(v, find))) for k, v in parse_qsl(raw_query, keep_blank_values=True)
        )
        headers: list[tuple[str, str]] = []
        body = b""
        for name, value in item.headers:
            lowered = name.lower()
            if lowered in IGNORED_HEADERS or lowered in IDENTITY_HEADERS:
                continue
            value = str(resolve_text(value, find))
            if any(c in value for c in "\r\n\0"):
                raise Problem(422, f"Header {name} would contain a line break after its references")
            headers.append((name, value))
        document: Any = None
        if item.has_body:
            document = resolve_json(item.body, find)  # a copy: the item's handler may keep it
            body = json.dumps(document).encode()
        if run.app_name:  # relativeUrl is the micro-app's own path and the gateway maps it
            root = f"/{item.version}/" if item.version else "/"
        else:
            root = f"/api/{item.version or run.version}/"
        return subrequest(
            run.app,
            method=item.method,
            path=root + "/".join(segments),
            query=query.items(),
            carried=self.carried,
            headers=headers,
            body=body,
            json_body=item.has_body,
            # parsed again from `body` it would be the same value, but for a referenced answer
            # that nests deeper than a client's body may: then the pipeline's own limits decide
            json_value=document if not item.refs else None,
            context=run.context.child(),
            identity=run.identity,
            app_name=run.app_name,
            origin="batch",
        )


def _segment(value: Any) -> str:
    """A path segment filled from an answer may not add separators or climb up."""
    text = value if isinstance(value, str) else json.dumps(value)
    if "/" in text or "\\" in text or text in {".", ".."}:
        raise Problem(
            422,
            f"A referenced value ({text!r}) cannot be used as a path segment",
            slug="unresolved-reference",
        )
    return text


def _result(item: BatchItem, response: web.StreamResponse) -> ItemResult:
    if not isinstance(response, web.Response) or response.prepared:
        return ItemResult.problem(
            item,
            502,
            "The endpoint streams its answer, which a batch item cannot carry",
            slug="bad-gateway",
        )
    headers = [
        {"name": k, "value": v} for k, v in response.headers.items() if k.lower() not in _HOP_BY_HOP
    ]
    raw = response_json_bytes(response)
    body = raw.decode("utf-8", errors="replace") if raw else None
    return ItemResult(item.index, item.request_id, response.status, headers, body)
