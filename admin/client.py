"""The admin UI as a client of the REST API, in-process: one call through `Pipeline.handle`.

Going through the pipeline (rather than calling the gateway or job code directly) means the UI gets
the same role checks, validation, transactions and errors as any API client, as the logged-in admin.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from admin.auth import current_user
from admin.state import MAIN_APP
from host.auth import check_tenant_name, tenant_for
from host.context import context_from_headers, current_context
from host.pipeline import PIPELINE, response_json_bytes, subrequest
from host.problems import Problem

__all__ = ("ApiResult", "call")


@dataclass
class ApiResult:
    status: int
    headers: Mapping[str, str]
    data: Any = None
    text: str = ""
    response: web.StreamResponse | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def detail(self) -> str:
        """A problem's detail, or the body text, for showing to the user."""
        if isinstance(self.data, dict):
            return str(self.data.get("detail") or self.data.get("title") or self.text)
        return self.text or f"HTTP {self.status}"


async def call(
    request: web.Request,
    method: str,
    path: str,
    *,
    query: Mapping[str, str] | None = None,
    json_body: Any = None,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
    tenant: str | None = None,
) -> ApiResult:
    """Call `/api/...` in-process as the admin signed in on `request`.

    `tenant`: the tenant the call runs in (a page's `?tenant=`), under the same rule as X-Tenant: a
    platform admin may name any, an admin bound to a tenant only its own (403 otherwise)."""
    app = request.app[MAIN_APP]
    if json_body is not None:
        body = json.dumps(json_body).encode()
    ctx = current_context() or context_from_headers(request.headers)
    identity = current_user(request).identity
    if tenant:
        try:
            check_tenant_name(tenant)
        except ValueError as exc:
            raise Problem(400, f"tenant: {exc}", slug="invalid-tenant") from None
        chosen = tenant_for(identity, tenant)
        if chosen is not None and chosen != ctx.tenant:
            ctx = ctx.with_tenant(chosen)
    api_call = subrequest(
        app,
        method=method,
        path=path,
        query={k: v for k, v in (query or {}).items() if v not in ("", None)},
        headers=list((headers or {}).items()),
        body=body,
        json_body=json_body is not None,
        context=ctx,
        identity=identity,
        origin="admin",
    )
    response = await app[PIPELINE].run(api_call)
    raw = response_json_bytes(response)
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes | bytearray) else ""
    data: Any = None
    ctype = response.headers.get("Content-Type", "")
    if "json" in ctype and text:
        try:
            data = json.loads(text)
        except ValueError:
            data = None
    return ApiResult(response.status, dict(response.headers), data, text, response)
