"""Cleaning that needs a library rather than SQL, as vectorized functions over Arrow arrays.

Engines register these as UDFs and the standardize stage applies them to *distinct* raw
values only, so the per-value cost is paid once per value, never once per row.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import phonenumbers
import pyarrow as pa
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler


@lru_cache(maxsize=64)
def _region_code(region: str) -> str:
    return region.upper()


def phone_e164(raw: str | None, region: str | None) -> str | None:
    """E.164 form of a phone number, or None when it cannot be a real number."""
    if raw is None or region is None:
        return None
    try:
        number = phonenumbers.parse(raw, _region_code(region))
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def phone_e164_arrow(values: pa.Array, regions: pa.Array) -> pa.Array:
    return pa.array(
        [phone_e164(v, r) for v, r in zip(values.to_pylist(), regions.to_pylist(), strict=True)],
        pa.string(),
    )


def nfkc(value: str | None) -> str | None:
    return None if value is None else unicodedata.normalize("NFKC", value)


def nfkc_arrow(values: pa.Array) -> pa.Array:
    return pa.array([nfkc(v) for v in values.to_pylist()], pa.string())


def strip_accents(value: str | None) -> str | None:
    if value is None:
        return None
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def jaro_winkler(left: str | None, right: str | None) -> float | None:
    return None if left is None or right is None else JaroWinkler.similarity(left, right)


def damerau_levenshtein(left: str | None, right: str | None) -> float | None:
    if left is None or right is None:
        return None
    longest = max(len(left), len(right))
    return 1.0 - DamerauLevenshtein.distance(left, right) / longest if longest else 1.0
