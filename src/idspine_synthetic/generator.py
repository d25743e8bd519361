"""Seeded, vectorized synthetic customer data with ground truth.

``generate`` draws true persons, spreads ≈1.6 records per person over four sources
(``crm_contacts``, ``shop_customers``, ``app_users``, ``newsletter_subscribers``) with realistic
noise (see :class:`NoiseRates`), and writes one file per source plus ``truth.<ext>`` mapping
every record to its person. Same seed and arguments give byte-identical files.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from idspine_synthetic import messy as messy_noise
from idspine_synthetic.noise import (
    NOISE_PROFILES,
    BoolArray,
    IntArray,
    NoiseRates,
    choose,
    digit_strings,
    email_noise,
    first_name_variants,
    fixed_width,
    format_phones,
    format_times,
    has_nickname,
    last_name_variants,
    pick,
    replace_at,
    set_null,
    typos,
)
from idspine_synthetic.people import T_END, T_START, People, string_array
from idspine_synthetic.vocabulary import (
    COUNTRY_ISO,
    FIRST_NAMES,
    JUNK_EMAILS,
    JUNK_PHONES,
    LAST_NAMES,
    N_PHONE_FORMATS,
)

__all__ = ["NOISE_PROFILES", "SOURCES", "GeneratedDataset", "NoiseRates", "generate"]

SOURCES = ("crm_contacts", "shop_customers", "app_users", "newsletter_subscribers")
SOURCE_SHARES = (0.26, 0.34, 0.28, 0.12)  # before moving duplicate accounts
RECORDS_PER_PERSON = 1.6

_TYPES = {"int64": pa.int64(), "timestamp": pa.timestamp("us"), "": pa.string()}
_COLUMNS = {
    "crm_contacts": "contact_id First Last Email AltEmail Phone Company Zip Updated",
    "shop_customers": "customer_id:int64 full_name email_address mobile created_at:timestamp "
    "loyalty_tier",
    "app_users": "user_id email phone_number first_name last_name shop_customer_id:int64 "
    "signup_ts:int64",
    "newsletter_subscribers": "subscriber_id:int64 email first_name subscribed_on",
}
SCHEMAS = {
    source: pa.schema([(c.partition(":")[0], _TYPES[c.partition(":")[2]]) for c in cols.split()])
    for source, cols in _COLUMNS.items()
}
# low-cardinality columns worth dictionary-encoding in parquet
_DICTIONARY_COLUMNS = {"First", "Last", "Company", "Zip", "full_name", "loyalty_tier"}
_DICTIONARY_COLUMNS |= {"first_name", "last_name", "subscribed_on", "source", "Country"}
TRUTH_SCHEMA = pa.schema(
    [("source", pa.string()), ("record_key", pa.string()), ("person_id", pa.int64())]
)


@dataclass(frozen=True)
class GeneratedDataset:
    """Where ``generate`` wrote its files and how many records each source holds."""

    out_dir: Path
    paths: Mapping[str, Path]
    truth_path: Path
    counts: Mapping[str, int]
    n_people: int

    @property
    def n_records(self) -> int:
        return sum(self.counts.values())


def _record_counts(rng: np.random.Generator, n_people: int, n_records: int) -> IntArray:
    """Records per person: 1 + Poisson(0.6), then nudged so the total is exactly n_records."""
    counts = 1 + rng.poisson(RECORDS_PER_PERSON - 1.0, n_people).astype(np.int64)
    diff = n_records - int(counts.sum())
    if diff > 0:
        counts += np.bincount(rng.integers(0, n_people, diff), minlength=n_people)
    while diff < 0:
        candidates = np.flatnonzero(counts > 1)
        drop = rng.choice(candidates, min(-diff, len(candidates)), replace=False)
        counts[drop] -= 1
        diff += len(drop)
    return counts


def _limit_duplicate_accounts(
    rng: np.random.Generator, person: IntArray, source: IntArray, duplicate_rate: float
) -> None:
    """Move most second shop/app accounts of a person to the CRM or the newsletter."""
    accounts = np.isin(source, [SOURCES.index("shop_customers"), SOURCES.index("app_users")])
    order = np.lexsort((np.arange(len(person)), source, person))
    repeated = np.zeros(len(person), dtype=bool)
    same = (person[order][1:] == person[order][:-1]) & (source[order][1:] == source[order][:-1])
    repeated[order[1:]] = same
    move = accounts & repeated & (rng.random(len(person)) >= duplicate_rate)
    targets = np.array([SOURCES.index("crm_contacts"), SOURCES.index("newsletter_subscribers")])
    source[move] = targets[(rng.random(int(move.sum())) < 0.35).astype(np.int64)]


def _hex_ids(rng: np.random.Generator, k: int) -> Any:
    """Distinct ``u_`` + 10 hex characters: a seeded bijection of 0..k-1 onto 40-bit values."""
    mask = np.uint64(2**40 - 1)
    multiplier = np.uint64(rng.integers(0, 2**39) * 2 + 1)  # odd: invertible modulo 2**40
    offset = np.uint64(rng.integers(0, 2**40))
    values = (np.arange(k, dtype=np.uint64) * multiplier + offset) & mask
    values ^= values >> np.uint64(17)
    values = (values * np.uint64(0x5DEECE66D)) & mask
    values ^= values >> np.uint64(19)
    shifts = np.arange(36, -1, -4, dtype=np.uint64)
    chars = np.empty((k, 12), dtype=np.uint8)
    chars[:, :2] = np.frombuffer(b"u_", dtype=np.uint8)
    hex_digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    chars[:, 2:] = hex_digits[(values[:, None] >> shifts[None, :]) & np.uint64(15)]
    return fixed_width(chars)


class _Builder:
    """Builds the noisy records of one source from the persons they belong to."""

    def __init__(
        self,
        rng: np.random.Generator,
        people: People,
        rates: NoiseRates,
        messy: np.random.Generator,
    ) -> None:
        self.rng, self.people, self.rates, self.messy = rng, people, rates, messy

    def missing(self, values: Any, rate: float | None = None) -> Any:
        r = self.rates.missing if rate is None else rate
        return set_null(values, self.rng.random(len(values)) < r)

    def take(self, values: Any, pp: IntArray, newer: BoolArray, newer_values: Any) -> Any:
        """Per-record string: ``newer_values`` where ``newer`` else ``values``."""
        idx = np.flatnonzero(newer)
        return replace_at(values.take(pp), idx, newer_values.take(pp[idx]))

    def names(self, pp: IntArray, t: IntArray) -> tuple[Any, Any, BoolArray]:
        """Noisy (first, last) per record and a mask of records whose names get swapped."""
        rng, rates, k = self.rng, self.rates, len(pp)
        first_idx = self.people.first[pp]
        strip = rng.random(k) < rates.accent_strip
        variant = strip.astype(np.int64)
        variant[has_nickname()[first_idx] & (rng.random(k) < rates.nickname)] = 2
        initial = rng.random(k) < rates.initial
        variant[initial] = 3 + (rng.random(int(initial.sum())) < 0.3)
        first = first_name_variants().take(first_idx + len(FIRST_NAMES) * variant)
        first = messy_noise.nicknames(
            self.messy, rates.nickname_extended, first_idx, variant <= 1, first
        )
        last = last_name_variants().take(self.people.last[pp] + len(LAST_NAMES) * strip)
        last = messy_noise.last_names(self.messy, rates, self.people, pp, t, last)
        idx = pick(rng, k, rates.name_typo)
        first = replace_at(first, idx, typos(first.take(idx), rng))
        idx = pick(rng, k, rates.name_typo)
        last = replace_at(last, idx, typos(last.take(idx), rng))
        idx = pick(rng, k, rates.name_upper)
        last = replace_at(last, idx, pc.utf8_upper(last.take(idx)))
        return first, last, rng.random(k) < rates.name_swap

    def emails(self, pp: IntArray) -> tuple[Any, BoolArray]:
        """Noisy email per record (primary or second address) and the mask of second ones."""
        p, rng, k = self.people, self.rng, len(pp)
        second = p.has_second[pp] & (rng.random(k) < self.rates.second_email_use)
        email = email_noise(self.take(p.email, pp, second, p.second_email), rng, self.rates)
        idx = pick(rng, k, self.rates.junk_email)
        return replace_at(email, idx, choose(rng, JUNK_EMAILS, len(idx))), second

    def phones(self, pp: IntArray, t: IntArray, default_format: int) -> Any:
        p, rng, k = self.people, self.rng, len(pp)
        newer = p.has_new_phone[pp] & (t >= p.change_time[pp])
        nsn = np.where(newer, p.new_phone[pp], p.phone[pp])
        fmt = np.full(k, default_format, dtype=np.int64)
        varied = rng.random(k) < self.rates.phone_format
        fmt[varied] = rng.integers(0, N_PHONE_FORMATS, int(varied.sum()))
        if self.rates.foreign_national_format > 0:
            rate = self.rates.foreign_national_format
            fmt = messy_noise.national_formats(self.messy, rate, p.country[pp], fmt)
        phone = format_phones(p.country[pp], nsn, fmt)
        idx = pick(rng, k, self.rates.junk_phone)
        return replace_at(phone, idx, choose(rng, JUNK_PHONES, len(idx)))

    def crm(self, pp: IntArray, t: IntArray) -> Any:
        p, rng, k = self.people, self.rng, len(pp)
        contact_id = digit_strings(np.arange(1, k + 1), max(8, len(str(k))), "C")
        first, last, swapped = self.names(pp, t)
        swap = pa.array(swapped)
        email, second = self.emails(pp)
        alt_idx = np.flatnonzero(p.has_second[pp] & (rng.random(k) < 0.6))
        alt_pp = pp[alt_idx]
        alt = pc.if_else(
            pa.array(second[alt_idx]), p.email.take(alt_pp), p.second_email.take(alt_pp)
        )
        alt = replace_at(pa.nulls(k, pa.string()), alt_idx, alt)
        moved = p.moved[pp] & (t >= p.change_time[pp])
        company = np.where(moved, p.new_company[pp], p.company[pp])
        columns = [
            contact_id,
            self.missing(pc.if_else(swap, last, first)),
            self.missing(pc.if_else(swap, first, last)),
            self.missing(email),
            alt,
            self.missing(self.phones(pp, t, 2)),
            self.missing(p.company_names.take(pa.array(company, mask=company < 0))),
            self.missing(digit_strings(np.where(moved, p.new_zip[pp], p.zip[pp]), 5)),
            format_times(t, "%d/%m/%Y %H:%M"),
        ]
        table = pa.Table.from_arrays(columns, schema=SCHEMAS["crm_contacts"])
        if self.rates.country_field > 0:
            country = pa.array(COUNTRY_ISO, pa.string()).take(p.country[pp])
            blank = self.messy.random(k) >= self.rates.country_field
            table = table.append_column("Country", set_null(country, blank))
        return table

    def shop(self, pp: IntArray, t: IntArray) -> Any:
        rng, k = self.rng, len(pp)
        first, last, swapped = self.names(pp, t)
        full_name = pc.if_else(
            pa.array(swapped),
            pc.binary_join_element_wise(pc.utf8_upper(last), first, " "),
            pc.binary_join_element_wise(first, last, " "),
        )
        if self.rates.name_comma > 0 or self.rates.name_title > 0:
            rates = self.rates
            full_name = messy_noise.full_names(self.messy, rates, first, last, full_name, swapped)
        tiers = string_array(("bronze", "silver", "gold"))
        columns = [
            pa.array(1_000_000 + np.cumsum(rng.integers(1, 4, k)), pa.int64()),
            self.missing(full_name),
            self.missing(self.emails(pp)[0]),
            self.missing(self.phones(pp, t, 1)),
            pa.array(t * 1_000_000, pa.int64()).cast(pa.timestamp("us")),
            tiers.take(rng.choice(3, k, p=[0.6, 0.3, 0.1])),
        ]
        return pa.Table.from_arrays(columns, schema=SCHEMAS["shop_customers"])

    def app(self, pp: IntArray, t: IntArray, shop_of: IntArray) -> Any:
        k = len(pp)
        first, last, swapped = self.names(pp, t)
        swap = pa.array(swapped)
        nameless = self.rng.random(k) < self.rates.app_name_missing
        link = shop_of[pp] >= 0
        columns = [
            _hex_ids(self.rng, k),
            self.missing(self.emails(pp)[0]),
            self.missing(self.phones(pp, t, 0)),
            self.missing(set_null(pc.if_else(swap, last, first), nameless)),
            self.missing(set_null(pc.if_else(swap, first, last), nameless)),
            pa.array(np.where(link, shop_of[pp], 0), pa.int64(), mask=~link),
            pa.array(t, pa.int64()),
        ]
        return pa.Table.from_arrays(columns, schema=SCHEMAS["app_users"])

    def newsletter(self, pp: IntArray, t: IntArray) -> Any:
        columns = [
            pa.array(np.arange(1, len(pp) + 1), pa.int64()),
            self.emails(pp)[0],
            self.missing(self.names(pp, t)[0], self.rates.newsletter_name_missing),
            format_times(t, "%Y-%m-%d"),
        ]
        return pa.Table.from_arrays(columns, schema=SCHEMAS["newsletter_subscribers"])


def _write(table: Any, path: Path, file_format: str) -> None:
    if file_format == "parquet":
        pq.write_table(
            table,
            path,
            compression="zstd",
            compression_level=1,
            row_group_size=1 << 20,
            use_dictionary=[c for c in table.column_names if c in _DICTIONARY_COLUMNS],
            write_statistics=True,
            version="2.6",
        )
    else:
        pacsv.write_csv(table, path)


def generate(
    n_records: int,
    out_dir: Path,
    *,
    seed: int = 42,
    file_format: Literal["parquet", "csv"] = "parquet",
    noise: NoiseRates | str | None = None,
) -> GeneratedDataset:
    """Write ``n_records`` noisy records of ≈ n_records / 1.6 true persons to ``out_dir``.

    Files: ``<source>.<ext>`` for each of :data:`SOURCES` and ``truth.<ext>`` with columns
    ``source``, ``record_key`` (primary key as text) and ``person_id``. ``noise`` is a
    :class:`NoiseRates` or the name of one of :data:`NOISE_PROFILES` (``"default"``,
    ``"messy"``); the messy profile adds a ``Country`` column to ``crm_contacts``.
    """
    if n_records < 1:
        raise ValueError(f"n_records must be positive, got {n_records}")
    if file_format not in ("parquet", "csv"):
        raise ValueError(f"file_format must be 'parquet' or 'csv', got {file_format!r}")
    if isinstance(noise, str) and noise not in NOISE_PROFILES:
        raise ValueError(f"unknown noise profile {noise!r}; profiles: {', '.join(NOISE_PROFILES)}")
    rates = NOISE_PROFILES[noise] if isinstance(noise, str) else noise or NoiseRates()
    rng = np.random.default_rng(seed)
    n_people = max(1, round(n_records / RECORDS_PER_PERSON))
    # Messy noise draws from a second stream: the default profile's files never change.
    messy = messy_noise.messy_stream(seed)
    build = _Builder(rng, People(rng, n_people, rates, messy), rates, messy)

    counts = _record_counts(rng, n_people, n_records)
    person = np.repeat(np.arange(n_people, dtype=np.int64), counts)[rng.permutation(n_records)]
    # records are in random person order, so sorted times keep every source in time order
    when = np.sort(rng.integers(T_START, T_END, n_records))
    source = rng.choice(len(SOURCES), n_records, p=SOURCE_SHARES)
    _limit_duplicate_accounts(rng, person, source, rates.duplicate_account)
    rows = [np.flatnonzero(source == s) for s in range(len(SOURCES))]

    pp, t = [person[r] for r in rows], [when[r] for r in rows]
    tables = {"crm_contacts": build.crm(pp[0], t[0]), "shop_customers": build.shop(pp[1], t[1])}
    # the app links ~70% of persons who also have a shop record to their earliest shop id
    no_shop = np.iinfo(np.int64).max
    shop_of = np.full(n_people, no_shop, dtype=np.int64)
    np.minimum.at(shop_of, pp[1], np.asarray(tables["shop_customers"].column("customer_id")))
    shop_of[(shop_of == no_shop) | (rng.random(n_people) >= 0.7)] = -1
    tables["app_users"] = build.app(pp[2], t[2], shop_of)
    tables["newsletter_subscribers"] = build.newsletter(pp[3], t[3])

    out_dir.mkdir(parents=True, exist_ok=True)
    ext = "parquet" if file_format == "parquet" else "csv"
    paths: dict[str, Path] = {}
    truth_parts = []
    for s, name in enumerate(SOURCES):
        paths[name] = out_dir / f"{name}.{ext}"
        key = pc.cast(tables[name].column(0), pa.string())
        source_name = pa.repeat(pa.scalar(name, pa.string()), len(rows[s]))
        columns = [source_name, key, pa.array(pp[s])]
        truth_parts.append(pa.Table.from_arrays(columns, schema=TRUTH_SCHEMA))
    truth_path = out_dir / f"truth.{ext}"
    jobs = [(tables[name], paths[name]) for name in SOURCES]
    jobs.append((pa.concat_tables(truth_parts), truth_path))
    with ThreadPoolExecutor(max_workers=min(len(jobs), os.cpu_count() or 1)) as pool:
        list(pool.map(lambda job: _write(job[0], job[1], file_format), jobs))
    return GeneratedDataset(
        out_dir=out_dir,
        paths=paths,
        truth_path=truth_path,
        counts={name: tables[name].num_rows for name in SOURCES},
        n_people=n_people,
    )
