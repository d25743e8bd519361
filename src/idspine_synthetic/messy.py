"""The messy noise of the synthetic generator: hard cases that real customer data has and the
default profile leaves out, each with its own rate in :class:`NoiseRates` (all 0 by default).

* ``name_title`` / ``name_comma``: shop full names such as ``Mme Hélène Dupont`` or
  ``DUPONT, Hélène``; titles are drawn without regard to sex (the generator has none).
* ``foreign_person``: people moved to one of seven other countries, with that country's
  mobile numbers; ``country_field``: the CRM's ``Country`` column (ISO code) is filled on that
  share of records (the column exists only when the rate is above 0);
  ``foreign_national_format``: of foreign people's phone records, the share written in their
  own national format (trunk prefix, no country code), readable only with their country.
* ``married_name``: people who took another last name at a random date; their later records
  carry it, with the same first name, email and phone.
* ``compound_last_name``: people with a particle (``van der Berg``, ``de la Cruz``) or a double
  last name (``García López``, ``Dupont-Martin``); ``compound_variant``: the share of their
  records written another way (particle dropped or glued, one part only, hyphen or space).
* ``nickname_extended``: records using a nickname from the generator's own table
  (`synthetic_nicknames`, several hundred pairs) instead of the first name.
* ``namesake``: people put in groups (2 + geometric, mean ≈ 9) sharing first name, last name
  and postcode, with their own email and phone.

Every draw comes from a second random stream (seeded from the same seed), so the default
profile's files stay byte-identical whatever this module draws.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from idspine_synthetic.nicknames import EXTENDED_NICKNAMES
from idspine_synthetic.noise import BoolArray, IntArray, NoiseRates, choose, replace_at
from idspine_synthetic.vocabulary import COUNTRIES, FIRST_NAMES, LAST_NAMES

if TYPE_CHECKING:
    from idspine_synthetic.people import People

MESSY_STREAM = 1  # the second stream's key next to the seed
NAMESAKE_GROWTH = 1 / 8  # groups are 2 + geometric(1/8) people
NAMESAKE_MAX = 200
MARRIED_NAME_USE = 0.85  # records after the marriage that carry the new name
TITLES = ("M.", "Mme", "Mlle", "Mr", "Mrs", "Ms", "Dr", "Dr.", "Herr", "Frau", "Sr.", "Sra.")
PARTICLES = {
    "van der": "Berg Meer Linden Heuvel Broek Veen Wal Velde",
    "van den": "Bosch Berg Broek Heuvel",
    "van": "Dijk Leeuwen Dam Beek Rijn Wijk",
    "de la": "Cruz Fuente Torre Rosa Vega Peña Fontaine Roche",
    "del": "Río Valle Castillo Pino Campo",
    "de": "Gaulle Villiers Rochefort Montfort Beaumont Souza Oliveira",
    "da": "Silva Costa Cunha Rocha",
    "dos": "Santos Reis Anjos",
    "von": "Bülow Stein Brandt Richthofen Trapp",
    "le": "Gall Goff Roux Bihan Floch",
    "du": "Pont Bois Val Moulin",
    "di": "Stefano Marco Giovanni Pietro",
}
# country index (COUNTRIES) -> mobile prefixes of the national number and digits after them
_MOBILE: dict[int, tuple[tuple[int, ...], int]] = {
    1: ((7,), 9),
    2: (tuple(range(201, 990)), 7),
    3: ((151, 152, 157, 159, 160, 170, 171, 176), 8),
    4: ((6,), 8),
    5: ((46, 47, 48, 49), 7),
    6: ((32, 33, 34, 36, 38, 39), 8),
    7: ((75, 76, 77, 78, 79), 7),
}


def messy_stream(seed: int) -> np.random.Generator:
    return np.random.default_rng([seed, MESSY_STREAM])


def namesakes(rng: np.random.Generator, rate: float, people: list[IntArray]) -> None:
    """Give groups of people the attributes (first, last, zip...) of their group's first."""
    n = len(people[0])
    k = round(n * rate)
    if k < 2:
        return
    members = rng.permutation(n)[:k]
    sizes = np.minimum(2 + rng.geometric(NAMESAKE_GROWTH, k), NAMESAKE_MAX)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    starts = starts[starts < k]
    head = members[starts[np.searchsorted(starts, np.arange(k), side="right") - 1]]
    for values in people:
        values[members] = values[head]


def foreign_numbers(rng: np.random.Generator, country: IntArray) -> IntArray:
    """Mobile national numbers for each person of a country other than the first."""
    out = np.zeros(len(country), dtype=np.int64)
    for c, (prefixes, digits) in _MOBILE.items():
        rows = np.flatnonzero(country == c)
        prefix = np.asarray(prefixes, dtype=np.int64)[rng.integers(0, len(prefixes), len(rows))]
        out[rows] = prefix * 10**digits + rng.integers(0, 10**digits, len(rows))
    return out


def move_abroad(rng: np.random.Generator, rate: float, people: People) -> None:
    """Move a share of the first country's people to the others, with new numbers."""
    home = np.flatnonzero(people.country == 0)
    moved = home[rng.random(len(home)) < rate]
    people.country[moved] = rng.integers(1, len(COUNTRIES), len(moved))
    people.phone[moved] = foreign_numbers(rng, people.country[moved])
    people.new_phone[moved] = foreign_numbers(rng, people.country[moved])
    other, head = people.shared_phone  # household members keep sharing their phone
    people.country[other], people.phone[other] = people.country[head], people.phone[head]


@cache
def _particle_names() -> tuple[tuple[str, ...], tuple[str, ...]]:
    pairs = [(p, b) for p, bases in PARTICLES.items() for b in bases.split()]
    return tuple(p for p, _ in pairs), tuple(b for _, b in pairs)


def compound_forms(rng: np.random.Generator, people: IntArray, last: IntArray) -> Any:
    """Four forms of a compound last name per person, stacked ``[canonical, v1, v2, v3]``
    (each ``len(people)`` long): particle names, double names and hyphenated names."""
    m, join = len(people), pc.binary_join_element_wise
    kind = rng.choice(3, m, p=[0.45, 0.35, 0.20])
    particles, bases = _particle_names()
    which = rng.integers(0, len(particles), m)
    particle = pa.array(particles, pa.string()).take(which)
    base = pa.array(bases, pa.string()).take(which)
    vocabulary = pa.array(LAST_NAMES, pa.string())
    first_part = vocabulary.take(last[people])
    second_part = vocabulary.take(rng.integers(0, len(LAST_NAMES), m))
    spaced, hyphened = join(first_part, second_part, " "), join(first_part, second_part, "-")
    glued = join(
        pc.utf8_capitalize(pc.replace_substring(particle, " ", "")), pc.utf8_lower(base), ""
    )
    forms = {  # kind -> canonical, then three other ways to write it
        0: (join(particle, base, " "), join(pc.utf8_title(particle), base, " "), base, glued),
        1: (spaced, hyphened, first_part, second_part),
        2: (hyphened, spaced, first_part, second_part),
    }
    stacked = []
    for form in range(4):
        out = forms[0][form]
        for k in (1, 2):
            out = pc.if_else(pa.array(kind == k), forms[k][form], out)
        stacked.append(out)
    return pa.concat_arrays(stacked)


def last_names(
    rng: np.random.Generator,
    rates: NoiseRates,
    people: People,
    pp: IntArray,
    t: IntArray,
    last: Any,
) -> Any:
    """Compound forms and married names in place of the records' plain last names."""
    if len(people.compound_people):
        position = np.searchsorted(people.compound_people, pp)
        position = np.minimum(position, len(people.compound_people) - 1)
        idx = np.flatnonzero(people.compound_people[position] == pp)
        form = np.where(
            rng.random(len(idx)) < rates.compound_variant, rng.integers(1, 4, len(idx)), 0
        )
        forms = people.compound_forms.take(form * len(people.compound_people) + position[idx])
        last = replace_at(last, idx, forms)
    if rates.married_name > 0:
        use = rng.random(len(pp)) < MARRIED_NAME_USE
        idx = np.flatnonzero(people.married[pp] & (t >= people.marriage_time[pp]) & use)
        names = pa.array(LAST_NAMES, pa.string()).take(people.married_last[pp[idx]])
        last = replace_at(last, idx, names)
    return last


@cache
def _nickname_table() -> tuple[IntArray, IntArray, Any]:
    """Per first name: where its nicknames start in the flat list, how many, the list."""
    counts = np.array([len(EXTENDED_NICKNAMES.get(n, ())) for n in FIRST_NAMES], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    flat = [nick for n in FIRST_NAMES for nick in EXTENDED_NICKNAMES.get(n, ())]
    return starts, counts, pa.array(flat, pa.string())


def nicknames(
    rng: np.random.Generator, rate: float, first_idx: IntArray, plain: BoolArray, first: Any
) -> Any:
    """Some records' first names replaced by one of their nicknames (``plain``: records whose
    first name is still the full one: not an initial or the default profile's nickname)."""
    if rate <= 0:
        return first
    starts, counts, flat = _nickname_table()
    idx = np.flatnonzero(plain & (counts[first_idx] > 0) & (rng.random(len(first_idx)) < rate))
    f = first_idx[idx]
    choice = starts[f] + (rng.random(len(idx)) * counts[f]).astype(np.int64)
    return replace_at(first, idx, flat.take(choice))


def full_names(
    rng: np.random.Generator,
    rates: NoiseRates,
    first: Any,
    last: Any,
    full: Any,
    swapped: BoolArray,
) -> Any:
    """``Last, First`` (often in capitals) and titles in front of shop full names."""
    k = len(full)
    idx = np.flatnonzero(~swapped & (rng.random(k) < rates.name_comma))
    upper = pa.array(rng.random(len(idx)) < 0.6)
    surname = last.take(idx)
    surname = pc.if_else(upper, pc.utf8_upper(surname), surname)
    full = replace_at(full, idx, pc.binary_join_element_wise(surname, first.take(idx), ", "))
    idx = np.flatnonzero(rng.random(k) < rates.name_title)
    titled = pc.binary_join_element_wise(choose(rng, TITLES, len(idx)), full.take(idx), " ")
    return replace_at(full, idx, titled)


def national_formats(
    rng: np.random.Generator, rate: float, country: IntArray, fmt: IntArray
) -> IntArray:
    """Foreign people's phone layouts, a share forced to a national one (layouts 1-4)."""
    forced = (country > 0) & (rng.random(len(country)) < rate)
    out = fmt.copy()
    out[forced] = rng.integers(1, 5, int(forced.sum()))
    return out
