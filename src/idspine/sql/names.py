"""Personal names: the titles idspine drops, and the full-name parser (nameparser).

`TITLES` is the one list of honorifics: the SQL cleaning of `name` identifiers drops them at
the start of a value, and the parser is told about them, so that a French, German or
Spanish title is never read as a first name. The parser runs as a vectorized UDF over the
*distinct* full names of a run (`name_part_arrow`, `name_part_many`).

Reading rules (docs/configuration.md has the table of cases):

- titles (`Mme`, `Herr`, `Dr`, `Sra`...) and suffixes (`Jr`, `Sr`, `III`, `PhD`) are dropped;
- `LAST, First` is understood;
- the first name is the first given name: middle names are not part of it;
- particles (`de`, `van`, `von`, `da`, `le`, `di`, `del`, `du`) stay with the last name;
- `DUPONT Jean` (surname in capitals first, as French exports write it) is `Dupont, Jean`;
- one token alone is a first name (`Madonna`: app sign-ups ask for a first name), unless a
  title precedes it (`Mr Smith`: a title goes with a surname);
- initials stay as written (`J.`), and cleaning later makes them `j`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import cast

import pyarrow as pa
from nameparser import HumanName
from nameparser.config import Constants

# Honorifics in English, French, German, Spanish, Italian and Portuguese, as cleaning leaves
# them (lower case, no accents, no dots). Only at the start of a value and followed by more
# text are they dropped, so a first name "Don" or a lone initial "M" stays.
TITLES: tuple[str, ...] = (
    "mr",
    "mrs",
    "ms",
    "miss",
    "mx",
    "dr",
    "prof",
    "sir",
    "m",
    "mm",
    "mme",
    "mmes",
    "mlle",
    "mlles",
    "monsieur",
    "madame",
    "mademoiselle",
    "herr",
    "frau",
    "fraulein",
    "sr",
    "sra",
    "srta",
    "senor",
    "senora",
    "senorita",
    "dona",
    "sig",
    "sigra",
    "signor",
    "signora",
    "signorina",
)
NAME_PARTS = ("first", "last")


@lru_cache(maxsize=1)
def _constants() -> Constants:
    """nameparser's vocabulary plus idspine's titles, in an instance of its own: the
    library's module-wide constants stay as other code in the process expects them."""
    constants = Constants()
    constants.titles.add(*TITLES)
    return constants


def _letters(token: str) -> int:
    return sum(ch.isalpha() for ch in token)


def _surname_first(value: str) -> str:
    """`DUPONT Jean` as `DUPONT, Jean`: leading tokens in capitals (after any titles) and a
    rest that is not, read as the surname then the given names. An all-capitals value
    (`JEAN DUPONT`) gives no such hint and is left as it is."""
    tokens = value.split()
    start = 0
    while start < len(tokens) and tokens[start].strip(".").lower() in TITLES:
        start += 1
    end = start
    # An initial ("J.") is in capitals too: a surname has two letters or more.
    while end < len(tokens) and _letters(tokens[end]) > 1 and tokens[end].isupper():
        end += 1
    if "," in value or end == start or end == len(tokens) or tokens[-1].isupper():
        return value
    return " ".join([*tokens[:start], " ".join(tokens[start:end]) + ",", *tokens[end:]])


@lru_cache(maxsize=1)
def _special_words() -> frozenset[str]:
    """Every word the library treats as more than a plain name (titles, suffixes, particles,
    conjunctions…): a name holding one goes to the library."""
    constants = _constants()
    words: set[str] = set()
    for group in (
        constants.titles,
        constants.first_name_titles,
        constants.suffix_acronyms,
        constants.suffix_not_acronyms,
        constants.suffix_acronyms_ambiguous,
        constants.prefixes,
        constants.conjunctions,
        constants.bound_first_names,
        constants.non_first_name_prefixes,
    ):
        words.update(str(word).lower() for word in group)
    return frozenset(words)


def _plain_pair(value: str) -> tuple[str, str] | None:
    """`Jean Dupont`: two plain words of two letters or more (an initial has rules of its
    own), the first not in capitals (which would read as a surname first). The library
    gives first = the first word, last = the second, so most names skip its much slower
    parse; `test_plain_pairs_read_as_the_library_reads_them` holds this."""
    tokens = value.split()
    if len(tokens) != 2 or tokens[0].isupper():
        return None
    special = _special_words()
    patterns = [
        cast("re.Pattern[str]", _constants().regexes[name])
        for name in ("roman_numeral", "east_slavic_patronymic", "turkic_patronymic_marker")
    ]
    if all(
        len(t) > 1
        and t.isalpha()
        and t.lower() not in special
        and not any(p.search(t) for p in patterns)
        for t in tokens
    ):
        return tokens[0], tokens[1]
    return None


@lru_cache(maxsize=65536)
def parse_full_name(value: str | None) -> tuple[str | None, str | None]:
    """(first name, last name) of a full name; None for a part that is not there."""
    if value is None or not value.strip():
        return None, None
    plain = _plain_pair(value)
    if plain is not None:
        return plain
    return parse_with_library(value)


def parse_with_library(value: str) -> tuple[str | None, str | None]:
    """The library's reading of a (non-empty) full name."""
    parsed = HumanName(_surname_first(value), constants=_constants())
    first, last = str(parsed.first).strip(), str(parsed.last).strip()
    return first or None, last or None


def name_part(value: str | None, part: str | None) -> str | None:
    first, last = parse_full_name(value)
    return first if part == "first" else last if part == "last" else None


def name_part_arrow(values: pa.Array, parts: pa.Array) -> pa.Array:
    # Both parts of a value are asked for in one statement: the cache parses it once.
    return pa.array(
        [name_part(v, p) for v, p in zip(values.to_pylist(), parts.to_pylist(), strict=True)],
        pa.string(),
    )


def name_part_many(values: Sequence[object], parts: Sequence[object]) -> list[str | None]:
    """The batch form for Spark's pandas UDFs (a missing value may arrive as NaN)."""
    return [
        name_part(v if isinstance(v, str) else None, p if isinstance(p, str) else None)
        for v, p in zip(values, parts, strict=True)
    ]
