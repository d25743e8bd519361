from __future__ import annotations

import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from idspine.synthetic import SOURCES, GeneratedDataset, NoiseRates, generate

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
