from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from idspine_synthetic.generator import (
    NOISE_PROFILES,
    SOURCES,
    GeneratedDataset,
    NoiseRates,
    generate,
)
from idspine_synthetic.messy import TITLES
from idspine_synthetic.nicknames import EXTENDED_NICKNAMES
from idspine_synthetic.vocabulary import FIRST_NAMES

EXPECTED_SCHEMAS = {
    "crm_contacts": [
        ("contact_id", pa.string()),
        ("First", pa.string()),
        ("Last", pa.string()),
        ("Email", pa.string()),
        ("AltEmail", pa.string()),
        ("Phone", pa.string()),
        ("Company", pa.string()),
        ("Zip", pa.string()),
        ("Updated", pa.string()),
    ],
    "shop_customers": [
        ("customer_id", pa.int64()),
        ("full_name", pa.string()),
        ("email_address", pa.string()),
        ("mobile", pa.string()),
        ("created_at", pa.timestamp("us")),
        ("loyalty_tier", pa.string()),
    ],
    "app_users": [
        ("user_id", pa.string()),
        ("email", pa.string()),
        ("phone_number", pa.string()),
        ("first_name", pa.string()),
        ("last_name", pa.string()),
        ("shop_customer_id", pa.int64()),
        ("signup_ts", pa.int64()),
    ],
    "newsletter_subscribers": [
        ("subscriber_id", pa.int64()),
        ("email", pa.string()),
        ("first_name", pa.string()),
        ("subscribed_on", pa.string()),
    ],
}
EMAIL_COLUMNS = {
    "crm_contacts": "Email",
    "shop_customers": "email_address",
    "app_users": "email",
    "newsletter_subscribers": "email",
}
PHONE_COLUMNS = {"crm_contacts": "Phone", "shop_customers": "mobile", "app_users": "phone_number"}


@pytest.fixture(scope="module")
def dataset_20k(tmp_path_factory: pytest.TempPathFactory) -> GeneratedDataset:
    return generate(20_000, tmp_path_factory.mktemp("gen20k"), seed=7)


def _read(ds: GeneratedDataset) -> dict[str, pa.Table]:
    return {name: pq.read_table(path) for name, path in ds.paths.items()}


def _person_of(ds: GeneratedDataset) -> dict[tuple[str, str], int]:
    truth = pq.read_table(ds.truth_path).to_pylist()
    return {(r["source"], r["record_key"]): r["person_id"] for r in truth}


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    a = generate(3_000, tmp_path / "a", seed=11)
    b = generate(3_000, tmp_path / "b", seed=11)
    c = generate(3_000, tmp_path / "c", seed=12)
    files_a = [*a.paths.values(), a.truth_path]
    files_b = [*b.paths.values(), b.truth_path]
    assert [p.name for p in files_a] == [p.name for p in files_b]
    for fa, fb in zip(files_a, files_b, strict=True):
        assert fa.read_bytes() == fb.read_bytes(), fa.name
    assert a.paths["crm_contacts"].read_bytes() != c.paths["crm_contacts"].read_bytes()


def test_csv_is_deterministic_and_readable(tmp_path: Path) -> None:
    a = generate(2_000, tmp_path / "a", file_format="csv")
    b = generate(2_000, tmp_path / "b", file_format="csv")
    for name in SOURCES:
        assert a.paths[name].suffix == ".csv"
        assert a.paths[name].read_bytes() == b.paths[name].read_bytes()
    assert a.truth_path.name == "truth.csv"
    truth = pacsv.read_csv(a.truth_path)
    assert truth.num_rows == a.n_records
    crm = pacsv.read_csv(
        a.paths["crm_contacts"],
        convert_options=pacsv.ConvertOptions(column_types={"Zip": pa.string()}),
    )
    assert crm.column_names == [c for c, _ in EXPECTED_SCHEMAS["crm_contacts"]]


def test_schemas_are_exact(dataset_20k: GeneratedDataset) -> None:
    tables = _read(dataset_20k)
    assert list(tables) == list(SOURCES)
    for name, table in tables.items():
        assert [(f.name, f.type) for f in table.schema] == EXPECTED_SCHEMAS[name], name
        assert table.num_rows == dataset_20k.counts[name]
    truth = pq.read_table(dataset_20k.truth_path)
    assert [(f.name, f.type) for f in truth.schema] == [
        ("source", pa.string()),
        ("record_key", pa.string()),
        ("person_id", pa.int64()),
    ]


def test_counts_and_source_shares(dataset_20k: GeneratedDataset) -> None:
    assert abs(dataset_20k.n_records - 20_000) <= 1_000
    shares = {n: c / dataset_20k.n_records for n, c in dataset_20k.counts.items()}
    expected = {
        "crm_contacts": 0.30,
        "shop_customers": 0.30,
        "app_users": 0.25,
        "newsletter_subscribers": 0.15,
    }
    for name, share in expected.items():
        assert abs(shares[name] - share) < 0.03, name
    assert 20_000 / 1.8 < dataset_20k.n_people < 20_000 / 1.4


def test_primary_keys_unique_and_formatted(dataset_20k: GeneratedDataset) -> None:
    tables = _read(dataset_20k)
    for name, table in tables.items():
        key = table.column(0)
        assert key.null_count == 0, name
        assert pc.count_distinct(key).as_py() == table.num_rows, name
    crm_ids = tables["crm_contacts"].column("contact_id")
    assert pc.all(pc.match_substring_regex(crm_ids, r"^C\d{8,}$")).as_py()
    user_ids = tables["app_users"].column("user_id")
    assert pc.all(pc.match_substring_regex(user_ids, r"^u_[0-9a-f]{10}$")).as_py()
    updated = tables["crm_contacts"].column("Updated")
    assert pc.all(pc.match_substring_regex(updated, r"^\d{2}/\d{2}/20\d{2} \d{2}:\d{2}$")).as_py()
    subscribed = tables["newsletter_subscribers"].column("subscribed_on")
    assert pc.all(pc.match_substring_regex(subscribed, r"^20\d{2}-\d{2}-\d{2}$")).as_py()
    tiers = set(pc.unique(tables["shop_customers"].column("loyalty_tier")).to_pylist())
    assert tiers == {"bronze", "silver", "gold"}


def test_truth_covers_every_record_exactly_once(dataset_20k: GeneratedDataset) -> None:
    tables = _read(dataset_20k)
    truth = pq.read_table(dataset_20k.truth_path)
    assert truth.num_rows == dataset_20k.n_records
    assert truth.column("person_id").null_count == 0
    pairs = set(_person_of(dataset_20k))
    assert len(pairs) == truth.num_rows
    expected = {
        (name, str(key)) for name, table in tables.items() for key in table.column(0).to_pylist()
    }
    assert pairs == expected
    people = pc.count_distinct(truth.column("person_id")).as_py()
    assert people == dataset_20k.n_people


def test_app_links_to_shop_customers_of_the_same_person(dataset_20k: GeneratedDataset) -> None:
    tables = _read(dataset_20k)
    person = _person_of(dataset_20k)
    app = tables["app_users"].to_pylist()
    linked = [r for r in app if r["shop_customer_id"] is not None]
    assert 0.05 < len(linked) / len(app) < 0.6
    for r in linked:
        shop_key = ("shop_customers", str(r["shop_customer_id"]))
        assert person[("app_users", r["user_id"])] == person[shop_key]
    names_missing = sum(r["first_name"] is None for r in app) / len(app)
    assert 0.3 < names_missing < 0.6


def test_noise_is_present(dataset_20k: GeneratedDataset) -> None:
    tables = _read(dataset_20k)
    emails = pa.chunked_array(
        [tables[n].column(c).combine_chunks() for n, c in EMAIL_COLUMNS.items()]
    ).drop_null()
    assert pc.sum(pc.match_substring_regex(emails, "[A-Z]")).as_py() > 20
    assert pc.sum(pc.match_substring(emails, "+")).as_py() > 20
    assert pc.sum(pc.match_substring_regex(emails, r"^\s|\s$")).as_py() > 5
    counts = pc.value_counts(emails)
    top = max(counts.to_pylist(), key=lambda r: r["counts"])
    assert top["counts"] >= 10
    junk = {r["values"] for r in counts.to_pylist() if r["counts"] >= 10}
    assert junk & {"test@test.com", "noemail@example.com", "n/a", "none@none.com"}

    phones = pa.chunked_array(
        [tables[n].column(c).combine_chunks() for n, c in PHONE_COLUMNS.items()]
    ).drop_null()
    phone_counts = {r["values"]: r["counts"] for r in pc.value_counts(phones).to_pylist()}
    assert max(phone_counts.get(p, 0) for p in ("0000000000", "0123456789")) >= 10
    for pattern in (r"^\+33\d{9}$", r"^0[67] \d\d", r"^0[67]\.\d\d", r"^0033", r"\(0\)", r"^\+44"):
        assert pc.sum(pc.match_substring_regex(phones, pattern)).as_py() > 0, pattern

    crm = tables["crm_contacts"]
    assert crm.column("AltEmail").null_count > 0.8 * crm.num_rows
    assert crm.column("AltEmail").null_count < crm.num_rows
    first_names = set(crm.column("First").drop_null().to_pylist())
    assert first_names & {"Bill", "Bob", "Mike", "Tom", "Jim", "Alex", "Kate", "Liz"}
    assert any(len(n) <= 2 and n[0].isupper() for n in first_names)  # initials like "J."
    accented = {"Zoé", "Hélène", "Müller", "Léa", "Chloé", "Émilie", "García", "Gómez"}
    all_names = first_names | set(crm.column("Last").drop_null().to_pylist())
    assert all_names & accented
    full_names = tables["shop_customers"].column("full_name").drop_null()
    assert pc.sum(pc.match_substring_regex(full_names, r"^[A-Z]{3,} [A-Z][a-z]")).as_py() > 0


def test_household_members_share_identifiers(dataset_20k: GeneratedDataset) -> None:
    person = _person_of(dataset_20k)
    persons_by_email: dict[str, set[int]] = {}
    for name, column in EMAIL_COLUMNS.items():
        table = pq.read_table(dataset_20k.paths[name])
        keys = table.column(0).to_pylist()
        for key, email in zip(keys, table.column(column).to_pylist(), strict=True):
            if email and "@" in email:
                address = email.strip().lower()
                persons_by_email.setdefault(address, set()).add(person[(name, str(key))])
    junk = {"test@test.com", "noemail@example.com", "none@none.com", "no@email.com", "x@x.com"}
    shared = [e for e, people in persons_by_email.items() if len(people) > 1 and e not in junk]
    assert len(shared) > 20


def test_zero_noise_gives_clean_emails(tmp_path: Path) -> None:
    zero = NoiseRates(**dict.fromkeys(NoiseRates.__dataclass_fields__, 0.0))
    ds = generate(2_000, tmp_path, noise=zero)
    crm = pq.read_table(ds.paths["crm_contacts"])
    emails = crm.column("Email")
    assert emails.null_count == 0
    assert pc.all(pc.match_substring_regex(emails, r"^[a-z0-9._\-]+@[a-z0-9.\-]+$")).as_py()
    assert crm.column("AltEmail").null_count == crm.num_rows


def test_invalid_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="n_records"):
        generate(0, tmp_path)
    with pytest.raises(ValueError, match="noise rate"):
        NoiseRates(email_case=1.5)


def test_small_run_is_fast(tmp_path: Path) -> None:
    start = time.perf_counter()
    ds = generate(2_000, tmp_path)
    assert time.perf_counter() - start < 5.0
    assert ds.n_records == 2_000
    assert all(path.exists() for path in ds.paths.values())


# Messy noise: each type alone over a noise-free base of the same seed. Messy draws come
# from their own stream, so records line up one to one with the base and every difference
# is the noise under test.
ZERO = dict.fromkeys(NoiseRates.__dataclass_fields__, 0.0)
MESSY_N = 20_000


def _messy(tmp_path: Path, **rates: float) -> dict[str, Any]:
    ds = generate(MESSY_N, tmp_path / "_".join(rates), seed=3, noise=NoiseRates(**ZERO | rates))
    truth = pq.read_table(ds.truth_path)
    tables: dict[str, Any] = {name: pq.read_table(path) for name, path in ds.paths.items()}
    for name in SOURCES:
        mine = pc.equal(truth.column("source"), name)
        tables[f"{name}.person"] = truth.filter(mine).column("person_id").to_pylist()
    return tables


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _messy(tmp_path_factory.mktemp("clean"))


def _column(tables: dict[str, Any], source: str, column: str) -> list[Any]:
    values: list[Any] = tables[source].column(column).to_pylist()
    return values


def test_messy_rates_default_to_zero_and_the_profile_is_deterministic(tmp_path: Path) -> None:
    assert NOISE_PROFILES["default"] == NoiseRates()
    messy_fields = ("name_title", "foreign_person", "married_name", "namesake")
    assert all(getattr(NoiseRates(), f) == 0.0 for f in messy_fields)
    a = generate(3_000, tmp_path / "a", seed=9, noise="messy")
    b = generate(3_000, tmp_path / "b", seed=9, noise=NOISE_PROFILES["messy"])
    for name in SOURCES:
        assert a.paths[name].read_bytes() == b.paths[name].read_bytes(), name
    assert pq.read_table(a.paths["crm_contacts"]).column_names[-1] == "Country"
    with pytest.raises(ValueError, match="unknown noise profile"):
        generate(10, tmp_path / "c", noise="tidy")


def test_titles_and_last_comma_first(tmp_path: Path, clean: dict[str, Any]) -> None:
    messy = _messy(tmp_path, name_title=0.3, name_comma=0.3)
    base = _column(clean, "shop_customers", "full_name")
    names = _column(messy, "shop_customers", "full_name")
    titled = [n.split(" ", 1)[1] for n in names if n.split(" ", 1)[0] in TITLES]
    assert abs(len(titled) / len(names) - 0.3) < 0.03
    untitled = [n.split(" ", 1)[1] if n.split(" ", 1)[0] in TITLES else n for n in names]
    commas = [(n, b) for n, b in zip(untitled, base, strict=True) if ", " in n]
    assert abs(len(commas) / len(names) - 0.3) < 0.03
    for name, before in commas:  # same person: "Last First" turned round, maybe in capitals
        surname, first = name.split(", ")
        assert f"{first} {surname}".casefold() == before.casefold()


def test_foreign_people_country_field_and_national_numbers(
    tmp_path: Path, clean: dict[str, Any]
) -> None:
    messy = _messy(tmp_path, foreign_person=0.3, country_field=0.8, foreign_national_format=1.0)
    countries = _column(messy, "crm_contacts", "Country")
    assert abs(countries.count(None) / len(countries) - 0.2) < 0.02
    filled = [c for c in countries if c is not None]
    # 12% of people are foreign already; 30% of the French others move abroad
    assert abs(sum(c != "FR" for c in filled) / len(filled) - (0.12 + 0.88 * 0.3)) < 0.03
    assert {"ES", "BE", "IT", "CH", "GB", "US", "DE"} <= set(filled)
    per_person: dict[int, set[str]] = {}
    for person, country in zip(messy["crm_contacts.person"], countries, strict=True):
        if country is not None:
            per_person.setdefault(person, set()).add(country)
    assert all(len(c) == 1 for c in per_person.values())  # a person has one country
    phones = _column(messy, "crm_contacts", "Phone")
    foreign = [p for p, c in zip(phones, countries, strict=True) if c not in (None, "FR")]
    assert not any(p.startswith(("+", "00")) for p in foreign)  # all national layouts
    spanish = [p for p, c in zip(phones, countries, strict=True) if c == "ES"]
    assert all(p.replace(" ", "").replace(".", "").replace("-", "")[0] == "6" for p in spanish)
    assert _column(messy, "crm_contacts", "Email") == _column(clean, "crm_contacts", "Email")


def test_married_names_keep_first_name_and_email(tmp_path: Path, clean: dict[str, Any]) -> None:
    messy = _messy(tmp_path, married_name=0.5)
    rows: dict[int, list[tuple[str, str, str]]] = {}
    for source, first, last in (
        ("crm_contacts", "First", "Last"),
        ("app_users", "first_name", "last_name"),
    ):
        email = "Email" if source == "crm_contacts" else "email"
        values = zip(
            messy[f"{source}.person"],
            _column(messy, source, first),
            _column(messy, source, last),
            _column(messy, source, email),
            strict=True,
        )
        for person, *record in values:
            rows.setdefault(person, []).append(tuple(record))
    several = {p: r for p, r in rows.items() if len(r) > 1}
    changed = [r for r in several.values() if len({last for _, last, _ in r}) == 2]
    assert len(changed) / len(several) > 0.1
    assert all(len({last for _, last, _ in r}) <= 2 for r in several.values())
    for records in changed:  # same first name and email under both last names
        assert len({first for first, _, _ in records}) == 1
        assert len({email for _, _, email in records}) == 1
    base_last = _column(clean, "crm_contacts", "Last")
    messy_last = _column(messy, "crm_contacts", "Last")
    share = sum(a != b for a, b in zip(base_last, messy_last, strict=True)) / len(base_last)
    # half the people marry at a uniform date: about a quarter of records carry a new name
    assert 0.12 < share < 0.3


def test_compound_last_names_and_their_variants(tmp_path: Path, clean: dict[str, Any]) -> None:
    messy = _messy(tmp_path, compound_last_name=0.4, compound_variant=0.5)
    base_last = _column(clean, "crm_contacts", "Last")
    last = _column(messy, "crm_contacts", "Last")
    changed = sum(a != b for a, b in zip(base_last, last, strict=True)) / len(last)
    # 40% of people; their records differ from the plain name unless written as its first
    # part (double and hyphenated names, a third of the variants): 0.4 * (1 - 0.5*0.55/3)
    assert abs(changed - 0.383) < 0.03
    assert any(n.startswith("van der ") for n in last)
    assert any(n.startswith("De La ") for n in last)
    assert any("-" in n and n not in base_last for n in last)
    forms: dict[int, set[str]] = {}
    for person, name in zip(messy["crm_contacts.person"], last, strict=True):
        forms.setdefault(person, set()).add(name)
    assert max(len(f) for f in forms.values()) <= 4  # the canonical form and three others


def test_extended_nicknames(tmp_path: Path, clean: dict[str, Any]) -> None:
    pairs = sum(len(v) for v in EXTENDED_NICKNAMES.values())
    assert pairs >= 300
    assert set(EXTENDED_NICKNAMES) <= set(FIRST_NAMES)
    assert all(name not in nicks for name, nicks in EXTENDED_NICKNAMES.items())
    messy = _messy(tmp_path, nickname_extended=0.5)
    base = _column(clean, "crm_contacts", "First")
    first = _column(messy, "crm_contacts", "First")
    eligible = [(b, f) for b, f in zip(base, first, strict=True) if b in EXTENDED_NICKNAMES]
    replaced = [(b, f) for b, f in eligible if b != f]
    assert abs(len(replaced) / len(eligible) - 0.5) < 0.04
    assert all(f in EXTENDED_NICKNAMES[b] for b, f in replaced)
    assert all(b == f for b, f in zip(base, first, strict=True) if b not in EXTENDED_NICKNAMES)


def test_dense_namesakes(tmp_path: Path, clean: dict[str, Any]) -> None:
    def people_by_key(tables: dict[str, Any]) -> dict[tuple[str, str, str], set[int]]:
        columns = [_column(tables, "crm_contacts", c) for c in ("First", "Last", "Zip")]
        keys = zip(*columns, strict=True)
        groups: dict[tuple[str, str, str], set[int]] = {}
        for person, key in zip(tables["crm_contacts.person"], keys, strict=True):
            groups.setdefault(key, set()).add(person)
        return groups

    def shared(groups: dict[tuple[str, str, str], set[int]]) -> float:
        people = set().union(*groups.values())
        return sum(len(p) for p in groups.values() if len(p) > 1) / len(people)

    messy = people_by_key(_messy(tmp_path, namesake=0.2))
    # a fifth of the people join groups; those seen in the CRM with a namesake also seen there
    assert shared(messy) - shared(people_by_key(clean)) > 0.08
    assert max(len(p) for p in messy.values()) >= 8  # dense: many people, one name, one zip
