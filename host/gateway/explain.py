"""`plughost routes explain`: which gateway route a call matches, why, and where it goes.

A pure function over route file texts (no server, no I/O), so the CLI explains the files on disk and
the admin route editor explains the text being edited before it is saved, with the same words.
It follows the serving path step by step: app selection (the `/apps/<app>/` prefix, else the
`X-App-Name` header), the lookup in that app's table (specificity, then priority), the mapped
location or upstream URL, and the roles the call needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from host.gateway.schema import Positions, parse_document
from host.gateway.table import AppTable, GatewayRoute, compile_table
from host.pipeline.routing import MethodNotAllowed, parse_pattern
from host.problems import Problem

__all__ = ("Explanation", "explain")

APP_PREFIX = "/apps/"  # as host.gateway.stage; repeated to keep this module free of the pipeline


@dataclass
class Explanation:
    """The answer: `status` is what the gateway would answer before roles (200, 400, 404, 405)."""

    method: str
    path: str
    status: int = 200
    app: str | None = None
    app_path: str = ""
    lines: list[str] = field(default_factory=list)
    route: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "app": self.app,
            "app_path": self.app_path,
            "route": self.route,
            "explanation": self.lines,
        }

    def text(self) -> str:
        return "\n".join(self.lines)


def explain(
    files: Mapping[str, tuple[str, bytes | str]],
    method: str,
    path: str,
    *,
    app: str | None = None,
) -> Explanation:
    """Explain `METHOD PATH` against route files given as {app: (file name, text)}.

    `app` plays the `X-App-Name` header; a path under `/apps/<app>/` selects its app itself.
    """
    method = method.upper()
    out = Explanation(method, path)
    say = out.lines.append
    say(f"{method} {path}")
    if path.startswith(APP_PREFIX):
        name, _, rest = path[len(APP_PREFIX) :].partition("/")
        if app and app.lower() != name.lower():
            out.status = 400
            say(f"refused (400): X-App-Name {app!r} disagrees with the path's app {name!r}")
            return out
        out.app, out.app_path = name.lower(), "/" + rest
        say(f"app: {out.app}, selected by the {APP_PREFIX}{name}/ prefix; path in the app: /{rest}")
    elif app:
        out.app, out.app_path = app.lower(), path
        say(f"app: {out.app}, selected by the X-App-Name header; path in the app: {path}")
    else:
        say(
            "app: none (no X-App-Name header, no /apps/<app>/ prefix): the call goes to the "
            "internal API unchanged (refused with 404 when PLUGHOST_GATEWAY_DIRECT_API=false)"
        )
        return out
    if out.app not in files:
        out.status = 404
        known = ", ".join(sorted(files)) or "none"
        say(f"no route file for app {out.app!r} (404 unknown-app); apps with a file: {known}")
        return out
    filename, raw = files[out.app]
    result = compile_table(out.app, raw)
    if result.table is None:
        out.status = 404
        first = result.errors[0].format(filename) if result.errors else filename
        say(f"{filename} has {len(result.errors)} error(s) and serves no table; first: {first}")
        return out
    _lookup(out, result.table, filename, _positions(raw))
    return out


def _positions(raw: bytes | str) -> Positions | None:
    return parse_document(raw)[1]


def _where(filename: str, positions: Positions | None, route: GatewayRoute) -> str:
    if positions is None:
        return filename
    line, column = positions.at(f"/routes/{route.index}")
    return f"{filename}:{line}:{column}"


def _label(route: GatewayRoute) -> str:
    extra = f", priority {route.priority}" if route.priority else ""
    return f"route #{route.index} {route.path} [{', '.join(route.methods)}{extra}]"


def _lookup(out: Explanation, table: AppTable, filename: str, positions: Positions | None) -> None:
    say = out.lines.append
    found, allowed = table.router.candidates(out.method, out.app_path)
    if not found:
        if allowed:
            out.status = 405
            say(
                f"no route for {out.method} on {out.app_path} (405); the path allows: "
                + ", ".join(MethodNotAllowed(allowed).allowed)
            )
        else:
            out.status = 404
            say(f"no route matches {out.app_path} in {filename} (404)")
        return
    prioritised = any(r.priority for r in table.routes)
    # what Router.match picks: the first (most specific) of the highest priority
    best = max(found, key=lambda pm: pm[0]) if prioritised else found[0]
    winner, match = best[1].target, best[1]
    say(f"matches: {_label(winner)} at {_where(filename, positions, winner)}")
    if len(found) == 1:
        say("  why: it is the only route whose pattern matches the path and method")
    elif prioritised and any(p < best[0] for p, _ in found):
        say(f"  why: highest priority ({best[0]}) among {len(found)} matching routes")
    else:
        say(
            f"  why: most specific of {len(found)} matching routes (at each segment a static "
            "segment beats a {parameter}, which beats a {tail*})"
        )
    if match.params:
        say("  parameters: " + ", ".join(f"{k}={v!r}" for k, v in match.params.items()))
    for priority, other in found:
        if other is match:
            continue
        loser = other.target
        if priority < best[0]:
            reason = f"lower priority ({priority} < {best[0]})"
        elif priority == best[0] and prioritised:
            reason = f"tie on priority {priority}, broken by specificity: less specific"
        else:
            reason = "less specific"
        say(f"  also matches, not chosen: {_label(loser)}: {reason}")
    try:
        location = winner.target(match.params)
    except Problem as exc:
        out.status = exc.status
        say(f"refused ({exc.status}): {exc.detail}")
        return
    if winner.upstream is None:
        say(f"goes to: internal {out.method} {location}")
    else:
        upstream = table.upstreams[winner.upstream]
        url = str(upstream.url).rstrip("/") + location
        token = f", with a token from {upstream.client.token_url}" if upstream.client else ""
        say(f"goes to: upstream {upstream.name!r}: {out.method} {url}{token}")
    if winner.public:
        roles = "public: no identity needed"
    elif winner.roles:
        roles = "any one of " + ", ".join(winner.roles) + " (or admin); else 401/403"
    else:
        roles = "any authenticated identity; else 401"
    say(f"roles: {roles}")
    out.route = {
        "index": winner.index,
        "path": winner.path,
        "methods": list(winner.methods),
        "priority": winner.priority,
        "params": match.params,
        "location": location,
        "upstream": winner.upstream,
        "roles": list(winner.roles),
        "public": winner.public,
        "where": _where(filename, positions, winner),
        "segments": [s.kind for s in parse_pattern(winner.path)],
    }
