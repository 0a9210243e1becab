"""Parse and schema-check one routes.d file, reporting every error with its line and column.

`json.loads` knows positions only for syntax errors; for schema errors we walk the (already valid)
text once and record where each value starts, keyed by its JSON pointer, so a schema error at
`/routes/3/path` points at the line and column of that value in the file. All pure functions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from host import json_limits

__all__ = ("SCHEMA_PATH", "FileError", "Positions", "load_schema", "parse_document")

SCHEMA_PATH = Path(__file__).with_name("routes.schema.json")
_WS = " \t\n\r"
_DECODER = json.JSONDecoder()


@dataclass(frozen=True, slots=True)
class FileError:
    """One problem in a routes file: what, where (1-based line and column) and which value."""

    message: str
    line: int
    column: int
    pointer: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def format(self, filename: str, level: str = "error") -> str:
        return f"{filename}:{self.line}:{self.column}: {level}: {self.message}"


class Positions:
    """JSON pointer -> (line, column) of the value (and of the key, for object members)."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._starts: dict[str, int] = {}
        self._line_starts: list[int] = []

    def _index(self) -> None:
        """Walk the text once, on the first question (valid files never need it)."""
        if self._line_starts:
            return
        text = self._text
        self._line_starts = [0, *(m.end() for m in re.finditer("\n", text))]
        try:
            self._value(_skip(text, 0), "")
        except (ValueError, IndexError):  # not valid JSON: only the root is known
            self._starts.setdefault("", 0)

    def at(self, pointer: str) -> tuple[int, int]:
        """Position of the value at `pointer`, else of its closest known parent."""
        self._index()
        while pointer and pointer not in self._starts:
            pointer = pointer.rsplit("/", 1)[0]
        return self.line_col(self._starts.get(pointer, 0))

    def line_col(self, offset: int) -> tuple[int, int]:
        lo, hi = 0, len(self._line_starts) - 1
        while lo < hi:  # last line start <= offset
            mid = (lo + hi + 1) // 2
            if self._line_starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1, offset - self._line_starts[lo] + 1

    def _value(self, i: int, pointer: str) -> int:
        text = self._text
        self._starts[pointer] = i
        ch = text[i]
        if ch == "{":
            i = _skip(text, i + 1)
            if text[i] == "}":
                return i + 1
            while True:
                key, i = _DECODER.raw_decode(text, i)
                i = _skip(text, i)
                i = _skip(text, i + 1)  # past ':'
                i = _skip(text, self._value(i, f"{pointer}/{_escape(str(key))}"))
                if text[i] == "}":
                    return i + 1
                i = _skip(text, i + 1)  # past ','
        if ch == "[":
            i = _skip(text, i + 1)
            if text[i] == "]":
                return i + 1
            index = 0
            while True:
                i = _skip(text, self._value(i, f"{pointer}/{index}"))
                index += 1
                if text[i] == "]":
                    return i + 1
                i = _skip(text, i + 1)
        _, end = _DECODER.raw_decode(text, i)
        return int(end)


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WS:
        i += 1
    return i


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def pointer_of(path: Any) -> str:
    return "".join(f"/{_escape(str(p))}" for p in path)


@cache
def load_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text())
    Draft202012Validator.check_schema(schema)
    return schema


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(load_schema())


@cache
def _route_validator() -> Draft202012Validator:
    schema = load_schema()
    return Draft202012Validator({"$defs": schema["$defs"], **schema["$defs"]["route"]})


def _schema_errors(document: Any) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """(path, error) for every schema error. Route objects that `_plain_route` vouches for skip
    jsonschema (10,000 routes: 2 s -> 0.1 s); every other one is validated by the schema itself,
    so the schema file stays the one definition of what is valid."""
    routes = document.get("routes") if isinstance(document, dict) else None
    if not isinstance(routes, list):
        for err in _validator().iter_errors(document):
            yield tuple(err.absolute_path), err
        return
    for err in _validator().iter_errors({**document, "routes": []}):
        yield tuple(err.absolute_path), err
    plain = _plain_route_check()
    for index, route in enumerate(routes):
        if not plain(route):
            for err in _route_validator().iter_errors(route):
                yield ("routes", index, *err.absolute_path), err


@cache
def _plain_route_check() -> Callable[[Any], bool]:
    route = load_schema()["$defs"]["route"]
    keys = frozenset(route["properties"])
    methods = frozenset(load_schema()["$defs"]["method"]["enum"])

    def strings(value: Any, allowed: frozenset[str] | None = None) -> bool:
        # element types first: `set()` of a list holding a list raises (found by hypothesis)
        return (
            type(value) is list
            and all(type(v) is str and v and (allowed is None or v in allowed) for v in value)
            and len(set(value)) == len(value)
        )

    def plain(item: Any) -> bool:
        """True only for route objects the schema surely accepts (a conservative shortcut)."""
        if type(item) is not dict or not item.keys() <= keys:
            return False
        path, location = item.get("path"), item.get("location")
        if type(path) is not str or type(location) is not str:
            return False
        if not path.startswith("/") or not location.startswith("/"):
            return False
        if "methods" in item and not (item["methods"] and strings(item["methods"], methods)):
            return False
        if "roles" in item and not strings(item["roles"]):
            return False
        if "public" in item and type(item["public"]) is not bool:
            return False
        if "priority" in item and type(item["priority"]) is not int:
            return False
        return all(type(item.get(k, "")) is str for k in ("upstream", "description"))

    return plain


def parse_document(raw: bytes | str) -> tuple[Any, Positions | None, list[FileError]]:
    """(document, positions, errors): syntax errors, else every schema error, each with a place."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        return None, None, [FileError(f"the file is not UTF-8 ({exc.reason})", 1, 1)]
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        return None, None, [FileError("the file is empty (a JSON object is expected)", 1, 1)]
    try:
        # the limits make a hostile file (nested 100,000 deep) this file's error, not a
        # RecursionError that stops every app's reload
        document = json_limits.loads(text)
    except json.JSONDecodeError as exc:
        return None, None, [FileError(f"JSON syntax: {exc.msg}", exc.lineno, exc.colno)]
    except json_limits.JSONTooComplex as exc:
        return None, None, [FileError(f"JSON too complex: {exc}", 1, 1)]
    positions = Positions(text)
    errors = []
    for path, err in _schema_errors(document):
        pointer = pointer_of(path)
        line, column = positions.at(pointer)
        where = pointer or "(root)"
        errors.append(FileError(f"{where}: {_schema_message(err)}", line, column, pointer))
    return document, positions, sorted(errors, key=lambda e: (e.line, e.column))


def _schema_message(err: Any) -> str:
    if err.validator == "oneOf" and err.schema.get("oneOf") and "secret_env" in str(err.schema):
        return "give exactly one of secret_env or secret_file"
    if err.validator == "additionalProperties":
        return str(err.message).replace(
            "Additional properties are not allowed", "unknown member(s)"
        )
    return str(err.message)
