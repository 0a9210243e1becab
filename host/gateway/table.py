"""Compile one routes.d file into an immutable per-app table (pure; no I/O beyond the bytes given).

A table is built whole or not at all: every error (syntax, schema, bad pattern, unknown upstream,
location parameter missing from the path, duplicate route) is collected with its line and column,
and a file with any error yields no table. Shadowed routes (reachable by no request because a
higher-priority route always wins) are reported as warnings; the table is still usable.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from yarl import URL

from host.gateway.policy import UpstreamPolicy
from host.gateway.schema import FileError, Positions, parse_document
from host.pipeline.routing import ALL_METHODS, Match, PatternError, Router, Segment, parse_pattern
from host.problems import Problem

__all__ = (
    "APP_NAME",
    "AppTable",
    "ClientConfig",
    "CompileResult",
    "GatewayRoute",
    "Upstream",
    "compile_table",
    "content_hash",
)

APP_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\*?\}")


def content_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


DEFAULT_POLICY = UpstreamPolicy()


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """OAuth2 client credentials; the secret itself is read when a token is needed, never kept here."""

    token_url: str
    client_id: str
    secret_env: str | None = None
    secret_file: str | None = None
    scope: str | None = None
    auth: str = "basic"


@dataclass(frozen=True, slots=True)
class Upstream:
    name: str
    url: URL
    timeout: float = 30.0
    connect_timeout: float = 5.0
    client: ClientConfig | None = None


@dataclass(frozen=True, slots=True)
class GatewayRoute:
    """One compiled entry: where a matched call goes and who may make it."""

    index: int
    path: str
    methods: tuple[str, ...]
    location: str
    pieces: tuple[tuple[str, str | None], ...]
    """The location as (literal text, parameter name or None) pairs, for fast substitution."""
    tails: frozenset[str]
    roles: tuple[str, ...] = ()
    public: bool = False
    priority: int = 0
    upstream: str | None = None

    def target(self, params: Mapping[str, str]) -> str:
        """The location with parameters URL-encoded; '.' and '..' values are refused (400)."""
        out: list[str] = []
        for literal, name in self.pieces:
            out.append(literal)
            if name is None:
                continue
            value = params[name]
            if name in self.tails:
                parts = [p for p in value.split("/") if p]
                for p in parts:
                    _refuse_dots(p)
                out.append("/".join(quote(p, safe="") for p in parts))
            else:
                _refuse_dots(value)
                out.append(quote(value, safe=""))
        return "".join(out)


def _refuse_dots(value: str) -> None:
    if value in {".", ".."}:
        raise Problem(400, "A path segment may not be '.' or '..'", slug="bad-path")


@dataclass(frozen=True)
class AppTable:
    """Everything one micro-app's file says, ready for lookups. Never mutated: swap a new one."""

    name: str
    digest: str
    router: Router[GatewayRoute]
    routes: tuple[GatewayRoute, ...]
    upstreams: dict[str, Upstream] = field(default_factory=dict)

    def match(self, method: str, path: str) -> Match[GatewayRoute]:
        return self.router.match(method, path)


@dataclass(frozen=True)
class CompileResult:
    table: AppTable | None
    errors: list[FileError]
    warnings: list[FileError]

    @property
    def ok(self) -> bool:
        return self.table is not None


def compile_table(
    name: str, raw: bytes | str, policy: UpstreamPolicy = DEFAULT_POLICY
) -> CompileResult:
    """Validate a whole file and build its table; any error means no table.

    `policy` says which secrets and addresses an upstream may use (host/gateway/policy.py)."""
    data = raw.encode() if isinstance(raw, str) else raw
    document, positions, errors = parse_document(data)
    if positions is None:
        return CompileResult(None, errors, [])
    if errors:  # report the routes' own errors too: a schema error must not hide them
        return CompileResult(None, _sorted(errors + _route_errors(document, positions, errors)), [])
    upstreams, errors = _upstreams(document.get("upstreams", {}), positions, policy)
    router: Router[GatewayRoute] = Router()
    routes: list[GatewayRoute] = []
    segments: list[tuple[Segment, ...]] = []
    for index, spec in enumerate(document["routes"]):
        here = f"/routes/{index}"
        try:
            route, segs = _route(index, spec, upstreams)
            router.add(route.path, route.methods, route, route.priority)
        except PatternError as exc:
            errors.append(_pattern_error(exc, positions, here))
            continue
        routes.append(route)
        segments.append(segs)
    if errors:
        return CompileResult(None, _sorted(errors), [])
    warnings = _shadowed(routes, segments, positions)
    table = AppTable(name, content_hash(data), router, tuple(routes), upstreams)
    return CompileResult(table, [], warnings)


def _pattern_error(exc: PatternError, positions: Positions, here: str) -> FileError:
    key = exc.key if isinstance(exc, _FieldError) else "/path"
    if "location" in str(exc) and not isinstance(exc, _FieldError):
        key = "/location"
    return _error(str(exc), positions, here + key)


def _route_errors(document: Any, positions: Positions, known: list[FileError]) -> list[FileError]:
    """The per-route checks, run on a file that failed the schema: every route whose path and
    location are strings is checked (a path missing its leading '/' as if it had one), and errors
    at a value the schema already flagged are left out."""
    routes = document.get("routes") if isinstance(document, dict) else None
    if not isinstance(routes, list):
        return []
    flagged = {e.pointer for e in known}
    try:
        upstreams, _ = _upstreams(document.get("upstreams") or {}, positions)
        check_upstreams = not any(p.startswith("/upstreams") for p in flagged)
    except (AttributeError, KeyError, TypeError, ValueError):
        upstreams, check_upstreams = {}, False
    out: list[FileError] = []
    for index, spec in enumerate(routes):
        if not isinstance(spec, dict):
            continue
        path, location = spec.get("path"), spec.get("location")
        if not isinstance(path, str) or not isinstance(location, str):
            continue
        here = f"/routes/{index}"
        spec = {  # members the schema flagged are its to report
            k: v for k, v in spec.items() if not any(p.startswith(f"{here}/{k}") for p in flagged)
        }
        spec["path"], spec["location"] = "/" + path.lstrip("/"), location
        if not check_upstreams:
            spec.pop("upstream", None)
        try:
            _route(index, spec, upstreams)
        except PatternError as exc:
            error = _pattern_error(exc, positions, here)
            if error.pointer not in flagged:
                out.append(error)
        except (AttributeError, TypeError, ValueError):  # a malformed member: the schema said so
            continue
    return out


def _error(message: str, positions: Positions, pointer: str) -> FileError:
    line, column = positions.at(pointer)
    return FileError(f"{pointer}: {message}", line, column, pointer)


def _sorted(errors: list[FileError]) -> list[FileError]:
    return sorted(errors, key=lambda e: (e.line, e.column))


def _policy_errors(
    name: str, spec: dict[str, Any], policy: UpstreamPolicy
) -> list[tuple[str, str]]:
    """(pointer, message) for what the policy refuses in one upstream."""
    here = f"/upstreams/{name}"
    found = [(f"{here}/url", policy.url_error(spec["url"]))]
    client = spec.get("client")
    if client:
        found.append((f"{here}/client/token_url", policy.url_error(client["token_url"])))
        if client.get("secret_env") is not None:
            error = policy.secret_env_error(client["secret_env"])
            found.append((f"{here}/client/secret_env", error))
        if client.get("secret_file") is not None:
            error = policy.secret_file_error(client["secret_file"])
            found.append((f"{here}/client/secret_file", error))
    return [(pointer, message) for pointer, message in found if message]


def _upstreams(
    specs: dict[str, Any], positions: Positions, policy: UpstreamPolicy = DEFAULT_POLICY
) -> tuple[dict[str, Upstream], list[FileError]]:
    out: dict[str, Upstream] = {}
    errors: list[FileError] = []
    for name, spec in specs.items():
        client = spec.get("client")
        # refused upstreams stay declared (no table is built anyway), so that the routes using
        # them do not add "not declared" errors
        refused = _policy_errors(name, spec, policy)
        errors.extend(_error(message, positions, pointer) for pointer, message in refused)
        url = URL(spec["url"])
        if url.query_string or url.fragment or url.user:
            errors.append(
                _error(
                    "url must not carry a query, fragment or user",
                    positions,
                    f"/upstreams/{name}/url",
                )
            )
            continue
        out[name] = Upstream(
            name=name,
            url=url,
            timeout=float(spec.get("timeout", 30)),
            connect_timeout=float(spec.get("connect_timeout", 5)),
            client=ClientConfig(
                token_url=client["token_url"],
                client_id=client["client_id"],
                secret_env=client.get("secret_env"),
                secret_file=(
                    str(policy.secret_path(client["secret_file"]))
                    if client.get("secret_file")
                    else None
                ),
                scope=client.get("scope"),
                auth=client.get("auth", "basic"),
            )
            if client
            else None,
        )
    return out, errors


class _FieldError(PatternError):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def _route(
    index: int, spec: dict[str, Any], upstreams: dict[str, Upstream]
) -> tuple[GatewayRoute, tuple[Segment, ...]]:
    path = spec["path"]
    segments = parse_pattern(path)
    names = {s.value for s in segments if s.kind != "static"}
    tails = frozenset(s.value for s in segments if s.kind == "tail")
    location = spec["location"]
    upstream = spec.get("upstream")
    if upstream is not None and upstream not in upstreams:
        known = ", ".join(sorted(upstreams)) or "none declared"
        raise _FieldError("/upstream", f"upstream {upstream!r} is not declared ({known})")
    pieces: list[tuple[str, str | None]] = []
    last = 0
    for m in _PLACEHOLDER.finditer(location):
        if m.group(1) not in names:
            raise PatternError(
                f"location {location!r} uses {{{m.group(1)}}}, which the path {path!r} lacks"
            )
        pieces.append((location[last : m.start()], m.group(1)))
        last = m.end()
    rest = location[last:]
    if rest:
        pieces.append((rest, None))
    literal = _PLACEHOLDER.sub("x", location)
    if "{" in literal or "}" in literal or "?" in literal or "#" in literal:
        raise PatternError(f"location {location!r}: bad placeholder, '?' or '#'")
    if any(seg in {".", ".."} for seg in literal.split("/")):
        raise PatternError(f"location {location!r} may not contain '.' or '..' segments")
    methods = tuple(m.upper() for m in spec.get("methods", ["GET"]))
    if not set(methods) <= ALL_METHODS:
        raise PatternError(f"path: unknown method in {methods}")
    route = GatewayRoute(
        index=index,
        path=path,
        methods=methods,
        location=location,
        pieces=tuple(pieces),
        tails=tails,
        roles=tuple(spec.get("roles", ())),
        public=bool(spec.get("public", False)),
        priority=int(spec.get("priority", 0)),
        upstream=upstream,
    )
    return route, segments


def covers(general: tuple[Segment, ...], specific: tuple[Segment, ...]) -> bool:
    """True when every path `specific` matches is also matched by `general`."""
    for i, seg in enumerate(general):
        if seg.kind == "tail":
            return True  # the rest, whatever it is (including a tail of `specific`)
        if i >= len(specific):
            return False
        other = specific[i]
        if other.kind == "tail":
            return False
        if seg.kind == "static" and (other.kind != "static" or other.value != seg.value):
            return False
    return len(general) == len(specific)


def _shadowed(
    routes: list[GatewayRoute], segments: list[tuple[Segment, ...]], positions: Positions
) -> list[FileError]:
    """Routes some higher-priority route always beats (only possible with priorities)."""
    warnings: list[FileError] = []
    ranked = [i for i, r in enumerate(routes) if r.priority != 0]
    if not ranked:
        return warnings
    for i, route in enumerate(routes):
        for j in ranked:
            winner = routes[j]
            if j == i or winner.priority <= route.priority:
                continue
            lost = [m for m in route.methods if m in winner.methods]
            if lost and covers(segments[j], segments[i]):
                warnings.append(
                    _error(
                        f"route {route.path!r} is shadowed for {', '.join(lost)} by route "
                        f"#{winner.index} {winner.path!r} (priority {winner.priority})",
                        positions,
                        f"/routes/{route.index}/path",
                    )
                )
                break
    return warnings
