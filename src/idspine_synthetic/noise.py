"""Noise rates and vectorized noise transforms for the synthetic generator.

Every transform works on whole pyarrow string arrays (or numpy code-point matrices for the
small subsets that need per-row character edits); there are no per-row Python loops.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from functools import cache, partial
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from idspine_synthetic.vocabulary import (
    COUNTRIES,
    FIRST_NAMES,
    LAST_NAMES,
    N_PHONE_FORMATS,
    NICKNAMES,
    PLUS_TAGS,
)

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class NoiseRates:
    """Probabilities of each kind of noise. Record-level rates apply per generated record,
    person-level rates (``second_email``, ``new_phone``, ``household_*``, ``updated_over_time``)
    per true person."""

    email_case: float = 0.04  # UPPER, Title.Case or Capitalized address
    email_whitespace: float = 0.02  # leading/trailing spaces
    email_plus_tag: float = 0.02  # local+tag@domain
    gmail_dots: float = 0.15  # of gmail records: dots removed or one added
    phone_format: float = 0.35  # another of the 9 layouts than the source's usual one
    name_typo: float = 0.03  # per name: one character substituted, transposed or deleted
    nickname: float = 0.10  # of records whose first name has one: Bill for William
    initial: float = 0.02  # first name reduced to "J" or "J."
    name_swap: float = 0.02  # first and last name swapped ("LAST First" in full_name)
    name_upper: float = 0.05  # last name in capitals
    accent_strip: float = 0.30  # Hélène -> Helene (no-op on names without accents)
    missing: float = 0.04  # per nullable column
    app_name_missing: float = 0.40  # app records without any name
    newsletter_name_missing: float = 0.60
    second_email: float = 0.12  # persons with a second address
    second_email_use: float = 0.40  # share of their records using it
    new_phone: float = 0.08  # persons changing phone at a random date
    household_email: float = 0.03  # persons using their household partner's email
    household_phone: float = 0.04  # persons using their household partner's phone
    junk_email: float = 0.01  # placeholders such as test@test.com shared by many people
    junk_phone: float = 0.01  # placeholders such as 0000000000
    updated_over_time: float = 0.10  # persons changing company and zip at a random date
    # A shop or app account is unique per person (sites dedupe on login); a second account
    # of the same person is the exception. Other extra records go to the CRM or newsletter.
    duplicate_account: float = 0.04
    # Messy noise (see synthetic_messy), off by default so that default files and benchmark
    # numbers stay comparable; the "messy" profile of NOISE_PROFILES turns it on.
    name_title: float = 0.0  # shop full names with a title: "Mme Hélène Dupont"
    name_comma: float = 0.0  # shop full names as "DUPONT, Hélène"
    foreign_person: float = 0.0  # persons of the first country moved to another one
    country_field: float = 0.0  # CRM records with a Country value (column only when > 0)
    foreign_national_format: float = 0.0  # foreign persons' phones in their national format
    married_name: float = 0.0  # persons with a new last name from a random date
    compound_last_name: float = 0.0  # persons with "van der Berg", "García López" names
    compound_variant: float = 0.0  # their records written another way ("Berg", "Vanderberg")
    nickname_extended: float = 0.0  # records with a nickname from synthetic_nicknames
    namesake: float = 0.0  # persons sharing first name, last name and postcode in groups

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"noise rate {f.name} must be within [0, 1], got {value!r}")


MESSY = NoiseRates(
    name_title=0.08,
    name_comma=0.10,
    foreign_person=0.12,
    country_field=0.9,
    foreign_national_format=0.5,
    married_name=0.06,
    compound_last_name=0.08,
    compound_variant=0.35,
    nickname_extended=0.15,
    namesake=0.05,
)
NOISE_PROFILES = {"default": NoiseRates(), "messy": MESSY}


def fold_ascii(text: str) -> str:
    """Strip accents: ``Hélène`` -> ``Helene``, ``Groß`` -> ``Gross``."""
    decomposed = unicodedata.normalize("NFKD", text.replace("ß", "ss"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def email_key(text: str) -> str:
    """Lowercase ASCII form of a name usable in an email local part."""
    return "".join(c for c in fold_ascii(text).lower() if c.isalnum() or c == "-")


@cache
def first_name_variants() -> Any:
    """First-name vocabulary stacked as [original, accent-stripped, nickname, initial, initial.].

    A record's first name is ``take(variants, index + len(FIRST_NAMES) * variant)``.
    """
    orig = list(FIRST_NAMES)
    nick = [NICKNAMES.get(n, n) for n in orig]
    initial = [n[0] for n in orig]
    dotted = [f"{n[0]}." for n in orig]
    return pa.array(orig + [fold_ascii(n) for n in orig] + nick + initial + dotted, pa.string())


@cache
def last_name_variants() -> Any:
    """Last-name vocabulary stacked as [original, accent-stripped]."""
    orig = list(LAST_NAMES)
    return pa.array(orig + [fold_ascii(n) for n in orig], pa.string())


@cache
def has_nickname() -> BoolArray:
    return np.array([n in NICKNAMES for n in FIRST_NAMES], dtype=np.bool_)


def pick(rng: np.random.Generator, n: int, rate: float) -> IntArray:
    """Indices of the rows selected with probability ``rate``."""
    return np.flatnonzero(rng.random(n) < rate).astype(np.int64)


def replace_at(values: Any, idx: IntArray, new: Any) -> Any:
    """``values`` with ``values[idx[i]] = new[i]`` (one linear pass, indices distinct)."""
    if len(idx) == 0:
        return values
    new = pa.array(new, type=values.type)
    if np.any(idx[1:] < idx[:-1]):
        order = np.argsort(idx, kind="stable")
        idx, new = idx[order], new.take(order)
    mask = np.zeros(len(values), dtype=np.bool_)
    mask[idx] = True
    return pc.replace_with_mask(values, pa.array(mask), new)


def set_null(values: Any, mask: BoolArray) -> Any:
    """``values`` with the rows where ``mask`` is true set to null."""
    if not mask.any():
        return values
    return pc.if_else(pa.array(mask), pa.scalar(None, values.type), values)


def choose(rng: np.random.Generator, values: tuple[str, ...], n: int) -> Any:
    """``n`` values drawn uniformly from a small tuple, as a string array."""
    return pa.array(list(values), pa.string()).take(pa.array(rng.integers(0, len(values), n)))


def typos(values: Any, rng: np.random.Generator) -> Any:
    """One substituted, transposed or deleted character per value (values of length >= 3)."""
    k = len(values)
    if k == 0:
        return values
    text = np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.str_)
    width = text.dtype.itemsize // 4
    codes = np.zeros((k, width + 2), dtype=np.uint32)
    codes[:, :width] = text.view(np.uint32).reshape(k, width)
    lengths = (codes != 0).sum(axis=1)
    kind = rng.integers(0, 3, k)
    pos = 1 + (rng.random(k) * np.maximum(lengths - 1, 1)).astype(np.int64)
    rows = np.arange(k)
    ok = lengths >= 3
    sub = ok & (kind == 0)
    letters = np.frombuffer("abcdefghijklmnopqrstuvwxyz".encode("utf-32-le"), dtype=np.uint32)
    codes[rows[sub], pos[sub]] = letters[rng.integers(0, 26, int(sub.sum()))]
    tr = ok & (kind == 1)
    r, p = rows[tr], pos[tr] - 1
    left = codes[r, p].copy()
    codes[r, p] = codes[r, p + 1]
    codes[r, p + 1] = left
    de = ok & (kind == 2)
    cols = np.arange(width + 1)[None, :]
    src = cols + (cols >= pos[de][:, None])
    codes[rows[de], : width + 1] = np.take_along_axis(codes[rows[de]], src, axis=1)
    out = np.ascontiguousarray(codes[:, :width]).view(f"<U{width}").ravel()
    return pa.array(out, type=pa.string())


def _gmail_dots(emails: Any) -> Any:
    """Remove the dots of a gmail local part, or add one after its first character."""
    local = pc.list_element(pc.split_pattern(emails, "@", max_splits=1), 0)
    undotted = pc.replace_substring(local, ".", "")
    first, rest = pc.utf8_slice_codeunits(local, 0, 1), pc.utf8_slice_codeunits(local, 1)
    dotted = pc.binary_join_element_wise(first, rest, ".")
    new_local = pc.if_else(pc.match_substring(local, "."), undotted, dotted)
    return pc.binary_join_element_wise(new_local, "gmail.com", "@")


def _apply(
    values: Any, rng: np.random.Generator, idx: IntArray, variants: Sequence[Callable[[Any], Any]]
) -> Any:
    """``values`` with each row of ``idx`` transformed by one of ``variants`` at random."""
    if len(idx) == 0:
        return values
    sub = values.take(idx)
    kind = rng.integers(0, len(variants), len(idx))
    out = variants[0](sub)
    for i, variant in enumerate(variants[1:], start=1):
        out = pc.if_else(pa.array(kind == i), variant(sub), out)
    return replace_at(values, idx, out)


def email_noise(emails: Any, rng: np.random.Generator, rates: NoiseRates) -> Any:
    """Gmail dot variation, ``+tag``, case and whitespace variation (no nulls expected)."""
    n, join = len(emails), pc.binary_join_element_wise
    gmail = np.asarray(pc.ends_with(emails, "@gmail.com").to_numpy(zero_copy_only=False))
    dots = np.flatnonzero(gmail & (rng.random(n) < rates.gmail_dots))
    emails = _apply(emails, rng, dots, [_gmail_dots])
    tags = [partial(pc.replace_substring, pattern="@", replacement=f"+{t}@") for t in PLUS_TAGS]
    emails = _apply(emails, rng, pick(rng, n, rates.email_plus_tag), tags)
    cases = [pc.utf8_upper, pc.utf8_title, pc.utf8_capitalize]
    emails = _apply(emails, rng, pick(rng, n, rates.email_case), cases)
    spaces: list[Callable[[Any], Any]] = [
        lambda e: join(" ", e, ""),
        lambda e: join(e, " ", ""),
        lambda e: join("  ", e, " ", ""),
    ]
    return _apply(emails, rng, pick(rng, n, rates.email_whitespace), spaces)


def _phone_template(country: int, fmt: int) -> str:
    """Phone layout with ``#`` for each digit of the national number."""
    cc, trunk, groups, _ = COUNTRIES[country]
    g = ["#" * w for w in groups]
    nsn = "".join(g)
    layouts = [
        f"+{cc}{nsn}",
        f"{trunk}{nsn}",
        trunk + " ".join(g),
        trunk + ".".join(g),
        trunk + "-".join(g),
        f"+{cc} " + " ".join(g),
        f"00{cc}{nsn}",
        f"+{cc} ({trunk})" + " ".join(g) if trunk else f"({g[0]}) " + "-".join(g[1:]),
        f"{cc}{nsn}",
    ]
    return layouts[fmt]


@cache
def _phone_tables() -> tuple[NDArray[np.uint8], NDArray[np.int64], NDArray[np.int64]]:
    """Per (country, format): template bytes, the digit (0-10 of the right-aligned 11-digit
    number, 11 for a literal character) shown in each position, and the length."""
    templates = [
        _phone_template(c, f) for c in range(len(COUNTRIES)) for f in range(N_PHONE_FORMATS)
    ]
    width = max(len(t) for t in templates)
    literal = np.zeros((len(templates), width), dtype=np.uint8)
    slot = np.full((len(templates), width), 11, dtype=np.int64)
    for i, template in enumerate(templates):
        literal[i, : len(template)] = np.frombuffer(template.encode(), dtype=np.uint8)
        positions = np.flatnonzero(literal[i] == ord("#"))
        slot[i, positions] = np.arange(11 - len(positions), 11)
    lengths = np.array([len(t) for t in templates], dtype=np.int64)
    return literal, slot, lengths


def format_phones(country: IntArray, nsn: IntArray, fmt: IntArray, chunk: int = 1 << 18) -> Any:
    """Phone strings of national numbers ``nsn`` laid out in format ``fmt`` per country."""
    literal, slot, lengths = _phone_tables()
    combo = country * N_PHONE_FORMATS + fmt
    parts = []
    for lo in range(0, len(combo), chunk):
        c, v = combo[lo : lo + chunk], nsn[lo : lo + chunk]
        digits = np.empty((len(c), 12), dtype=np.uint8)
        for j in range(11):
            digits[:, j] = v // 10 ** (10 - j) % 10 + 48
        s = slot[c]
        chars = digits.ravel()[np.arange(len(c))[:, None] * 12 + s]
        chars = np.where(s == 11, literal[c], chars)
        parts.append(padded_strings(chars, lengths[c]))
    return pa.concat_arrays(parts) if parts else pa.array([], pa.string())


def digit_strings(values: IntArray, width: int, prefix: str = "") -> Any:
    """``prefix`` + ``values`` zero-padded to ``width`` digits, as a string array."""
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    chars = np.empty((len(values), len(head) + width), dtype=np.uint8)
    chars[:, : len(head)] = head
    for i in range(width):
        chars[:, len(head) + i] = values // 10 ** (width - 1 - i) % 10 + 48
    return fixed_width(chars)


def padded_strings(chars: NDArray[np.uint8], lengths: IntArray) -> Any:
    """String array from the first ``lengths[i]`` ASCII codes of each row of ``chars``."""
    keep = np.arange(chars.shape[1])[None, :] < lengths[:, None]
    offsets = np.zeros(len(lengths) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    data = np.ascontiguousarray(chars[keep])
    return pa.Array.from_buffers(
        pa.string(), len(lengths), [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )


def fixed_width(chars: NDArray[np.uint8]) -> Any:
    """String array from a (rows, width) matrix of ASCII codes, one string per row."""
    k, width = chars.shape
    offsets = np.arange(0, width * k + 1, width, dtype=np.int32)
    data = np.ascontiguousarray(chars)
    return pa.Array.from_buffers(pa.string(), k, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def format_times(t: IntArray, fmt: str) -> Any:
    """Epoch seconds formatted with ``%Y %m %d %H %M %S`` and literal ASCII characters."""
    dt = t.astype("datetime64[s]")
    day = dt.astype("datetime64[D]")
    month = day.astype("datetime64[M]")
    year = month.astype("datetime64[Y]")
    secs = (dt - day).astype(np.int64)
    values = {
        "Y": (year.astype(np.int64) + 1970, 4),
        "m": ((month - year).astype(np.int64) + 1, 2),
        "d": ((day - month).astype(np.int64) + 1, 2),
        "H": (secs // 3600, 2),
        "M": (secs // 60 % 60, 2),
        "S": (secs % 60, 2),
    }
    tokens = fmt.replace("%", "\0%").split("\0")
    columns: list[NDArray[np.int64] | int] = []
    for token in tokens:
        rest = token
        if token.startswith("%"):
            v, width = values[token[1]]
            columns += [v // 10 ** (width - 1 - i) % 10 + 48 for i in range(width)]
            rest = token[2:]
        columns += [ord(c) for c in rest]
    chars = np.empty((len(t), len(columns)), dtype=np.uint8)
    for i, column in enumerate(columns):
        chars[:, i] = column
    return fixed_width(chars)


def hash_strings(values: Any) -> NDArray[np.uint64]:
    """64-bit hash of each string (duckdb ``hash``): equal strings get equal hashes."""
    table = pa.table({"i": pa.array(np.arange(len(values), dtype=np.int64)), "s": values})
    con = duckdb.connect()
    try:
        con.register("v", table)
        out = con.execute("SELECT i, hash(s) AS h FROM v").fetchnumpy()
    finally:
        con.close()
    hashes = np.empty(len(values), dtype=np.uint64)
    hashes[np.asarray(out["i"])] = np.asarray(out["h"], dtype=np.uint64)
    return hashes
