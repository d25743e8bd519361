"""The synthetic population: who each person is before any source sees them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from idspine_synthetic.messy import compound_forms, move_abroad, namesakes
from idspine_synthetic.noise import (
    IntArray,
    NoiseRates,
    email_key,
    hash_strings,
    replace_at,
    set_null,
)
from idspine_synthetic.vocabulary import (
    COMPANIES,
    COUNTRIES,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    LAST_NAMES,
)

T_START = 1_577_836_800  # 2020-01-01T00:00:00Z
T_END = 1_782_864_000  # 2026-07-01T00:00:00Z (exclusive)


def string_array(values: list[str] | tuple[str, ...]) -> Any:
    return pa.array(list(values), pa.string())


def _zipf(rng: np.random.Generator, size: int, n: int, exponent: float) -> IntArray:
    weights = 1.0 / np.arange(10, size + 10, dtype=np.float64) ** exponent
    return rng.choice(size, n, p=weights / weights.sum()).astype(np.int64)


def _zips(rng: np.random.Generator, n: int) -> IntArray:
    """French-style postal codes: department (01-95) followed by three digits."""
    dept = rng.integers(1, 96, n)
    return np.where(dept == 20, 75, dept) * 1000 + rng.integers(0, 100, n) * 10


def _national_numbers(rng: np.random.Generator, country: IntArray) -> IntArray:
    """National significant numbers of mobile phones (no trunk prefix) as integers."""
    out = np.empty(len(country), dtype=np.int64)
    sizes = [int(np.count_nonzero(country == c)) for c in range(len(COUNTRIES))]
    fr, uk, us, de = (country == c for c in range(4))  # others: synthetic_messy
    out[fr] = rng.choice([6, 7], sizes[0]) * 10**8 + rng.integers(0, 10**8, sizes[0])
    out[uk] = 7 * 10**9 + rng.integers(0, 10**9, sizes[1])
    area, exchange = rng.integers(201, 990, sizes[2]), rng.integers(200, 1000, sizes[2])
    out[us] = area * 10**7 + exchange * 10**4 + rng.integers(0, 10**4, sizes[2])
    out[de] = rng.choice([151, 152, 157, 159], sizes[3]) * 10**8 + rng.integers(0, 10**8, sizes[3])
    return out


def _email_locals(rng: np.random.Generator, first: IntArray, last: IntArray) -> Any:
    """Local parts such as ``jean.dupont``, ``jdupont``, ``dupont.jean``, ``jean_dupont84``."""
    n, nf = len(first), len(FIRST_NAMES)
    fkeys = [email_key(x) for x in FIRST_NAMES]
    keys = string_array(fkeys + [k[0] for k in fkeys] + [email_key(x) for x in LAST_NAMES] + [""])
    # patterns: first.last firstlast f.last first_last last.first flast first
    pattern = rng.choice(7, n, p=[0.30, 0.12, 0.10, 0.08, 0.08, 0.17, 0.15])
    a_kind = np.array([0, 0, 1, 0, 2, 1, 0])[pattern]  # 0 first, 1 initial, 2 last
    b_kind = np.array([2, 2, 2, 2, 0, 2, 3])[pattern]  # 3 nothing
    offsets = np.array([0, nf, 2 * nf, 2 * nf + len(LAST_NAMES)])
    a = keys.take(offsets[a_kind] + np.where(a_kind == 2, last, first))
    b = keys.take(offsets[b_kind] + np.where(b_kind == 2, last, np.where(b_kind == 0, first, 0)))
    sep = string_array(("", ".", "_")).take(np.array([1, 0, 1, 2, 1, 0, 0])[pattern])
    number = np.where(rng.random(n) < 0.6, rng.integers(1, 100, n), rng.integers(1950, 2006, n))
    suffix = pc.cast(pa.array(number), pa.string())
    suffix = set_null(suffix, (rng.random(n) < 0.45) & (pattern != 6))
    suffix = pc.fill_null(suffix, "")
    return pc.binary_join_element_wise(a, sep, b, suffix, "")


def _email_domains(rng: np.random.Generator, company: IntArray) -> Any:
    """Webmail domains by weight; ~8% of persons with a company (``company >= 0``) use its."""
    n, nc = len(company), len(COMPANIES)
    names = [d for d, _ in EMAIL_DOMAINS]
    weights = np.array([w for _, w in EMAIL_DOMAINS], dtype=np.float64)
    slugs = [email_key(c.replace(" ", "-")) for c in COMPANIES]
    vocab = string_array(names + [f"{c}.com" for c in slugs] + [f"{c}.fr" for c in slugs])
    code = rng.choice(len(names), n, p=weights / weights.sum())
    use_company = (company >= 0) & (rng.random(n) < 0.08)
    tld = rng.integers(0, 2, n)
    code[use_company] = (len(names) + company + nc * tld)[use_company]
    return vocab.take(code)


def _unique_emails(local: Any, domain: Any) -> Any:
    """``local@domain`` made unique, treating gmail dots as insignificant; duplicates get
    a ``_<row>`` suffix that no generated local part can otherwise end with."""
    key_local = pc.if_else(
        pc.equal(domain, "gmail.com"), pc.replace_substring(local, ".", ""), local
    )
    hashes = hash_strings(pc.binary_join_element_wise(key_local, domain, "@"))
    order = np.argsort(hashes)  # deterministic; equal hashes end up adjacent
    ordered = hashes[order]
    dup = np.zeros(len(local), dtype=np.bool_)
    dup[order[1:]] = ordered[1:] == ordered[:-1]  # all but one of each equal run
    row = pc.cast(pa.array(np.arange(len(local))), pa.string())
    fixed = pc.if_else(pa.array(dup), pc.binary_join_element_wise(local, row, "_"), local)
    return pc.binary_join_element_wise(fixed, domain, "@")


class People:
    """Canonical attributes of the true persons; household pairs share email or phone."""

    def __init__(
        self,
        rng: np.random.Generator,
        n: int,
        rates: NoiseRates,
        messy: np.random.Generator | None = None,
    ) -> None:
        self.first = _zipf(rng, len(FIRST_NAMES), n, 0.6)
        self.last = last = _zipf(rng, len(LAST_NAMES), n, 0.6)
        suffixes = ("SAS", "SA", "SARL", "Ltd", "GmbH", "Inc", "SL")
        names = string_array(
            [f"{c} {suffixes[i % len(suffixes)]}" for i, c in enumerate(COMPANIES)]
        )
        self.company_names = names
        self.company = company = np.where(
            rng.random(n) < 0.15, -1, rng.integers(0, len(COMPANIES), n)
        )
        self.new_company = rng.integers(0, len(COMPANIES), n)
        self.zip, self.new_zip = _zips(rng, n), _zips(rng, n)
        self.moved = rng.random(n) < rates.updated_over_time
        self.change_time = rng.integers(T_START, T_END, n)

        # household pairs (disjoint): the second member takes the first one's last name and zip
        share_rate = max(rates.household_email, rates.household_phone)
        n_pairs = min(round(n * share_rate), n // 2)
        members = rng.permutation(n)[: 2 * n_pairs].astype(np.int64)
        head, other = members[:n_pairs], members[n_pairs:]
        last[other] = last[head]
        self.zip[other] = self.zip[head]
        scale = share_rate if share_rate > 0 else 1.0
        share_email = rng.random(n_pairs) < rates.household_email / scale
        share_phone = rng.random(n_pairs) < rates.household_phone / scale
        if messy is not None and rates.namesake > 0:  # before the emails drawn from the names
            namesakes(messy, rates.namesake, [self.first, last, self.zip])

        self.has_second = rng.random(n) < rates.second_email
        local = pa.concat_arrays([_email_locals(rng, self.first, last) for _ in range(2)])
        domain = pa.concat_arrays([_email_domains(rng, company) for _ in range(2)])
        emails = _unique_emails(local, domain)
        email = emails.slice(0, n)
        self.email = replace_at(email, other[share_email], email.take(head[share_email]))
        self.second_email = set_null(emails.slice(n, n), ~self.has_second)

        weights = [c[3] for c in COUNTRIES]
        self.country = country = rng.choice(len(COUNTRIES), n, p=weights).astype(np.int64)
        country[other[share_phone]] = country[head[share_phone]]
        self.phone = phone = _national_numbers(rng, country)
        self.new_phone = _national_numbers(rng, country)
        phone[other[share_phone]] = phone[head[share_phone]]
        self.has_new_phone = rng.random(n) < rates.new_phone
        self.shared_phone = (other[share_phone], head[share_phone])
        self.married = np.zeros(0, dtype=np.bool_)
        self.married_last = self.marriage_time = np.zeros(0, dtype=np.int64)
        self.compound_people = np.zeros(0, dtype=np.int64)
        self.compound_forms: Any = pa.array([], pa.string())
        if messy is not None:
            self._add_messy(messy, rates, n)

    def _add_messy(self, rng: np.random.Generator, rates: NoiseRates, n: int) -> None:
        """Person-level messy noise, drawn from its own stream (see synthetic_messy)."""
        if rates.foreign_person > 0:
            move_abroad(rng, rates.foreign_person, self)
        if rates.married_name > 0:
            self.married = rng.random(n) < rates.married_name
            self.married_last = _zipf(rng, len(LAST_NAMES), n, 0.6)
            self.marriage_time = rng.integers(T_START, T_END, n)
        if rates.compound_last_name > 0:
            self.compound_people = np.flatnonzero(rng.random(n) < rates.compound_last_name)
            self.compound_forms = compound_forms(rng, self.compound_people, self.last)
