"""JSON as Fineract's Gson reads item bodies: lenient, so what Fineract clients send is accepted (pure).

Fineract parses each item's body with Gson in lenient mode, and its own integration tests rely
on that: `BatchHelper.createClientRequest` writes `"externalId": ext4711.5,` without quotes. On top
of strict JSON (which is tried first, so valid bodies cost nothing extra) this accepts what Gson's
lenient reader accepts and clients actually send: unquoted names and values, single-quoted strings,
raw line breaks in strings, `;` or `=`/`=>` as separators, `#` and `//` comments, a trailing comma.
An unquoted value is a number when it reads as one, `true`/`false`/`null` as those, else a string.
"""

from __future__ import annotations

import json
import re
from typing import Any

from host import json_limits

__all__ = ("LenientError", "loads")

_LITERAL_END = frozenset("/\\;#={}[]:, \t\f\r\n'\"")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "/": "/", "\\": "\\"}


class LenientError(ValueError):
    def __init__(self, message: str, text: str, pos: int) -> None:
        line = text.count("\n", 0, pos) + 1
        column = pos - (text.rfind("\n", 0, pos) + 1) + 1
        super().__init__(f"{message} at line {line} column {column}")
        self.msg, self.lineno, self.colno = message, line, column


def loads(text: str) -> Any:
    """Strict JSON first (raw control characters allowed); Gson's lenient syntax otherwise."""
    try:  # the host's limits (depth, number length) hold for item bodies too
        return json_limits.loads(text, strict=False)
    except json.JSONDecodeError:
        pass
    reader = _Reader(text)
    try:
        value = reader.value()
    except RecursionError:
        raise json_limits.JSONTooComplex("nested too deep") from None
    reader.skip()
    if reader.pos < len(text):
        raise reader.error("unexpected text after the JSON value")
    return value


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, message: str) -> LenientError:
        return LenientError(message, self.text, self.pos)

    def skip(self) -> None:
        """Whitespace and comments (`#`, `//`, `/* */`)."""
        text, n = self.text, len(self.text)
        while self.pos < n:
            c = text[self.pos]
            if c in " \t\r\n\f":
                self.pos += 1
            elif c == "#" or text.startswith("//", self.pos):
                end = text.find("\n", self.pos)
                self.pos = n if end < 0 else end + 1
            elif text.startswith("/*", self.pos):
                end = text.find("*/", self.pos + 2)
                if end < 0:
                    raise self.error("unterminated comment")
                self.pos = end + 2
            else:
                return

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def value(self) -> Any:
        c = self.peek()
        if c == "{":
            return self.obj()
        if c == "[":
            return self.array()
        if c in "\"'":
            return self.string(c)
        if not c:
            raise self.error("a value was expected")
        return self.literal(as_name=False)

    def obj(self) -> dict[str, Any]:
        self.pos += 1
        out: dict[str, Any] = {}
        while True:
            c = self.peek()
            if c == "}":
                self.pos += 1
                return out
            name = self.string(c) if c in "\"'" else self.literal(as_name=True)
            c = self.peek()
            if c == ":":
                self.pos += 1
            elif c == "=":
                self.pos += 2 if self.text.startswith("=>", self.pos) else 1
            else:
                raise self.error(f"':' expected after the name {name!r}")
            out[str(name)] = self.value()
            c = self.peek()
            if c in ",;":
                self.pos += 1
            elif c != "}":
                raise self.error("',' or '}' expected")

    def array(self) -> list[Any]:
        self.pos += 1
        out: list[Any] = []
        while True:
            c = self.peek()
            if c == "]":
                self.pos += 1
                return out
            out.append(self.value())
            c = self.peek()
            if c in ",;":
                self.pos += 1
            elif c != "]":
                raise self.error("',' or ']' expected")

    def string(self, quote: str) -> str:
        text, n = self.text, len(self.text)
        self.pos += 1
        parts: list[str] = []
        while self.pos < n:
            c = text[self.pos]
            if c == quote:
                self.pos += 1
                return "".join(parts)
            if c == "\\":
                esc = text[self.pos + 1 : self.pos + 2]
                if esc == "u":
                    code = text[self.pos + 2 : self.pos + 6]
                    if not re.fullmatch(r"[0-9A-Fa-f]{4}", code):
                        raise self.error("bad \\u escape")
                    parts.append(chr(int(code, 16)))
                    self.pos += 6
                    continue
                parts.append(_ESCAPES.get(esc, esc))  # Gson keeps \' and \" as the character
                self.pos += 2
                continue
            parts.append(c)
            self.pos += 1
        raise self.error("unterminated string")

    def literal(self, *, as_name: bool) -> Any:
        start = self.pos
        text, n = self.text, len(self.text)
        while self.pos < n and text[self.pos] not in _LITERAL_END:
            self.pos += 1
        word = text[start : self.pos]
        if not word:
            raise self.error(f"unexpected character {text[start : start + 1]!r}")
        if as_name:
            return word
        if word in ("true", "false"):
            return word == "true"
        if word == "null":
            return None
        if _NUMBER.fullmatch(word):
            return json.loads(word)
        return word
