"""Mifos/Fineract request conventions shared by the demo plugins (and any Mifos-style plugin).

Fineract clients send dates as text in a format they name per request (`"dateFormat": "dd MMMM yyyy"`,
`"locale": "en"`), numbers as text in the locale's notation ("1,000.50"), and get dates back as
arrays (`[2009, 3, 4]`). Lists are paged with `offset`/`limit` and answered as
`{"totalFilteredRecords": n, "pageItems": [...]}`. Unknown body fields are refused, as Fineract does.

Parsing here is pure: functions raise `MifosFieldError` (field, message) or `Problem`s naming the field;
nothing touches the app or the database.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic_core import PydanticCustomError
from tortoise.models import Model
from tortoise.queryset import QuerySet

from host import DB_INT_MAX, Problem, db_int, decode_json

M = TypeVar("M", bound=Model)
B = TypeVar("B", bound=BaseModel)

__all__ = (
    "DEFAULT_LIMIT",
    "DEFAULT_LOCALE",
    "LOCALES",
    "MAX_LIMIT",
    "DatePattern",
    "LocaleData",
    "MifosBody",
    "MifosFieldError",
    "Page",
    "Transition",
    "check_date",
    "client_page",
    "command_body",
    "command_of",
    "compile_date_format",
    "date_array",
    "decimal_number",
    "field_problem",
    "locale_data",
    "numeric_id",
    "page",
    "paging",
    "parse_date",
    "parse_decimal",
    "path_id",
    "query_id",
    "rule_problem",
)

DEFAULT_LOCALE = "en"
DEFAULT_LIMIT = 200
MAX_LIMIT = 1000


def _words(text: str) -> list[str]:
    return text.split()


_EN = (
    _words("January February March April May June July August September October November December"),
    _words("Monday Tuesday Wednesday Thursday Friday Saturday Sunday"),
)
_FR = (
    _words("janvier février mars avril mai juin juillet août septembre octobre novembre décembre"),
    _words("lundi mardi mercredi jeudi vendredi samedi dimanche"),
)
_ES = (
    _words(
        "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre"
    ),
    _words("lunes martes miércoles jueves viernes sábado domingo"),
)
_PT = (
    _words(
        "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro"
    ),
    _words("segunda-feira terça-feira quarta-feira quinta-feira sexta-feira sábado domingo"),
)
_DE = (
    _words("Januar Februar März April Mai Juni Juli August September Oktober November Dezember"),
    _words("Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag"),
)


@dataclass(frozen=True)
class LocaleData:
    """Month and day names (full; short forms are derived) and the number notation of a language."""

    months: Sequence[str]
    days: Sequence[str]
    decimal: str
    group: tuple[str, ...]


LOCALES: Mapping[str, LocaleData] = {
    "en": LocaleData(*_EN, decimal=".", group=(",",)),
    "fr": LocaleData(*_FR, decimal=",", group=(" ", "\u00a0", "\u202f", ".")),
    "es": LocaleData(*_ES, decimal=",", group=(".", " ")),
    "pt": LocaleData(*_PT, decimal=",", group=(".", " ")),
    "de": LocaleData(*_DE, decimal=",", group=(".", " ")),
}
"""Languages understood in `locale` (any region: en_US, en-GB, pt_BR all work)."""


class MifosFieldError(ValueError):
    """A value that cannot be read; `field` is the request's own (camelCase) name for it.

    `code` is Fineract's `userMessageGlobalisationCode` for the error when it has one
    (`validation.msg.loan.loanTermFrequency.less.than.repayment.structure.suggests`), so that a
    Fineract client that switches on the code keeps working; `value` is the value refused.
    """

    def __init__(
        self, field: str, message: str, *, code: str | None = None, value: Any = None
    ) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.code = code
        self.value = value


def field_problem(errors: Iterable[MifosFieldError], status: int = 422) -> Problem:
    """One problem for one or more bad fields, shaped like the pipeline's body validation errors."""
    items: list[dict[str, Any]] = []
    for e in errors:
        item: dict[str, Any] = {"field": e.field, "message": e.message}
        if e.code:
            item["code"] = e.code
        if e.value is not None:
            item["value"] = e.value
        items.append(item)
    detail = "Invalid request body: " + "; ".join(f"{i['field']}: {i['message']}" for i in items)
    return Problem(status, detail, errors=items)


def locale_data(locale: str | None, field: str = "locale") -> LocaleData:
    """The language part of a Java locale tag ("en", "en_US", "pt-BR"); unknown ones are refused."""
    tag = (locale or DEFAULT_LOCALE).strip()
    language = re.split(r"[_-]", tag, maxsplit=1)[0].lower()
    if language not in LOCALES:
        raise MifosFieldError(
            field, f"locale {tag!r} is not supported; use one of {', '.join(sorted(LOCALES))}"
        )
    return LOCALES[language]


# dates ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DatePattern:
    """A compiled Java date pattern: a regex and the meaning of each group."""

    pattern: str
    regex: re.Pattern[str]
    groups: tuple[str, ...]  # per group: year, year2, month, monthname, day, dayname
    months: Mapping[str, int]


_TOKEN = re.compile(r"'(?:[^']|'')*'|([A-Za-z])\1*|[^A-Za-z']+")


def _names(full: Sequence[str]) -> dict[str, int]:
    """Full and three-letter names (with and without a final dot) to their 1-based number."""
    out: dict[str, int] = {}
    for number, name in enumerate(full, start=1):
        low = name.lower()
        out[low] = number
        out.setdefault(low[:3], number)
        out.setdefault(low[:3] + ".", number)
        out.setdefault(low[:4] + ".", number)
    return out


def _alternatives(names: Iterable[str]) -> str:
    return "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))


@lru_cache(maxsize=256)
def compile_date_format(date_format: str, locale: str = DEFAULT_LOCALE) -> DatePattern:
    """Compile a Java `DateTimeFormatter` date pattern (what Fineract's `dateFormat` holds).

    Understood letters: y/u (year; `yy` is 2000-2099), M/L (month: `M`/`MM` number, `MMM` short
    name, `MMMM` full name), d (day of month), E (day name, checked for form only); quoted 'text'
    and any other characters are literals. Parsing is lenient like Fineract's: case-insensitive,
    one or two digits for day and month. Raises MifosFieldError("dateFormat", ...) otherwise.
    """
    data = locale_data(locale)
    if not date_format.strip():
        raise MifosFieldError("dateFormat", "must not be empty")
    parts: list[str] = []
    groups: list[str] = []
    pos = 0
    for match in _TOKEN.finditer(date_format):
        if match.start() != pos:  # an unterminated quote
            break
        pos = match.end()
        token = match.group(0)
        letter = match.group(1)
        if token.startswith("'"):
            text = token[1:-1].replace("''", "'") if len(token) > 1 else "'"
            parts.append(re.escape(text or "'"))
            continue
        if letter is None:
            parts.append(r"\s+" if token.isspace() else re.escape(token))
            continue
        n = len(token)
        if letter in "yu":
            groups.append("year2" if n == 2 else "year")
            parts.append(r"(\d{2})" if n == 2 else r"(\d{4})")
        elif letter in "ML":
            if n <= 2:
                groups.append("month")
                parts.append(r"(\d{1,2})")
            else:
                groups.append("monthname")
                parts.append(f"({_alternatives(_names(data.months))})")
        elif letter == "d" and n <= 2:
            groups.append("day")
            parts.append(r"(\d{1,2})")
        elif letter == "E":
            groups.append("dayname")
            parts.append(f"({_alternatives(_names(data.days))})")
        else:
            raise MifosFieldError(
                "dateFormat",
                f"the pattern letter {token!r} in {date_format!r} is not supported for dates "
                "(use y, M, d, E and literals, e.g. 'dd MMMM yyyy')",
            )
    if pos != len(date_format):
        raise MifosFieldError("dateFormat", f"{date_format!r} has an unterminated quote")
    for needed, label in (("year", "year (yyyy)"), ("day", "day (dd)")):
        if not any(g.startswith(needed) for g in groups):
            raise MifosFieldError("dateFormat", f"{date_format!r} has no {label}")
    if not any(g.startswith("month") for g in groups):
        raise MifosFieldError("dateFormat", f"{date_format!r} has no month (MM or MMMM)")
    regex = re.compile(r"\s*" + "".join(parts) + r"\s*", re.IGNORECASE)
    return DatePattern(date_format, regex, tuple(groups), _names(data.months))


def parse_date(
    value: Any,
    *,
    field: str,
    date_format: str | None = None,
    locale: str | None = None,
) -> dt.date | None:
    """Read one date field: text in `date_format` (ISO yyyy-MM-dd when none is given), or a Mifos
    array [y, m, d]. None and "" mean absent. Raises MifosFieldError naming `field`."""
    if value is None or value == "":
        return None
    if isinstance(value, list | tuple):
        if len(value) == 3 and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return _make_date(field, value[0], value[1], value[2], repr(list(value)))
        raise MifosFieldError(field, "a date array must be [year, month, day]")
    if not isinstance(value, str):
        raise MifosFieldError(field, f"expected a date as text, got {type(value).__name__}")
    if date_format is None:
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise MifosFieldError(
                field, f"{value!r} is not a yyyy-MM-dd date; send dateFormat and locale for others"
            ) from None
    pattern = compile_date_format(date_format, locale or DEFAULT_LOCALE)
    match = pattern.regex.fullmatch(value)
    if match is None:
        raise MifosFieldError(
            field,
            f"{value!r} does not match dateFormat {date_format!r} "
            f"(locale {locale or DEFAULT_LOCALE!r})",
        )
    year = month = day = 0
    for kind, text in zip(pattern.groups, match.groups(), strict=True):
        if kind == "year":
            year = int(text)
        elif kind == "year2":
            year = 2000 + int(text)
        elif kind == "month":
            month = int(text)
        elif kind == "monthname":
            month = pattern.months[text.lower()]
        elif kind == "day":
            day = int(text)
    return _make_date(field, year, month, day, repr(value))


def _make_date(field: str, year: int, month: int, day: int, shown: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise MifosFieldError(field, f"{shown} is not a valid date ({exc})") from None


def date_array(value: dt.date | None) -> list[int] | None:
    """A date as Mifos answers it: [2009, 3, 4]."""
    return None if value is None else [value.year, value.month, value.day]


# numbers ----------------------------------------------------------------------------------------
def parse_decimal(value: Any, *, field: str, locale: str | None = None) -> Decimal | None:
    """A JSON number, or text in the locale's notation ("10,000.50" en, "10 000,50" fr)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise MifosFieldError(field, "expected a number, got a boolean")
    if isinstance(value, int | float):
        result = Decimal(str(value))
    elif isinstance(value, str):
        data = locale_data(locale)
        text = value.strip()
        for sep in data.group:
            text = text.replace(sep, "")
        text = text.replace(data.decimal, ".")
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise MifosFieldError(
                field, f"{value!r} is not a number in locale {locale or DEFAULT_LOCALE!r}"
            ) from None
    else:
        raise MifosFieldError(field, f"expected a number, got {type(value).__name__}")
    if not result.is_finite():
        raise MifosFieldError(field, f"{value!r} is not a finite number")
    return result


def decimal_number(value: Decimal | None) -> int | float | None:
    """A Decimal for a JSON answer: an int when whole (10000), else a float (1.5)."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


# request bodies ---------------------------------------------------------------------------------
class MifosBody(BaseModel):
    """Base of Mifos request bodies: camelCase fields, text trimmed, unknown fields refused
    ("Unrecognized field", as Fineract answers), the formatting fields `dateFormat`, `locale`, `monthDayFormat`
    accepted everywhere. Dates and numbers stay raw here; read them with `date()` / `decimal()`,
    which know the body's format and locale."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    dateFormat: str | None = None
    locale: str | None = None
    monthDayFormat: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _blank_external_id_is_none(cls, data: Any) -> Any:
        """Fineract reads `"externalId": ""` as no external id (its own test clients send it);
        stored as "" it would make the second such client a duplicate."""
        if isinstance(data, dict):
            value = data.get("externalId")
            if isinstance(value, str) and not value.strip():
                data = {**data, "externalId": None}
        return data

    @model_validator(mode="wrap")
    @classmethod
    def _fineract_messages(cls, data: Any, handler: Any) -> Any:
        try:
            return handler(data)
        except ValidationError as exc:
            errors: list[Any] = []
            for err in exc.errors():
                if err["type"] == "extra_forbidden":
                    error = PydanticCustomError(
                        "unrecognized_field", "Unrecognized field: this parameter is not supported"
                    )
                else:
                    error = PydanticCustomError(err["type"], err["msg"].replace("{", "("))
                errors.append({"type": error, "loc": err["loc"], "input": err.get("input")})
            raise ValidationError.from_exception_data(exc.title, errors) from None

    def date(self, name: str) -> dt.date | None:
        """The date field `name` (its camelCase name), read with this body's dateFormat/locale."""
        return parse_date(
            getattr(self, name), field=name, date_format=self.dateFormat, locale=self.locale
        )

    def decimal(self, name: str) -> Decimal | None:
        return parse_decimal(getattr(self, name), field=name, locale=self.locale)

    def collect(self, **readers: str) -> tuple[dict[str, Any], list[MifosFieldError]]:
        """Read several fields at once (`collect(activationDate="date", principal="decimal")`):
        the values read, and the errors of the bad ones (to report with other checks)."""
        out: dict[str, Any] = {}
        errors: list[MifosFieldError] = []
        for name, kind in readers.items():
            try:
                out[name] = self.date(name) if kind == "date" else self.decimal(name)
            except MifosFieldError as exc:
                out[name] = None
                if all(str(e) != str(exc) for e in errors):  # one bad locale, several dates
                    errors.append(exc)
        return out, errors

    def read(self, **readers: str) -> dict[str, Any]:
        """Like `collect`, but every bad field raises one 422 problem."""
        out, errors = self.collect(**readers)
        if errors:
            raise field_problem(errors)
        return out

    def given(self) -> set[str]:
        """Fields the caller actually sent (formatting fields excluded): what a PUT changes."""
        return set(self.model_fields_set) - {"dateFormat", "locale", "monthDayFormat"}


# paging -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Page:
    offset: int
    limit: int


def paging(
    query: Mapping[str, str], *, default_limit: int = DEFAULT_LIMIT, max_limit: int = MAX_LIMIT
) -> Page:
    """`?offset=&limit=` (Fineract's names); 400 naming the parameter when either is not valid."""
    values: dict[str, int] = {}
    for name, default, high in (("offset", 0, None), ("limit", default_limit, max_limit)):
        raw = query.get(name)
        if raw is None or raw == "":
            values[name] = default
            continue
        number = db_int(raw.strip())
        if number is None:
            raise Problem(
                400,
                f"Query parameter {name}={raw!r} must be a whole number from 0 to {DB_INT_MAX}",
            )
        if high is not None and not 1 <= number <= high:
            raise Problem(400, f"Query parameter {name}={number} must be between 1 and {high}")
        values[name] = number
    return Page(offset=values["offset"], limit=values["limit"])


def page(total: int, items: list[Any]) -> dict[str, Any]:
    """The Fineract paged envelope."""
    return {"totalFilteredRecords": total, "pageItems": items}


async def client_page(
    query: Mapping[str, str],
    rows: QuerySet[M],
    render: Callable[[M], Any],
    *prefetch: str,
) -> dict[str, Any]:
    """One page of a client's records (loans, savings accounts...): `?offset=&limit=&clientId=`."""
    window = paging(query)
    client_id = query_id(query, "clientId")
    if client_id is not None:
        rows = rows.filter(client_id=client_id)
    total = await rows.count()
    found = await rows.offset(window.offset).limit(window.limit).prefetch_related(*prefetch)
    return page(total, [render(row) for row in found])


def query_id(query: Mapping[str, str], name: str) -> int | None:
    """An optional numeric filter such as `?clientId=7`; 400 naming it when not a number."""
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    number = db_int(raw.strip())
    if number is None:
        raise Problem(400, f"Query parameter {name}={raw!r} must be a numeric id")
    return number


def numeric_id(raw: str, what: str = "The") -> int | None:
    """A GraphQL `ID!` argument as a row id: 400 when it is not ASCII digits, None (no such row)
    when the number is beyond what an integer column holds."""
    if not raw.isascii() or not raw.isdigit():
        raise Problem(400, f"{what} id must be a number, got {raw!r}")
    return db_int(raw)


def path_id(match_info: Mapping[str, str], name: str = "id", what: str = "resource") -> int:
    """A numeric id from the path; a non-number is simply an unknown resource (404)."""
    raw = match_info.get(name, "")
    number = db_int(raw)
    if number is None:
        raise Problem(404, f"{what} with identifier {raw!r} does not exist")
    return number


# commands and state machines --------------------------------------------------------------------
def rule_problem(
    status: int, code: str, message: str, *, field: str = "id", value: Any = None
) -> Problem:
    """A refused business rule with Fineract's code (`error.msg.loan.approval.cannot.be...`), so a
    Fineract client that switches on `userMessageGlobalisationCode` keeps working."""
    return Problem(
        status,
        message,
        slug="rule-violation" if status != 409 else "invalid-state",
        userMessageGlobalisationCode=code,
        errors=[{"field": field, "message": message, "code": code, "value": value}],
    )


def command_of(query: Mapping[str, str], allowed: Iterable[str]) -> str:
    """The `?command=` of a Fineract command endpoint; 400 `error.msg.command.unsupported` naming
    it when missing or unknown (a batch item with `command=approveX` fails alone)."""
    name = query.get("command", "")
    choices = sorted(allowed)
    if name in choices:
        return name
    message = f"The command {name!r} is not supported here; use one of {', '.join(choices)}"
    raise rule_problem(400, "error.msg.command.unsupported", message, field="command", value=name)


@dataclass(frozen=True)
class Transition:
    """One command of a small state machine: allowed from `source` states, leads to `target`;
    refused from any other state with Fineract's `code` and message (409 here)."""

    source: frozenset[int]
    target: int
    code: str
    message: str

    def check(self, state: int) -> int:
        if state not in self.source:
            raise rule_problem(409, self.code, self.message)
        return self.target


def command_body(model: type[B], raw: bytes) -> B:
    """A command's body read with its own model (the route's model depends on `?command=`);
    an empty body is an empty object, since some commands need nothing (undoApproval)."""
    data = decode_json(raw) if raw.strip() else {}
    if not isinstance(data, dict):
        raise Problem(400, "The request body must be a JSON object")
    return model.model_validate(data)


def check_date(
    field: str,
    value: dt.date | None,
    *,
    code_prefix: str,
    not_before: tuple[dt.date | None, str] | None = None,
    required: bool = True,
) -> list[MifosFieldError]:
    """Fineract's date rules for a command: given, not in the future, not before an earlier date."""
    if value is None:
        if not required:
            return []
        return [
            MifosFieldError(
                field, "is required", code=f"validation.msg.{code_prefix}.{field}.cannot.be.blank"
            )
        ]
    if value > dt.date.today():
        return [
            MifosFieldError(
                field,
                "cannot be in the future",
                code=f"error.msg.{code_prefix}.cannot.be.a.future.date",
                value=value.isoformat(),
            )
        ]
    earlier, what = not_before if not_before is not None else (None, "")
    if earlier is not None and value < earlier:
        return [
            MifosFieldError(
                field,
                f"cannot be before the {what} date ({earlier.isoformat()})",
                code=f"error.msg.{code_prefix}.cannot.be.before.{what}.date",
                value=value.isoformat(),
            )
        ]
    return []
