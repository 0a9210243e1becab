"""References from a batch item to the answers of the items it depends on (pure functions).

Two forms, both resolved against parsed JSON answers:

- Fineract's whole value: a string that is exactly `$.path` is replaced by the value at `path` in
  the *reference* parent's answer, keeping its JSON type (`"$.clientId"` becomes the number 7).
- Ours: `${id:$.path}` inside any string (body values, relativeUrl, header values) is replaced by
  the text of that value from the answer of ancestor `id`; `${$.path}` means the reference parent.
  A string that is exactly one `${...}` keeps the JSON type in a body, like the whole-value form.

`$$` is a literal `$`. A path that matches nothing raises `Unresolved`, never gives a silent null.
The path language is a JSONPath subset: `$`, `.name`, `[n]` (negative counts from the end),
`['name']`, in any combination and depth.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

__all__ = (
    "Lookup",
    "PathError",
    "Ref",
    "Unresolved",
    "find_refs",
    "find_refs_json",
    "lookup_path",
    "parse_path",
    "quote_segment",
    "resolve_json",
    "resolve_text",
    "to_text",
)

Step = str | int
Path = tuple[Step, ...]

_NAME = r"[A-Za-z_][A-Za-z0-9_\-]*"
_STEP = re.compile(rf"\.({_NAME})|\[(-?\d+)\]|\['([^'\]]*)'\]|\[\"([^\"\]]*)\"\]")
_ID = r"[A-Za-z0-9_.\-]+"
# `$$`, or `${id:$.path}` / `${$.path}`; the path runs to the closing brace
_TOKEN = re.compile(rf"\$\$|\$\{{(?:({_ID}):)?(\$[^}}]*)\}}")


class PathError(ValueError):
    """A reference that is not valid syntax (found before anything runs: a 400)."""


class Unresolved(LookupError):
    """A reference whose path matches nothing in the answer (the item's own error)."""

    def __init__(self, source: str | None, path: str, reason: str) -> None:
        super().__init__(f"{path} {reason}")
        self.source = source
        self.path = path
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Ref:
    """One reference: `source` is a requestId as text, or None for the reference parent."""

    source: str | None
    path: str
    steps: Path


Lookup = Callable[[str | None, str, Path], Any]
"""Gives the value at `steps` in the answer of `source` (None: the reference parent)."""


def parse_path(text: str) -> Path:
    """`$.a.b[0]['c d']` → ("a", "b", 0, "c d"); PathError for anything else."""
    if not text.startswith("$"):
        raise PathError(f"{text!r} is not a path: it must start with '$'")
    steps: list[Step] = []
    pos = 1
    while pos < len(text):
        match = _STEP.match(text, pos)
        if match is None:
            raise PathError(f"{text!r} is not a valid path at character {pos + 1}")
        name, index, quoted1, quoted2 = match.groups()
        if index is not None:
            steps.append(int(index))
        else:
            steps.append(name if name is not None else (quoted1 or quoted2 or ""))
        pos = match.end()
    return tuple(steps)


def lookup_path(document: Any, steps: Path, *, source: str | None, path: str) -> Any:
    """The value at `steps`; `Unresolved` naming the path when something on the way is missing."""
    value = document
    for step in steps:
        if isinstance(step, int):
            if not isinstance(value, list):
                raise Unresolved(source, path, f"indexes [{step}] into a non-array")
            if not -len(value) <= step < len(value):
                raise Unresolved(source, path, f"index [{step}] is out of range")
            value = value[step]
        else:
            if not isinstance(value, dict) or step not in value:
                raise Unresolved(source, path, f"matched nothing (no field {step!r})")
            value = value[step]
    return value


def _whole(text: str) -> Ref | None:
    """The Fineract form: the whole string is `$.path` (or `$[n]...`)."""
    if len(text) > 1 and text[0] == "$" and text[1] in ".[":
        return Ref(None, text, parse_path(text))
    return None


def _tokens(text: str) -> Iterator[re.Match[str]]:
    return _TOKEN.finditer(text)


def _check_braces(text: str) -> None:
    """A `${` that is not a complete reference is a mistake, not literal text."""
    stripped = _TOKEN.sub("", text)
    if "${" in stripped:
        raise PathError(f"{text!r} has an unterminated or malformed '${{...}}' reference")


def find_refs(text: str) -> list[Ref]:
    """Every reference in a string (PathError on bad syntax). Used to validate before running."""
    whole = _whole(text)
    if whole is not None:
        return [whole]
    if "$" not in text:
        return []
    _check_braces(text)
    refs = []
    for match in _tokens(text):
        if match.group(0) == "$$":
            continue
        path = match.group(2)
        refs.append(Ref(match.group(1), path, parse_path(path)))
    return refs


def find_refs_json(value: Any) -> Iterator[Ref]:
    """References in every string value of a JSON document (keys are never templates)."""
    if isinstance(value, str):
        yield from find_refs(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from find_refs_json(item)
    elif isinstance(value, list):
        for item in value:
            yield from find_refs_json(item)


def to_text(value: Any) -> str:
    """How a referenced value reads inside a string: strings as they are, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def resolve_text(
    text: str,
    lookup: Lookup,
    *,
    keep_type: bool = False,
    encode: Callable[[str], str] | None = None,
) -> Any:
    """Resolve every reference in `text`; with `keep_type`, a lone reference keeps its JSON type.

    `encode` is applied to substituted values only (e.g. percent-encoding inside a URL path), so a
    value from an answer can never add path separators or query syntax of its own.
    """
    whole = _whole(text)
    if whole is not None:
        value = lookup(None, whole.path, whole.steps)
        if keep_type:
            return value
        return encode(to_text(value)) if encode else to_text(value)
    if "$" not in text:
        return text
    match = _TOKEN.fullmatch(text)
    if keep_type and match is not None and match.group(0) != "$$":
        path = match.group(2)
        return lookup(match.group(1), path, parse_path(path))

    def substitute(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        path = m.group(2)
        piece = to_text(lookup(m.group(1), path, parse_path(path)))
        return encode(piece) if encode else piece

    return _TOKEN.sub(substitute, text)


def resolve_json(value: Any, lookup: Lookup) -> Any:
    """A copy of a JSON document with every string value resolved (types kept for lone refs)."""
    if isinstance(value, str):
        return resolve_text(value, lookup, keep_type=True)
    if isinstance(value, dict):
        return {key: resolve_json(item, lookup) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve_json(item, lookup) for item in value]
    return value


def quote_segment(text: str) -> str:
    """Percent-encode a substituted value for a URL path segment ('/' and '?' included)."""
    return quote(text, safe="")
