"""Cleaning that needs a library rather than SQL, as vectorized functions over Arrow arrays.

Engines register these as UDFs and the standardize stage applies them to *distinct* raw
values only, so the per-value cost is paid once per value, never once per row.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from functools import lru_cache

import phonenumbers
import pyarrow as pa
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler
from rapidfuzz.process import cpdist


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


@lru_cache(maxsize=4096)
def _visible(ch: str) -> str:
    """A character as kept by cleaning: control (Cc) and format (Cf) characters go.

    NUL, zero-width space and joiners, BOM, soft hyphen and bidi marks are invisible when
    shown, yet would make `an\u200bna@x.com` a value of its own. Control whitespace (tab,
    line breaks) becomes a space, which the whitespace collapse then merges.
    """
    category = unicodedata.category(ch)
    if category == "Cc":
        return " " if ch.isspace() else ""
    return "" if category == "Cf" else ch


def nfkc(value: str | None) -> str | None:
    """NFKC of the value without its control and format characters (see `_visible`)."""
    if value is None:
        return None
    return unicodedata.normalize("NFKC", "".join(_visible(ch) for ch in value))


def nfkc_arrow(values: pa.Array) -> pa.Array:
    return pa.array([nfkc(v) for v in values.to_pylist()], pa.string())


def strip_accents(value: str | None) -> str | None:
    """Combining marks removed, as DuckDB's `strip_accents` does it (canonical decomposition,
    marks dropped, recomposed): "Dvořák" -> "Dvorak", while "한국" and "ﬁ" stay as they are."""
    if value is None:
        return None
    decomposed = unicodedata.normalize("NFD", value)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped)


def jaro_winkler(left: str | None, right: str | None) -> float | None:
    return None if left is None or right is None else JaroWinkler.similarity(left, right)


def damerau_levenshtein(left: str | None, right: str | None) -> float | None:
    if left is None or right is None:
        return None
    longest = max(len(left), len(right))
    return 1.0 - DamerauLevenshtein.distance(left, right) / longest if longest else 1.0


# Batch forms over plain sequences, for engines that hand UDFs a batch of values (Spark's
# pandas UDFs). A missing value is None (or NaN in pandas' string columns) and gives None.


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def phone_e164_many(values: Sequence[object], regions: Sequence[object]) -> list[str | None]:
    return [phone_e164(_text(v), _text(r)) for v, r in zip(values, regions, strict=True)]


def nfkc_many(values: Sequence[object]) -> list[str | None]:
    return [nfkc(_text(v)) for v in values]


def strip_accents_many(values: Sequence[object]) -> list[str | None]:
    return [strip_accents(_text(v)) for v in values]


def _similarities(
    scorer: Callable[..., float], left: Sequence[object], right: Sequence[object]
) -> list[float | None]:
    lefts, rights = [_text(v) for v in left], [_text(v) for v in right]
    present = [a is not None and b is not None for a, b in zip(lefts, rights, strict=True)]
    scores = cpdist(
        [a or "" for a in lefts], [b or "" for b in rights], scorer=scorer, dtype="float64"
    )
    return [float(s) if ok else None for s, ok in zip(scores.tolist(), present, strict=True)]


def jaro_winkler_many(left: Sequence[object], right: Sequence[object]) -> list[float | None]:
    return _similarities(JaroWinkler.similarity, left, right)


def damerau_levenshtein_many(left: Sequence[object], right: Sequence[object]) -> list[float | None]:
    """1 - distance / longer length, computed as DuckDB's SQL form computes it."""
    return _similarities(DamerauLevenshtein.normalized_similarity, left, right)
