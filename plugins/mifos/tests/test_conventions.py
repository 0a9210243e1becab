"""Mifos conventions as pure functions: Java date patterns with a locale, locale numbers, paging."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from mifos import (
    MifosBody,
    MifosFieldError,
    compile_date_format,
    date_array,
    decimal_number,
    page,
    paging,
    parse_date,
    parse_decimal,
)
from pydantic import ValidationError

from host.problems import Problem

MARCH_4 = dt.date(2009, 3, 4)


@pytest.mark.parametrize(
    ("text", "date_format", "locale"),
    [
        ("04 March 2009", "dd MMMM yyyy", "en"),
        ("4 march 2009", "dd MMMM yyyy", "en"),  # lenient: one digit, any case
        ("04 Mar 2009", "dd MMM yyyy", "en_US"),
        ("04-03-2009", "dd-MM-yyyy", "en"),
        ("2009-03-04", "yyyy-MM-dd", "en"),
        ("03/04/2009", "MM/dd/yyyy", "en-GB"),
        ("04.03.09", "dd.MM.yy", "de"),
        ("Wednesday, 4 March 2009", "EEEE, d MMMM yyyy", "en"),
        ("4 mars 2009", "d MMMM yyyy", "fr"),
        ("4 de marzo de 2009", "d 'de' MMMM 'de' yyyy", "es"),
        ("04 março 2009", "dd MMMM yyyy", "pt_BR"),
        ("4. März 2009", "d. MMMM yyyy", "de_DE"),
        ("04 o'clock 03 2009", "dd 'o''clock' MM yyyy", "en"),
        ("  04 March 2009 ", "dd MMMM yyyy", "en"),
    ],
)
def test_dates_in_java_patterns(text: str, date_format: str, locale: str) -> None:
    assert parse_date(text, field="d", date_format=date_format, locale=locale) == MARCH_4


def test_iso_without_format_arrays_and_absent_values() -> None:
    assert parse_date("2009-03-04", field="d") == MARCH_4
    assert parse_date([2009, 3, 4], field="d") == MARCH_4
    assert parse_date(None, field="d") is None
    assert parse_date("", field="d", date_format="dd MMMM yyyy") is None
    assert date_array(MARCH_4) == [2009, 3, 4]
    assert date_array(None) is None


@pytest.mark.parametrize(
    ("value", "date_format", "locale", "field", "message"),
    [
        ("2009/03/04", "dd MMMM yyyy", "en", "activationDate", "does not match dateFormat"),
        ("31 February 2009", "dd MMMM yyyy", "en", "activationDate", "is not a valid date"),
        ("04 mars 2009", "dd MMMM yyyy", "en", "activationDate", "locale 'en'"),
        ("04 March 2009", "dd MMMM yyyy", "tlh", "locale", "'tlh' is not supported"),
        ("04 March 2009", "dd MMMM yyyy HH:mm", "en", "dateFormat", "pattern letter 'HH'"),
        ("04 2009", "dd yyyy", "en", "dateFormat", "has no month"),
        ("March 2009", "MMMM yyyy", "en", "dateFormat", "has no day"),
        ("04 March", "dd MMMM", "en", "dateFormat", "has no year"),
        ("04 March 2009", "dd 'MMMM yyyy", "en", "dateFormat", "unterminated quote"),
        ("04.03.2009", None, None, "activationDate", "is not a yyyy-MM-dd date"),
        (20090304, "yyyyMMdd", "en", "activationDate", "expected a date as text"),
        ([2009, 13, 1], None, None, "activationDate", "is not a valid date"),
        ([2009, 3], None, None, "activationDate", "[year, month, day]"),
    ],
)
def test_bad_dates_name_the_field(
    value: Any, date_format: str | None, locale: str | None, field: str, message: str
) -> None:
    with pytest.raises(MifosFieldError) as caught:
        parse_date(value, field="activationDate", date_format=date_format, locale=locale)
    assert caught.value.field == field
    assert message in caught.value.message


def test_compiled_patterns_are_cached_per_format_and_locale() -> None:
    assert compile_date_format("dd MMMM yyyy", "en") is compile_date_format("dd MMMM yyyy", "en")
    assert compile_date_format("dd MMMM yyyy", "fr") is not compile_date_format(
        "dd MMMM yyyy", "en"
    )


@pytest.mark.parametrize(
    ("value", "locale", "expected"),
    [
        (10000, None, Decimal("10000")),
        (2.5, None, Decimal("2.5")),
        ("10,000.50", "en", Decimal("10000.50")),
        ("10 000,50", "fr", Decimal("10000.50")),
        ("10.000,50", "de", Decimal("10000.50")),
        ("3,5", "pt_BR", Decimal("3.5")),
        (None, "en", None),
    ],
)
def test_numbers_in_the_locale_notation(value: Any, locale: str | None, expected: Any) -> None:
    assert parse_decimal(value, field="principal", locale=locale) == expected


@pytest.mark.parametrize("value", ["ten", True, "NaN", {"a": 1}])
def test_bad_numbers_name_the_field(value: Any) -> None:
    with pytest.raises(MifosFieldError) as caught:
        parse_decimal(value, field="principal", locale="en")
    assert caught.value.field == "principal"


def test_decimal_answers() -> None:
    assert decimal_number(Decimal("10000.000000")) == 10000
    assert isinstance(decimal_number(Decimal("10000.000000")), int)
    assert decimal_number(Decimal("1.5")) == 1.5
    assert decimal_number(None) is None


def test_paging() -> None:
    assert paging({}) == paging({"offset": "", "limit": ""})
    window = paging({"offset": "20", "limit": "10"})
    assert (window.offset, window.limit) == (20, 10)
    for query, name in [
        ({"offset": "-1"}, "offset"),
        ({"limit": "0"}, "limit"),
        ({"limit": "5000"}, "limit"),
        ({"limit": "x"}, "limit"),
    ]:
        with pytest.raises(Problem) as caught:
            paging(query)
        assert caught.value.status == 400 and name in caught.value.detail
    assert page(3, [1]) == {"totalFilteredRecords": 3, "pageItems": [1]}


class Sample(MifosBody):
    clientId: int
    submittedOnDate: str | None = None
    principal: float | str | None = None


def test_body_refuses_unknown_fields_but_not_formatting_ones() -> None:
    body = Sample.model_validate(
        {"clientId": "7", "dateFormat": "dd MMMM yyyy", "locale": "en", "monthDayFormat": "dd MMM"}
    )
    assert body.clientId == 7 and body.given() == {"clientId"}
    with pytest.raises(ValidationError) as caught:
        Sample.model_validate({"clientId": 1, "nickname": "x"})
    (error,) = caught.value.errors()
    assert error["loc"] == ("nickname",) and error["type"] == "unrecognized_field"
    assert "Unrecognized field" in error["msg"]


def test_body_reads_dates_and_numbers_with_its_own_format() -> None:
    body = Sample.model_validate(
        {
            "clientId": 1,
            "submittedOnDate": "04 mars 2009",
            "principal": "1 000,5",
            "dateFormat": "dd MMMM yyyy",
            "locale": "fr",
        }
    )
    assert body.read(submittedOnDate="date", principal="decimal") == {
        "submittedOnDate": MARCH_4,
        "principal": Decimal("1000.5"),
    }
    bad = Sample.model_validate(
        {"clientId": 1, "submittedOnDate": "x", "principal": "y", "dateFormat": "dd MMMM yyyy"}
    )
    with pytest.raises(Problem) as caught:
        bad.read(submittedOnDate="date", principal="decimal")
    assert caught.value.status == 422
    assert [e["field"] for e in caught.value.extra["errors"]] == ["submittedOnDate", "principal"]
