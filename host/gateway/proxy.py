"""Forward one call to an upstream declared in the app's route file (pooled aiohttp client).

Only the declared upstream's origin is ever contacted: the location is appended to its base path
after URL-encoding the parameters, and the result is checked to keep that origin (no SSRF through
parameters). Hop-by-hop headers are dropped both ways; the caller's credentials are not passed on
(the upstream gets its own client-credentials token instead). Large or unsized responses are
streamed through; small ones are buffered so batch items can carry them.
"""

from __future__ import annotations

import logging

import aiohttp
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from host.gateway.policy import GuardedResolver
from host.gateway.table import Upstream
from host.gateway.tokens import TokenCache
from host.pipeline import ApiRequest
from host.problems import Problem

__all__ = ("HOP_BY_HOP", "new_session", "proxy")

log = logging.getLogger("plughost.gateway")

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
# the caller's credentials and what the client library sets itself
_NOT_FORWARDED = HOP_BY_HOP | {"host", "content-length", "authorization", "x-api-key", "cookie"}
_NOT_RETURNED = HOP_BY_HOP | {"content-length", "set-cookie"}
BUFFER_LIMIT = 256 << 10


def new_session(*, allow_link_local: bool = False) -> aiohttp.ClientSession:
    """The pooled client: keep-alive connections, no cookie jar (calls are for many users); host
    names resolving to link-local/metadata addresses are refused (host/gateway/policy.py)."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(
            limit=512, ttl_dns_cache=60, resolver=GuardedResolver(allow_link_local)
        ),
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,
        trust_env=False,
    )


def upstream_url(upstream: Upstream, location: str, request: ApiRequest) -> URL:
    base = upstream.url
    path = base.raw_path.rstrip("/") + location
    url = base.with_path(path, encoded=True)
    if request.raw is not None and request.raw.query_string:
        url = URL(str(url) + "?" + request.raw.rel_url.raw_query_string, encoded=True)
    elif request.query:
        url = url.with_query(request.query)
    if url.origin() != base.origin() or not url.raw_path.startswith(base.raw_path.rstrip("/")):
        raise Problem(400, "The mapped location leaves its upstream", slug="bad-path")
    return url


def _headers(request: ApiRequest) -> CIMultiDict[str]:
    named = {
        h.strip().lower() for h in request.headers.get("Connection", "").split(",") if h.strip()
    }
    out: CIMultiDict[str] = CIMultiDict(
        (k, v)
        for k, v in request.headers.items()
        if k.lower() not in _NOT_FORWARDED and k.lower() not in named
    )
    ctx = request.context
    raw = request.raw
    if raw is not None:
        peer = raw.remote or ""
        prior = request.headers.get("X-Forwarded-For", "")
        out["X-Forwarded-For"] = f"{prior}, {peer}" if prior and peer else (prior or peer)
        out["X-Forwarded-Proto"] = raw.scheme
        out["X-Forwarded-Host"] = raw.host
    out["X-Request-Id"] = ctx.request_id
    out["traceparent"] = ctx.traceparent
    out["X-Tenant"] = ctx.tenant
    if request.app_name:
        out["X-App-Name"] = request.app_name
    return out


async def proxy(
    request: ApiRequest,
    upstream: Upstream,
    location: str,
    session: aiohttp.ClientSession,
    tokens: TokenCache,
) -> web.StreamResponse:
    url = upstream_url(upstream, location, request)
    headers = _headers(request)
    timeout = aiohttp.ClientTimeout(total=upstream.timeout, sock_connect=upstream.connect_timeout)
    for attempt in (1, 2):
        token = None
        if upstream.client is not None:
            token = await tokens.get(session, upstream.client)
            headers["Authorization"] = f"Bearer {token}"
        try:
            resp = await session.request(
                request.method,
                url,
                headers=headers,
                data=request.body or None,
                timeout=timeout,
                allow_redirects=False,
            )
        except TimeoutError:
            raise _upstream_problem(504, upstream, "did not answer in time") from None
        except aiohttp.ClientError as exc:
            raise _upstream_problem(
                502, upstream, f"is unreachable ({type(exc).__name__})"
            ) from None
        if resp.status == 401 and token is not None and upstream.client and attempt == 1:
            resp.release()
            tokens.invalidate(upstream.client, token)  # refresh once, then retry the call
            continue
        try:
            return await _relay(resp, request)
        except TimeoutError:
            raise _upstream_problem(504, upstream, "did not answer in time") from None
        except aiohttp.ClientError as exc:
            raise _upstream_problem(
                502, upstream, f"failed mid-answer ({type(exc).__name__})"
            ) from None
        finally:
            resp.release()
    raise AssertionError("unreachable")  # pragma: no cover


def _upstream_problem(status: int, upstream: Upstream, what: str) -> Problem:
    log.warning("upstream %s %s", upstream.name, what, extra={"upstream": upstream.name})
    return Problem(status, f"The upstream {upstream.name!r} {what}", upstream=upstream.name)


async def _relay(resp: aiohttp.ClientResponse, request: ApiRequest) -> web.StreamResponse:
    named = {h.strip().lower() for h in resp.headers.get("Connection", "").split(",")}
    headers: CIMultiDict[str] = CIMultiDict(
        (k, v)
        for k, v in resp.headers.items()
        if k.lower() not in _NOT_RETURNED and k.lower() not in named
    )
    size = resp.content_length
    if request.raw is None or (size is not None and size <= BUFFER_LIMIT):
        body = await resp.read()
        return web.Response(status=resp.status, body=body, headers=headers)
    # stream: the context middleware cannot add headers after prepare, so add them now
    headers["X-Request-Id"] = request.context.request_id
    headers["traceparent"] = request.context.traceparent
    out = web.StreamResponse(status=resp.status, headers=headers)
    if size is not None:
        out.content_length = size
    await out.prepare(request.raw)
    try:
        async for chunk in resp.content.iter_any():
            await out.write(chunk)
    except (aiohttp.ClientError, TimeoutError) as exc:  # too late for a problem: cut the answer
        log.warning("upstream answer cut short (%s)", type(exc).__name__)
        out.force_close()
        return out
    await out.write_eof()
    return out
