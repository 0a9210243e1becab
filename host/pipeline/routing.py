"""Path patterns compiled into a segment trie: lookup cost grows with path depth, not route count.

Pattern syntax (shared by plugin REST routes and routes.d files):
  /clients            static segments
  /clients/{id}       a parameter: exactly one non-empty segment
  /files/{path*}      a tail wildcard: the rest of the path (may be empty), last segment only
Matching is deterministic: at each segment a static child beats a parameter, which beats a
wildcard; the router backtracks when a more specific branch leads nowhere. A route may carry an
explicit `priority` (default 0): when any route has one, every matching route is considered and the
highest priority wins, ties going to the most specific (the order above).

`Router(resources=True)` matches as OpenAPI reads a document (the plugin API's router): a path
belongs to the most specific pattern that matches it whatever the method, so `PUT /a/status`
with `GET /a/status` and `PUT /a/{x}` is a 405 whose `Allow` is the methods of `/a/status` alone,
never a fall-back to `/a/{x}`. Without it (route files), the walk backtracks for a method too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Generic, TypeVar
from urllib.parse import unquote

__all__ = (
    "Match",
    "MethodNotAllowed",
    "NoRoute",
    "PatternError",
    "Router",
    "parse_pattern",
    "split_path",
)

T = TypeVar("T")
_PARAM = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)(\*?)\}$")
_STATIC = re.compile(r"^[A-Za-z0-9._~!$&'()+,;=:@-]+$")
ALL_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class PatternError(ValueError):
    """A route pattern that cannot be compiled."""


class NoRoute(LookupError):
    """No pattern matches the path."""


class MethodNotAllowed(LookupError):
    def __init__(self, allowed: Iterable[str]) -> None:
        methods = set(allowed)
        if "GET" in methods:  # HEAD is answered by the GET handler
            methods.add("HEAD")
        self.allowed = tuple(sorted(methods))
        super().__init__(", ".join(self.allowed))


@dataclass(frozen=True, slots=True)
class Segment:
    kind: str  # "static" | "param" | "tail"
    value: str  # the text for static, the name otherwise


@dataclass(frozen=True, slots=True)
class Match(Generic[T]):
    target: T
    params: Mapping[str, str]
    pattern: str


_NO_PARAMS: Mapping[str, str] = MappingProxyType({})


def split_path(path: str) -> list[str]:
    """'/a/b/' -> ['a', 'b']: empty segments are dropped, so '/a//b' and '/a/b/' match like '/a/b'."""
    return [s for s in path.split("/") if s]


def parse_pattern(pattern: str) -> tuple[Segment, ...]:
    if not pattern.startswith("/"):
        raise PatternError(f"pattern {pattern!r} must start with '/'")
    parts = split_path(pattern)
    segments: list[Segment] = []
    names: set[str] = set()
    for index, part in enumerate(parts):
        param = _PARAM.match(part)
        if param:
            name, star = param.groups()
            if name in names:
                raise PatternError(f"pattern {pattern!r} repeats the parameter {{{name}}}")
            names.add(name)
            if star and index != len(parts) - 1:
                raise PatternError(f"pattern {pattern!r}: {{{name}*}} must be the last segment")
            segments.append(Segment("tail" if star else "param", name))
        elif part == "*" and index == len(parts) - 1:
            segments.append(Segment("tail", "tail"))
        elif _STATIC.match(part) and part not in {".", ".."}:
            segments.append(Segment("static", part))
        else:
            raise PatternError(f"pattern {pattern!r}: bad segment {part!r}")
    return tuple(segments)


def shape(segments: tuple[Segment, ...]) -> str:
    """Two patterns with the same shape match the same paths ('/a/{x}' and '/a/{y}')."""
    return "/" + "/".join(
        s.value if s.kind == "static" else ("*" if s.kind == "tail" else "{}") for s in segments
    )


_Entry = tuple[tuple[str, ...], str, T, int]


@dataclass
class _Node(Generic[T]):
    static: dict[str, _Node[T]] = field(default_factory=dict)
    param: _Node[T] | None = None
    param_names: dict[str, None] = field(default_factory=dict)
    # method -> (parameter names, pattern, target, priority); a tail route's last name is the tail's
    methods: dict[str, _Entry[T]] = field(default_factory=dict)
    tail: dict[str, _Entry[T]] = field(default_factory=dict)


class Router(Generic[T]):
    """Method + path -> target. Build it once, then only read it (swap a new one to change)."""

    def __init__(self, *, resources: bool = False) -> None:
        self._resources = resources
        """A path is the resource of its most specific pattern: no backtracking for a method."""
        self._root: _Node[T] = _Node()
        self._count = 0
        self._prioritised = False
        # fully static patterns by their canonical path: one dict lookup for the commonest case
        # (a static route beats any parameter or tail at every segment, so it is what the walk
        # would find first; when its method does not fit, the walk still runs and backtracks)
        self._static: dict[str, dict[str, Match[T]]] = {}
        """Paths without parameters: method -> its Match, built once (the common lookup)."""

    def __len__(self) -> int:
        return self._count

    def add(self, pattern: str, methods: Iterable[str], target: T, priority: int = 0) -> None:
        """Add a route; raises PatternError for a bad pattern or a method already routed there."""
        segments = parse_pattern(pattern)
        if priority and self._resources:
            raise PatternError(f"pattern {pattern!r}: a resource router has no priorities")
        node = self._root
        names: list[str] = []
        for seg in segments:
            if seg.kind == "static":
                node = node.static.setdefault(seg.value, _Node())
            elif seg.kind == "param":
                if node.param is None:
                    node.param = _Node()
                node = node.param
                names.append(seg.value)
            else:
                break
        wanted = [m.upper() for m in methods]
        for method in wanted:
            if method not in ALL_METHODS:
                raise PatternError(f"pattern {pattern!r}: unknown method {method!r}")
        is_tail = bool(segments) and segments[-1].kind == "tail"
        if is_tail:
            names.append(segments[-1].value)
        table = node.tail if is_tail else node.methods
        for method in wanted:
            if method in table:
                raise PatternError(f"{method} {pattern!r} duplicates {method} {table[method][1]!r}")
        for method in wanted:
            table[method] = (tuple(names), pattern, target, priority)
        if all(seg.kind == "static" for seg in segments):
            canonical = "/" + "/".join(seg.value for seg in segments)
            for method in wanted:
                self._static.setdefault(canonical, {})[method] = Match(target, _NO_PARAMS, pattern)
        self._prioritised = self._prioritised or priority != 0
        self._count += 1

    def match(self, method: str, path: str) -> Match[T]:
        """Find the most specific route; NoRoute or MethodNotAllowed(allowed) otherwise."""
        if not self._prioritised:
            static = self._static.get(path)
            if static is not None:
                hit = static.get(method) or (static.get("GET") if method == "HEAD" else None)
                if hit is not None:
                    return hit
                if self._resources:  # the static resource owns the path
                    raise MethodNotAllowed(static)
        parts = [unquote(p) for p in split_path(path)]
        allowed: set[str] = set()
        if self._prioritised:
            found_all: list[tuple[int, Match[T]]] = []
            self._walk(self._root, parts, 0, [], method.upper(), allowed, found_all)
            if found_all:  # max() keeps the first (most specific) of equal priorities
                return max(found_all, key=lambda pm: pm[0])[1]
        else:
            found = self._walk(self._root, parts, 0, [], method.upper(), allowed)
            if found is not None:
                return found
        if allowed:
            raise MethodNotAllowed(allowed)
        raise NoRoute(path)

    def candidates(self, method: str, path: str) -> tuple[list[tuple[int, Match[T]]], set[str]]:
        """Every (priority, match) for the path in specificity order, and the methods the path
        allows; for explaining a lookup (`plughost routes explain`), not for serving."""
        parts = [unquote(p) for p in split_path(path)]
        found: list[tuple[int, Match[T]]] = []
        allowed: set[str] = set()
        self._walk(self._root, parts, 0, [], method.upper(), allowed, found)
        return found, allowed

    def _walk(
        self,
        node: _Node[T],
        parts: list[str],
        index: int,
        values: list[str],
        method: str,
        allowed: set[str],
        collect: list[tuple[int, Match[T]]] | None = None,
    ) -> Match[T] | None:
        """The first match in specificity order; with `collect`, every match is appended there."""
        if index == len(parts):
            hit = self._pick(node.methods, method, allowed)
            if hit is None and node.methods and self._resources and collect is None:
                raise MethodNotAllowed(node.methods)  # this resource owns the path
            if hit is not None:
                names, pattern, target, priority = hit
                here = Match(target, dict(zip(names, values, strict=True)), pattern)
                if collect is None:
                    return here
                collect.append((priority, here))
        else:
            child = node.static.get(parts[index])
            if child is not None:
                found = self._walk(child, parts, index + 1, values, method, allowed, collect)
                if found is not None:
                    return found
            if node.param is not None:
                values.append(parts[index])
                found = self._walk(node.param, parts, index + 1, values, method, allowed, collect)
                values.pop()
                if found is not None:
                    return found
        if node.tail:
            hit = self._pick(node.tail, method, allowed)
            if hit is None and self._resources and collect is None:
                raise MethodNotAllowed(node.tail)
            if hit is not None:
                names, pattern, target, priority = hit
                params = dict(zip(names, [*values, "/".join(parts[index:])], strict=True))
                here = Match(target, params, pattern)
                if collect is None:
                    return here
                collect.append((priority, here))
        return None

    @staticmethod
    def _pick(table: dict[str, _Entry[T]], method: str, allowed: set[str]) -> _Entry[T] | None:
        """The entry for `method` (HEAD falls back to GET); else note what the path allows."""
        hit = table.get(method)
        if hit is None and method == "HEAD":
            hit = table.get("GET")
        if hit is None:
            allowed.update(table)
        return hit
