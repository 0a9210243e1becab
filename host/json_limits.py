"""JSON from clients, with limits on what a valid document may hold.

Valid JSON can still hurt: an array nested 100,000 deep makes the decoder raise RecursionError, one
nested 900 deep decodes but then breaks every recursive consumer (pydantic, graphql-core, `json.dumps`
of an answer), and an integer of 5,000 digits makes `int()` raise (CPython refuses more than 4,300
digits, because the conversion is quadratic). All three came out as 500s. Here they are one error,
`JSONTooComplex`, that the HTTP layer turns into a 400.

Limits (module constants, documented in docs/security.md):
- `MAX_DEPTH` nested arrays/objects (64): far more than any API body here needs.
- `MAX_INT_DIGITS` digits in an integer literal (100): no column or amount needs more, and
  larger integers than the database stores are refused later as `value-out-of-range`.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ("MAX_DEPTH", "MAX_INT_DIGITS", "JSONTooComplex", "loads")

MAX_DEPTH = 64
MAX_INT_DIGITS = 100


class JSONTooComplex(ValueError):
    """Valid JSON that is nested too deep or holds too long a number."""


def _parse_int(text: str) -> int:
    if len(text) > MAX_INT_DIGITS and len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise JSONTooComplex(
            f"an integer has {len(text.lstrip('-'))} digits; at most {MAX_INT_DIGITS} are accepted"
        )
    return int(text)


def _parse_constant(name: str) -> Any:
    # NaN and Infinity are not JSON (RFC 8259); Python's decoder accepts them by default
    raise JSONTooComplex(f"{name} is not a JSON value")


def loads(raw: bytes | str, *, strict: bool = True, max_depth: int = MAX_DEPTH) -> Any:
    """`json.loads` with the limits above; JSONDecodeError for syntax, JSONTooComplex for limits.

    UnicodeDecodeError (bytes that are not UTF-8) passes through for the caller to name.
    """
    try:
        value = json.loads(raw, strict=strict, parse_int=_parse_int, parse_constant=_parse_constant)
    except RecursionError:
        raise JSONTooComplex(
            f"the document is nested deeper than {max_depth} arrays/objects"
        ) from None
    # fast path: a document with fewer brackets than the limit cannot be nested deeper
    if isinstance(raw, bytes):
        opening = raw.count(b"[") + raw.count(b"{")
    else:
        opening = raw.count("[") + raw.count("{")
    if opening > max_depth and depth_exceeds(value, max_depth):
        raise JSONTooComplex(f"the document is nested deeper than {max_depth} arrays/objects")
    return value


def depth_exceeds(value: Any, max_depth: int) -> bool:
    """True when `value` nests more than `max_depth` lists/dicts (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        if depth > max_depth:
            return True
        stack.extend((child, depth) for child in children if isinstance(child, dict | list))
    return False
