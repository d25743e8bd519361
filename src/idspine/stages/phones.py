"""Phone numbers to E.164: a set-based fast path, and the phonenumbers library for the rest.

Parsing every distinct number with the library costs ~40 µs each, the largest cost of a run.
Most real numbers are in one of two plain shapes: international (`+` or the region's
international prefix, then a country code) or national with the region's simple national
prefix. For those, E.164 is `+ country code + national number`, and "possible" is a length
check against the library's own metadata — which the fast path reads from phonenumbers, so
no numbering data is written here. Anything else (extensions, letters, national numbers
starting with 0, regions with prefix-transform rules, lengths that do not fit) goes to the
library. A test checks the fast path against the library on random numbers.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneMetadata
from sqlglot import exp

from idspine.config.load import Identifier
from idspine.plan import Step
from idspine.sql.build import lit, sql, subquery, values_table

# The columns of the country-code relation in SQL (the prefixes for parsing become one
# constant pattern instead, see `_prefixed_pattern`).
LENGTH_COLUMNS = ["code", "lengths", "full_lengths", "trunk"]


@lru_cache(maxsize=1)
def country_code_lengths() -> list[tuple[str, str, str, str | None, str | None]]:
    """(country code, comma-wrapped possible national lengths, the same without the lengths
    possible only for local dialling, simple trunk prefix, national prefixes the library
    strips as a regular expression). Codes whose prefixes are more than digit strings
    are left out."""
    rows = []
    for code in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE):
        region = phonenumbers.region_code_for_country_code(code)
        metadata = (
            PhoneMetadata.metadata_for_nongeo_region(code)
            if region == "001"
            else PhoneMetadata.metadata_for_region(region)
        )
        if metadata is None or metadata.general_desc is None:
            continue
        if metadata.national_prefix_transform_rule is not None or not re.fullmatch(
            r"[0-9]+(\|[0-9]+)*", metadata.national_prefix_for_parsing or "0"
        ):
            continue  # the library rewrites these national numbers: it parses them itself
        full = set(metadata.general_desc.possible_length) - {-1}
        lengths = full | set(metadata.general_desc.possible_length_local_only) - {-1}
        if lengths:
            trunk = region_prefixes(region)[1] if region != "001" else None
            parsing = metadata.national_prefix_for_parsing
            rows.append((str(code), _wrapped(lengths), _wrapped(full), trunk, parsing))
    return rows


def _wrapped(lengths: set[int]) -> str:
    return "," + ",".join(str(n) for n in sorted(lengths)) + ","


def region_prefixes(region: str) -> tuple[str, str | None]:
    """The region's international prefix (if a plain digit string) and simple national prefix."""
    metadata = PhoneMetadata.metadata_for_region(region)
    international = metadata.international_prefix if metadata else None
    if international is not None and not international.isdigit():
        international = metadata.preferred_international_prefix if metadata else None
    national = metadata.national_prefix if metadata else None
    simple = (
        national is not None
        and national.isdigit()
        and metadata is not None
        and metadata.national_prefix_for_parsing in (None, national)
        and metadata.national_prefix_transform_rule is None
    )
    return international or "+", national if simple else None


REGION_COLUMNS = ["region", "idd", "np", "home", "home_max", "home_lengths"]


@lru_cache(maxsize=1)
def region_constants() -> list[tuple[str | int | float | None, ...]]:
    """Per region: international prefix, simple national prefix, country code, the longest
    national number and its possible lengths (None where the library must decide)."""
    by_code = {row[0]: row[1] for row in country_code_lengths()}
    rows: list[tuple[str | int | float | None, ...]] = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        international, national = region_prefixes(region)
        home = str(phonenumbers.country_code_for_region(region))
        lengths = by_code.get(home)
        longest = max(int(n) for n in lengths.strip(",").split(",")) if lengths else 99
        rows.append((region, international, national, home, longest, lengths))
    return rows


def plan_phone_parsing(identifier: Identifier) -> list[Step]:
    """Distinct (raw value, region) → E.164 (fast path in SQL, the library for the rest).

    Reads `lookup_raw`, whose `region` says where each record's number is read; a number
    impossible there is tried in the identifier's `fallback_regions`, in order. Produces
    `phone_<name>(identifier, raw_value, region, value, read_region)`: `read_region` is
    the region that gave the value (the record's own when no region did).
    """
    name = identifier.name
    digits = f"phone_digits_{name}"
    steps = [
        Step(
            digits,
            sql(
                # NFKC first, so that full-width digits and plus signs count as digits.
                "SELECT identifier, raw_value, region, nullif(regexp_replace(CASE WHEN "
                "regexp_matches(raw_value, '[^\\x00-\\x7F]') THEN idspine_nfkc(raw_value) "
                "ELSE raw_value END, '[^0-9+]', '', 'g'), '') AS digits FROM (SELECT DISTINCT "
                "identifier, raw_value, region FROM lookup_raw WHERE identifier = $name)",
                name=lit(name),
            ),
        )
    ]
    first = f"phone_first_{name}"
    steps += _parse_steps(
        first,
        sql(
            "SELECT DISTINCT digits, region FROM $t WHERE digits IS NOT NULL",
            t=exp.to_table(digits, quoted=True),
        ),
    )
    fallback: exp.Expr = sql(
        "SELECT CAST(NULL AS VARCHAR) AS digits, CAST(NULL AS VARCHAR) AS value, "
        "CAST(NULL AS VARCHAR) AS region WHERE false"
    )
    if identifier.fallback_regions:
        order = values_table(
            ["region", "position"],
            [(region, position) for position, region in enumerate(identifier.fallback_regions)],
            "f",
        )
        tried = f"phone_fallback_{name}"
        steps += _parse_steps(
            tried,
            sql(
                "SELECT DISTINCT d.digits, f.region FROM $d AS d LEFT JOIN $p AS p "
                "ON p.digits = d.digits AND p.region = d.region CROSS JOIN $order "
                "WHERE d.digits IS NOT NULL AND p.value IS NULL",
                d=exp.to_table(digits, quoted=True),
                p=exp.to_table(first, quoted=True),
                order=order,
            ),
        )
        fallback = sql(
            "SELECT digits, value, region FROM (SELECT p.digits, p.value, p.region, "
            "row_number() OVER (PARTITION BY p.digits ORDER BY f.position) AS n "
            "FROM $p AS p JOIN $order ON f.region = p.region WHERE p.value IS NOT NULL) "
            "WHERE n = 1",
            p=exp.to_table(tried, quoted=True),
            order=order.copy(),
        )
    steps.append(
        Step(
            f"phone_{name}",
            sql(
                "SELECT d.identifier, d.raw_value, d.region, coalesce(p.value, b.value) AS value, "
                "CASE WHEN p.value IS NULL AND b.value IS NOT NULL THEN b.region ELSE d.region "
                "END AS read_region FROM $t AS d "
                "LEFT JOIN $p AS p ON d.digits = p.digits AND d.region = p.region "
                "LEFT JOIN $fallback ON p.value IS NULL AND d.digits = b.digits",
                t=exp.to_table(digits, quoted=True),
                p=exp.to_table(first, quoted=True),
                fallback=subquery(fallback, "b"),
            ),
        )
    )
    return steps


def _parse_steps(prefix: str, attempts: exp.Expr) -> list[Step]:
    """`<prefix>(digits, region, value)` for distinct (digits, region) `attempts`."""
    regions = values_table(REGION_COLUMNS, region_constants(), "r")
    rows = [row[: len(LENGTH_COLUMNS)] for row in country_code_lengths()]
    lengths = values_table(LENGTH_COLUMNS, rows, "cc")
    shapes, fast = f"{prefix}_shapes", f"{prefix}_fast"
    accepted = (
        "nsn IS NOT NULL AND lengths IS NOT NULL AND NOT starts_with(nsn, '0') "
        "AND contains(lengths, ',' || length(nsn) || ',')"
    )
    return [
        Step(
            shapes,
            sql(
                "SELECT a.digits, a.region, r.idd, r.np, r.home, r.home_lengths, "
                "CASE WHEN regexp_full_match(a.digits, '\\+[1-9][0-9]{5,16}') "
                "THEN substr(a.digits, 2) WHEN regexp_full_match(a.digits, '[0-9]{6,19}') AND "
                "starts_with(a.digits, r.idd) THEN substr(a.digits, length(r.idd) + 1) END "
                "AS intl, "
                "CASE WHEN r.np IS NOT NULL AND regexp_full_match(a.digits, '[0-9]{5,19}') AND "
                "starts_with(a.digits, r.np) AND NOT starts_with(a.digits, r.idd) "
                # where the national prefix could also begin the country code ("1" in the
                # US), the library's reading depends on more than shapes: it decides
                "AND NOT starts_with(a.digits, r.home) "
                "THEN substr(a.digits, length(r.np) + 1) END AS national, "
                # the home country code written without '+' or prefix ("33612345678")
                # (the library strips it only when the whole is too long to be national)
                "CASE WHEN regexp_full_match(a.digits, '[1-9][0-9]{5,18}') AND "
                "starts_with(a.digits, r.home) AND length(a.digits) > r.home_max "
                "AND NOT starts_with(substr(a.digits, length(r.home) + 1), coalesce(r.np, '-')) "
                "THEN substr(a.digits, length(r.home) + 1) END AS home_nsn "
                "FROM $attempts JOIN $regions ON r.region = a.region",
                attempts=subquery(attempts, "a"),
                regions=regions,
            ),
        ),
        Step(
            fast,
            sql(
                "SELECT digits, region, idd, np, home, home_lengths, '+' || code || nsn AS value, "
                # A national number that still begins with a prefix the library strips (say
                # "+1 1...") is the library's to read.
                "CASE WHEN coalesce(regexp_matches(code || ':' || nsn, $prefixed), false) "
                "THEN NULL WHEN stripped THEN full_lengths ELSE lengths END AS lengths, "
                "nsn FROM ("
                "SELECT s.digits, s.region, s.idd, s.np, s.home, s.home_lengths, "
                "coalesce(c1.code, c2.code, c3.code, h.code) AS code, "
                "coalesce(c1.lengths, c2.lengths, c3.lengths, h.lengths) AS lengths, "
                "coalesce(c1.full_lengths, c2.full_lengths, c3.full_lengths, h.full_lengths) "
                "AS full_lengths, "
                # The library keeps a stripped national or trunk prefix only when what is left
                # has a length possible for more than local dialling.
                "CASE WHEN s.intl IS NULL THEN s.national IS NOT NULL ELSE starts_with("
                "substr(s.intl, length(coalesce(c1.code, c2.code, c3.code)) + 1), "
                "coalesce(c1.trunk, c2.trunk, c3.trunk, '-')) END AS stripped, "
                # A trunk prefix kept after the country code ("+33 (0)6...") is dropped, as the
                # library does when the rest is a possible number.
                "CASE WHEN s.intl IS NULL THEN coalesce(s.national, s.home_nsn) "
                "WHEN starts_with(substr(s.intl, length(coalesce(c1.code, c2.code, c3.code)) + 1), "
                "coalesce(c1.trunk, c2.trunk, c3.trunk, '-')) THEN substr(s.intl, length(coalesce("
                "c1.code, c2.code, c3.code)) + length(coalesce(c1.trunk, c2.trunk, c3.trunk)) + 1) "
                "ELSE substr(s.intl, length(coalesce(c1.code, c2.code, c3.code)) + 1) END AS nsn "
                "FROM $shapes AS s "
                "LEFT JOIN $cc1 ON c1.code = left(s.intl, 1) "
                "LEFT JOIN $cc2 ON c2.code = left(s.intl, 2) "
                "LEFT JOIN $cc3 ON c3.code = left(s.intl, 3) "
                "LEFT JOIN $home_cc ON h.code = s.home AND s.intl IS NULL)",
                prefixed=lit(_prefixed_pattern()),
                shapes=exp.to_table(shapes, quoted=True),
                cc1=_alias(lengths, "c1"),
                cc2=_alias(lengths, "c2"),
                cc3=_alias(lengths, "c3"),
                home_cc=_alias(lengths, "h"),
            ),
        ),
        Step(
            prefix,
            sql(
                # Accepted by the fast path: a plain shape whose national number has a possible
                # length and does not start with 0 (a kept or doubled trunk prefix).
                f"SELECT digits, region, value FROM $fast WHERE {accepted} "
                "UNION ALL SELECT digits, region, idspine_phone_e164(digits, region) FROM $fast "
                f"WHERE NOT coalesce({accepted}, false) AND NOT coalesce($refused, false)",
                fast=exp.to_table(fast, quoted=True),
                refused=_impossible_national(),
            ),
        ),
    ]


def _impossible_national() -> exp.Expr:
    """Digits the library is sure to refuse, so that it is not asked (most of its calls).

    A plain digit string without the international prefix is read as a national number of
    the region, after the library may strip its national prefix. When neither reading has a
    possible length, the number is impossible. Digits that begin with the region's country
    code or a doubled national prefix can be read in more ways: the library decides those.
    Only for regions whose national prefix is a plain digit string (see `region_prefixes`)
    and whose country code has its lengths in `country_code_lengths`.
    """
    return sql(
        "np IS NOT NULL AND home_lengths IS NOT NULL "
        "AND regexp_full_match(digits, '[0-9]+') AND NOT starts_with(digits, idd) "
        "AND NOT starts_with(digits, home) AND NOT starts_with(digits, np || np) "
        "AND NOT contains(home_lengths, ',' || length(digits) || ',') "
        "AND NOT (starts_with(digits, np) "
        "AND contains(home_lengths, ',' || (length(digits) - length(np)) || ','))"
    )


def _prefixed_pattern() -> str:
    """Matches `code:national number` when the number begins with a prefix the library strips."""
    alternatives = [
        f"{code}:(?:{parsing})" for code, *_, parsing in country_code_lengths() if parsing
    ]
    return "^(?:" + "|".join(alternatives) + ")"


def _alias(values: exp.Expr, alias: str) -> exp.Expr:
    """The country-code VALUES relation under another alias."""
    copy = values.copy()
    copy.set(
        "alias",
        exp.TableAlias(
            this=exp.to_identifier(alias),
            columns=[exp.to_identifier(c) for c in LENGTH_COLUMNS],
        ),
    )
    return copy
