"""Library plugin `mifos`: Mifos/Fineract request conventions shared by the demo plugins.

`dateFormat` + `locale` date parsing, localized decimals, paging, and Fineract-style field errors.
It brings no tables or endpoints; plugins that speak Fineract's dialect `require` it and import
from it (`from mifos import MifosBody`). It lives out of the core because only plugins use it.
"""

from __future__ import annotations

from host import Plugin

from .conventions import (
    DEFAULT_LOCALE,
    LOCALES,
    DatePattern,
    LocaleData,
    MifosBody,
    MifosFieldError,
    Page,
    client_page,
    compile_date_format,
    date_array,
    decimal_number,
    field_problem,
    get_or_404,
    locale_data,
    page,
    paging,
    parse_date,
    parse_decimal,
    path_id,
    query_id,
)

__all__ = (
    "DEFAULT_LOCALE",
    "LOCALES",
    "DatePattern",
    "LocaleData",
    "MifosBody",
    "MifosFieldError",
    "Page",
    "client_page",
    "compile_date_format",
    "date_array",
    "decimal_number",
    "field_problem",
    "get_or_404",
    "locale_data",
    "page",
    "paging",
    "parse_date",
    "parse_decimal",
    "path_id",
    "plugin",
    "query_id",
)

plugin = Plugin(
    name="mifos",
    version="1.0.0",
    description="Mifos/Fineract request conventions (dates, locales, paging, field errors)",
)
