"""Library plugin `mifos`: Mifos/Fineract request conventions shared by the demo plugins.

`dateFormat` + `locale` date parsing, localized decimals, paging, and Fineract-style field errors;
the shapes of its answers (`Paged`, `Resource`, `EnumOption`...) for routes' `response=`.
It brings no tables or endpoints; plugins that speak Fineract's dialect `require` it and import
from it (`from mifos import MifosBody`). It lives out of the core because only plugins use it.
"""

from __future__ import annotations

from host import Plugin

from .answers import (
    Currency,
    DateArray,
    EnumOption,
    Number,
    Paged,
    Resource,
    command_parameter,
    list_parameters,
)
from .conventions import (
    DEFAULT_LIMIT,
    DEFAULT_LOCALE,
    LOCALES,
    MAX_LIMIT,
    DatePattern,
    LocaleData,
    MifosBody,
    MifosFieldError,
    Page,
    Transition,
    check_date,
    client_page,
    command_body,
    command_of,
    compile_date_format,
    date_array,
    decimal_number,
    field_problem,
    locale_data,
    numeric_id,
    page,
    paging,
    parse_date,
    parse_decimal,
    path_id,
    query_id,
    rule_problem,
)

__all__ = (
    "DEFAULT_LIMIT",
    "DEFAULT_LOCALE",
    "LOCALES",
    "MAX_LIMIT",
    "Currency",
    "DateArray",
    "DatePattern",
    "EnumOption",
    "LocaleData",
    "MifosBody",
    "MifosFieldError",
    "Number",
    "Page",
    "Paged",
    "Resource",
    "Transition",
    "check_date",
    "client_page",
    "command_body",
    "command_of",
    "command_parameter",
    "compile_date_format",
    "date_array",
    "decimal_number",
    "field_problem",
    "list_parameters",
    "locale_data",
    "numeric_id",
    "page",
    "paging",
    "parse_date",
    "parse_decimal",
    "path_id",
    "plugin",
    "query_id",
    "rule_problem",
)

plugin = Plugin(
    name="mifos",
    version="1.0.0",
    description="Mifos/Fineract request conventions (dates, locales, paging, field errors)",
)
