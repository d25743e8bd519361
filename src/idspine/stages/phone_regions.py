"""Which region a record's phone number is read in, and the per-region parsing constants.

A number is read in one region per record: the record's own (a country column of the source,
ISO codes or country names), else the source's `phones.default_region`, else the
identifier's `default_region`. Country names come from phonenumbers' own geocoding data
(each region's name in ~190 languages: `France`, `Frankreich`, `Francia`...) plus the usual
abbreviations (`USA`, `UK`); text that names no region leaves the default in place.

The fast path of `phones.py` reads the region's prefixes and lengths from `region_constants`,
one row per region, so one set of queries serves records of every region.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import phonenumbers
from phonenumbers.geodata.locale import LOCALE_DATA
from sqlglot import exp

from idspine.config.load import Identifier, Source
from idspine.sql.build import lit, sql, values_table

ALIASES: dict[str, str] = {
    "usa": "US",
    "u s a": "US",
    "u s": "US",
    "united states of america": "US",
    "america": "US",
    "etats unis": "US",
    "états unis": "US",
    "uk": "GB",
    "u k": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "angleterre": "GB",
    "royaume uni": "GB",
    "holland": "NL",
    "the netherlands": "NL",
    "uae": "AE",
    "south korea": "KR",
    "korea": "KR",
    "russia": "RU",
}


def normalized_name(text: str) -> str:
    """How a country name is compared: lower case, no dots or hyphens, one space."""
    return " ".join(text.lower().replace(".", " ").replace("-", " ").split())


def _without_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


@lru_cache(maxsize=1)
def country_names() -> tuple[tuple[str, str], ...]:
    """(normalized name, region): ISO codes, names in every language the geocoding data
    has (with and without accents), and `ALIASES`. A name two regions share is left out."""
    regions: dict[str, set[str]] = {}
    supported = phonenumbers.SUPPORTED_REGIONS
    for region, names in LOCALE_DATA.items():
        if region not in supported:
            continue
        for name in names.values():
            if name.startswith("*"):
                name = names.get(name[1:], "")  # "*aa": the same text as language "aa"
            for variant in {normalized_name(name), normalized_name(_without_accents(name))}:
                if variant:
                    regions.setdefault(variant, set()).add(region)
    table = {name: found.pop() for name, found in regions.items() if len(found) == 1}
    table.update({code.lower(): code for code in supported})
    table.update(ALIASES)
    return tuple(sorted(table.items()))


def region_text(value: exp.Expr) -> exp.Expr:
    """The SQL form of `normalized_name` (accents stay: the table has both spellings)."""
    spaced = sql("regexp_replace(lower($v), '[.\\-\\s]+', ' ', 'g')", v=value)
    return sql("trim($v)", v=spaced)


def record_region(identifier: Identifier, source: Source) -> exp.Expr:
    """The region a record's number of `identifier` is read in. With a region column, the
    caller LEFT JOINs `country_relation()` (alias `c`) on `country_join_condition`."""
    default = lit(source.phone_default_region or identifier.default_region)
    if source.phone_region is None:
        return default
    return sql("coalesce(c.region, $default)", default=default)


def country_join_condition(staged_region: exp.Expr) -> exp.Expr:
    return sql("c.name = $text", text=region_text(staged_region))


def country_relation() -> exp.Expr:
    return values_table(["name", "region"], list(country_names()), "c")
