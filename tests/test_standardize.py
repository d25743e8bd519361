"""Standardization tables (spec §3): raw value -> standardized value, run as real SQL on DuckDB.

Each table row is `(raw, expected)`; `ABSENT` means the value must not be usable (NULL after
cleaning). Block lists are checked separately: a blocked value is absent too, and flagged, so
that blocked and invalid values are told apart. Phones and nicknames are planned as separate
steps, so they run through a real pipeline and are read back from `identity_lookup`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlglot import exp

import idspine
from idspine.config.load import Identifier
from idspine.engines.duckdb_engine import DuckDBEngine
from idspine.sql.build import values_table
from idspine.stages import standardize

ABSENT = None


def fullwidth(text: str) -> str:
    """The full-width form of ASCII text (U+FF01..U+FF5E), which NFKC folds back."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def make_identifier(**options: Any) -> Identifier:
    """An identifier named `x` resolved by the real config loader (defaults filled)."""
    config = idspine.load_config(
        {
            "identifiers": {"x": {"type": "text", **options}},
            "sources": {
                "s": {"path": "s.csv", "primary_key": "id", "order_by": "u", "map": {"x": "c"}}
            },
            "rules": [{"name": "r", "match": {"x": "exact"}}],
        },
        Path("/nonexistent"),
    )
    return config.identifier("x")


# (options key, raw) -> (standardized form before blocking, value, is_blocked)
Standardized = dict[tuple[str, str], tuple[Any, Any, bool]]

# Every (options, raw) pair the tables below use, so each option set is one query.
REGISTERED: dict[str, set[str]] = {}


def options_key(options: dict[str, Any]) -> str:
    return json.dumps(options, sort_keys=True, ensure_ascii=False)


def cases(options: dict[str, Any], table: list[tuple[str, Any]]) -> list[Any]:
    REGISTERED.setdefault(options_key(options), set()).update(raw for raw, _ in table)
    return [
        pytest.param(options, raw, expected, id=f"{options}-{raw!r}") for raw, expected in table
    ]


def standardize_all(
    engine: DuckDBEngine, identifier: Identifier, raws: list[str]
) -> dict[str, tuple[Any, Any, bool]]:
    """raw -> (standardized form, value, is_blocked), by the SQL the pipeline runs.

    The form is what the type's cleaning makes of the raw value, blocked or not: the cleaning
    tables check it, so that they need not avoid placeholder domains such as example.com.
    """
    source = values_table(
        ["identifier", "raw_value"], [(identifier.name, raw) for raw in raws], "t"
    )
    outcome = standardize.standardize_query(identifier, source, "duckdb").subquery("q")
    form = standardize.clean_value(identifier, exp.column("raw_value", "q"), "duckdb")
    query = exp.select("q.raw_value", "q.value", "q.is_blocked", exp.alias_(form, "form")).from_(
        outcome
    )
    rows = engine.fetch_arrow(query).to_pylist()
    assert len(rows) == len(raws)
    return {row["raw_value"]: (row["form"], row["value"], row["is_blocked"]) for row in rows}


@pytest.fixture(scope="module")
def standardized() -> Iterator[Standardized]:
    """Every registered case, one query per option set."""
    engine = DuckDBEngine(":memory:")
    results: Standardized = {}
    try:
        for key, raws in REGISTERED.items():
            identifier = make_identifier(**json.loads(key))
            for raw, outcome in standardize_all(engine, identifier, sorted(raws)).items():
                results[(key, raw)] = outcome
        yield results
    finally:
        engine.close()


def standardize_one(
    standardized: Standardized, options: dict[str, Any], raw: str
) -> tuple[Any, bool]:
    """(value, is_blocked): the value is None when absent (blocked, invalid or empty)."""
    _, value, blocked = standardized[(options_key(options), raw)]
    return value, blocked


def standardized_form(standardized: Standardized, options: dict[str, Any], raw: str) -> Any:
    return standardized[(options_key(options), raw)][0]


# --- the base cleaning every type gets (text = base cleaning only) ------------------------

BASE_TABLE = [
    ("abc", "abc"),
    ("ABC", "abc"),
    # NFKC: full-width letters, ligatures, compatibility spaces
    (fullwidth("ABC"), "abc"),
    ("ﬁne", "fine"),
    ("ﬂoor", "floor"),
    ("①", "1"),
    ("a\u00a0b", "a b"),
    ("a\u3000b", "a b"),
    # whitespace: leading, trailing, inner tabs and runs of spaces, newlines
    ("  padded  ", "padded"),
    ("\tleading tab", "leading tab"),
    ("trailing tab\t", "trailing tab"),
    ("inner\ttab", "inner tab"),
    ("runs   of    spaces", "runs of spaces"),
    ("line\nbreak", "line break"),
    (" \t mixed \t\t white \n ", "mixed white"),
    # invisible characters go: zero-width space, non-joiner, joiner, BOM, soft hyphen,
    # bidi mark, NUL and other controls (a control that is whitespace becomes a space)
    ("an\u200bna", "anna"),
    ("an\u200cna", "anna"),
    ("an\u200dna", "anna"),
    ("\ufeffanna", "anna"),
    ("an\u00adna", "anna"),
    ("anna\u200e", "anna"),
    ("an\x00na", "anna"),
    ("an\x01na\x7f", "anna"),
    ("an\x1bna", "anna"),
    ("an\x85na", "an na"),
    ("\u200b", ABSENT),
    ("\x00", ABSENT),
    # text keeps accents and punctuation: only the base cleaning applies
    ("Zoé", "zoé"),
    ("Hélène", "hélène"),
    ("Müller", "müller"),
    ("Hello,  World!", "hello, world!"),
    # empty after cleaning -> absent
    ("", ABSENT),
    ("   ", ABSENT),
    ("\t\n", ABSENT),
]

CASE_SENSITIVE_TABLE = [
    ("AbC", "AbC"),
    (fullwidth("ABC"), "ABC"),
    ("  Mixed\tCase  ", "Mixed Case"),
    ("Zoé", "Zoé"),
]


@pytest.mark.parametrize(
    ("options", "raw", "expected"),
    [
        *cases({"type": "text"}, BASE_TABLE),
        *cases({"type": "id"}, BASE_TABLE),
        *cases({"type": "text", "case_sensitive": True}, CASE_SENSITIVE_TABLE),
        *cases({"type": "id", "case_sensitive": True}, CASE_SENSITIVE_TABLE),
    ],
)
def test_base_cleaning(
    standardized: Standardized, options: dict[str, Any], raw: str, expected: str | None
) -> None:
    assert standardized_form(standardized, options, raw) == expected


# --- email -----------------------------------------------------------------------------------

EMAIL_PLAIN = [
    ("John.Doe@Example.COM", "john.doe@example.com"),
    ("an\u200bna@gmail.com", "anna@gmail.com"),
    ("\ufeffanna@gmail.com\x00", "anna@gmail.com"),
    ("  jdoe@example.com\t", "jdoe@example.com"),
    (fullwidth("john@example.com"), "john@example.com"),
    ("zoé@exemple.fr", "zoé@exemple.fr"),
    ("j+news@example.com", "j+news@example.com"),
    ("j.o.e@gmail.com", "j.o.e@gmail.com"),
    ("a@b.co", "a@b.co"),
    # invalid syntax -> absent
    ("john.doe", ABSENT),
    ("john.doe.example.com", ABSENT),
    ("a@b@example.com", ABSENT),
    ("john doe@example.com", ABSENT),
    ("john@exam ple.com", ABSENT),
    ("john @example.com", ABSENT),
    ("john@example", ABSENT),
    ("john@localhost", ABSENT),
    ("@example.com", ABSENT),
    ("john@", ABSENT),
    ("john@.com", ABSENT),
    ("john@example.", ABSENT),
    ("@", ABSENT),
    ("", ABSENT),
    ("   ", ABSENT),
]

EMAIL_PLUS_TAG = [
    ("j+news@example.com", "j@example.com"),
    ("J+News@Example.com", "j@example.com"),
    ("j+a+b@example.com", "j@example.com"),
    ("j@example.com", "j@example.com"),
    ("j.o+x@gmail.com", "j.o@gmail.com"),
    # only a tag: nothing is left of the local part
    ("+news@example.com", ABSENT),
]

EMAIL_GMAIL_DOTS = [
    ("j.o.e@gmail.com", "joe@gmail.com"),
    ("J.O.E@GMAIL.COM", "joe@gmail.com"),
    ("j.o.e@googlemail.com", "joe@googlemail.com"),
    ("j.o.e+x@gmail.com", "joe+x@gmail.com"),
    # other domains keep their dots
    ("j.o.e@yahoo.com", "j.o.e@yahoo.com"),
    ("j.o.e@gmail.co.uk", "j.o.e@gmail.co.uk"),
    ("j.o.e@notgmail.com", "j.o.e@notgmail.com"),
    ("j.o.e@mail.gmail.com", "j.o.e@mail.gmail.com"),
]

EMAIL_BOTH = [
    ("J.Doe+news@GMail.com", "jdoe@gmail.com"),
    ("J.Doe+news@googlemail.com", "jdoe@googlemail.com"),
    ("J.Doe+news@outlook.com", "j.doe@outlook.com"),
]


@pytest.mark.parametrize(
    ("options", "raw", "expected"),
    [
        *cases({"type": "email"}, EMAIL_PLAIN),
        *cases({"type": "email", "strip_plus_tag": True}, EMAIL_PLUS_TAG),
        *cases({"type": "email", "gmail_dots": True}, EMAIL_GMAIL_DOTS),
        *cases({"type": "email", "strip_plus_tag": True, "gmail_dots": True}, EMAIL_BOTH),
    ],
)
def test_email(
    standardized: Standardized, options: dict[str, Any], raw: str, expected: str | None
) -> None:
    assert standardized_form(standardized, options, raw) == expected


# --- name ------------------------------------------------------------------------------------

NAME_TABLE = [
    ("Zoé", "zoe"),
    ("Zoe\u0301", "zoe"),  # decomposed accent
    ("Hélène", "helene"),
    ("Müller", "muller"),
    ("François", "francois"),
    ("José-María", "josemaria"),
    ("O'Brien", "obrien"),
    ("d'Artagnan", "dartagnan"),
    ("Dr. J.", "j"),
    ("Jean - Pierre", "jean pierre"),
    ("  MARIE \t claire ", "marie claire"),
    (fullwidth("ABC"), "abc"),
    ("ﬁona", "fiona"),
    ("Smith3", "smith3"),
    # letters of other scripts are letters, not punctuation
    ("Ольга", "ольга"),
    ("Łukasz", "łukasz"),
    ("Straße", "straße"),
    ("李小龍", "李小龍"),
    # nothing but punctuation -> absent
    ("...", ABSENT),
    ("- / -", ABSENT),
    ("", ABSENT),
]

# Honorifics at the start of a name value go (names.TITLES); alone, or later, they stay.
TITLE_TABLE = [
    ("Mr John", "john"),
    ("Mrs. Smith", "smith"),
    ("Ms Smith", "smith"),
    ("Dr. Dr. Müller", "muller"),
    ("M. Dupont", "dupont"),
    ("Mme Marie-Claire", "marieclaire"),
    ("MLLE Sophie", "sophie"),
    ("Herr Schmidt", "schmidt"),
    ("Frau Anna Schmidt", "anna schmidt"),
    ("Sr. García", "garcia"),
    ("Sra Pérez", "perez"),
    ("Srta. Ruiz", "ruiz"),
    ("Señora Ruiz", "ruiz"),
    ("Monsieur Jean", "jean"),
    ("Prof Dr Weber", "weber"),
    ("Mr", "mr"),  # nothing follows: a value, not a title
    ("Dr.", "dr"),
    ("M", "m"),  # an initial
    ("Don", "don"),  # a first name, not the Spanish honorific (not listed)
    ("Jean Dr", "jean dr"),  # not at the start
    ("Mrsmith", "mrsmith"),  # a title is a whole word
    ("Mario Mr", "mario mr"),
]

NAME_CASE_SENSITIVE_TABLE = [
    ("Zoé", "Zoe"),
    ("MR Smith", "Smith"),
    ("Herr Schmidt", "Schmidt"),
    ("O'Brien", "OBrien"),
    ("McDonald", "McDonald"),
]


@pytest.mark.parametrize(
    ("options", "raw", "expected"),
    [
        *cases({"type": "name"}, NAME_TABLE),
        *cases({"type": "name"}, TITLE_TABLE),
        *cases({"type": "name", "case_sensitive": True}, NAME_CASE_SENSITIVE_TABLE),
    ],
)
def test_name(
    standardized: Standardized, options: dict[str, Any], raw: str, expected: str | None
) -> None:
    assert standardized_form(standardized, options, raw) == expected


# --- id, custom ------------------------------------------------------------------------------

ID_NUMERIC_TABLE = [
    ("AB-123 45", "12345"),
    ("  007 ", "007"),
    (fullwidth("123"), "123"),
    ("n°42", "42"),
    ("abc", ABSENT),
    ("-", ABSENT),
]

ID_TABLE = [
    ("AB-123 45", "ab-123 45"),
    ("CUST_0042", "cust_0042"),
]

CUSTOM_PREFIX = {"type": "custom", "expression": "left(value, 3)"}
CUSTOM_DIGITS = {"type": "custom", "expression": "regexp_replace(value, '[^0-9]', '', 'g')"}
CUSTOM_DOMAIN = {"type": "custom", "expression": "split_part(value, '@', 2)"}


@pytest.mark.parametrize(
    ("options", "raw", "expected"),
    [
        *cases({"type": "id", "only_numeric": True}, ID_NUMERIC_TABLE),
        *cases({"type": "id"}, ID_TABLE),
        # a custom expression sees the base-cleaned value (NFKC, trimmed, lower-case)
        *cases(
            CUSTOM_PREFIX, [("ABCDEF", "abc"), (f"  {fullwidth('ABCD')} ", "abc"), ("ab", "ab")]
        ),
        *cases(CUSTOM_DIGITS, [("75 011 Paris", "75011"), ("Paris", ABSENT)]),
        *cases(CUSTOM_DOMAIN, [("Jo@Example.COM", "example.com"), ("no-at-sign", ABSENT)]),
    ],
)
def test_id_and_custom(
    standardized: Standardized, options: dict[str, Any], raw: str, expected: str | None
) -> None:
    assert standardized_form(standardized, options, raw) == expected


# --- block lists -----------------------------------------------------------------------------

BUILT_IN_TEXT = [
    ("null", True),
    ("NULL", True),
    (" None ", True),
    ("N/A", True),
    ("n/a", True),
    ("unknown", True),
    ("Unknown", True),
    ("undefined", True),
    ("-", True),
    ("0000000000", True),
    ("000", True),
    ("nullable", False),
    ("annie", False),
    ("0000000001", False),
    ("10000", False),
]

BUILT_IN_EMAIL = [
    ("test@test.com", True),
    ("TEST@TEST.COM", True),
    ("noreply@x.com", True),
    ("no-reply@shop.fr", True),
    ("donotreply@shop.fr", True),
    ("someone@example.com", True),
    ("real.person@shop.fr", False),
    ("testing@shop.fr", False),
    ("reply@shop.fr", False),
]

BUILT_IN_NAME = [
    ("Unknown", True),
    ("N/A", True),
    ("Test", True),
    ("Testa", False),
]

USER_BLOCK = {"type": "id", "block": ["ACME-000", " Placeholder "]}
USER_PATTERNS = {"type": "id", "block_patterns": ["^tmp-", "x{3}"]}
NO_DEFAULTS = {"type": "text", "default_block_list": False}
NO_DEFAULTS_EMAIL = {"type": "email", "default_block_list": False}
NO_DEFAULTS_USER = {"type": "text", "default_block_list": False, "block": ["nobody"]}
CASE_SENSITIVE_BLOCK = {"type": "id", "case_sensitive": True, "block": ["ABC"]}


@pytest.mark.parametrize(
    ("options", "raw", "expected"),
    [
        *cases({"type": "text"}, BUILT_IN_TEXT),
        *cases({"type": "id"}, [("null", True), ("0000000000", True), ("42", False)]),
        *cases({"type": "email"}, BUILT_IN_EMAIL),
        *cases({"type": "name"}, BUILT_IN_NAME),
        *cases(
            USER_BLOCK,
            [
                ("acme-000", True),
                ("ACME-000", True),
                ("placeholder", True),
                ("acme-001", False),
                ("null", True),
            ],
        ),
        *cases(
            USER_PATTERNS,
            [("TMP-1", True), ("tmp-", True), ("atmp-1", False), ("aXXXb", True), ("axxb", False)],
        ),
        *cases(
            NO_DEFAULTS,
            [("null", False), ("N/A", False), ("unknown", False), ("0000000000", False)],
        ),
        *cases(NO_DEFAULTS_EMAIL, [("test@test.com", False), ("noreply@x.com", False)]),
        *cases(NO_DEFAULTS_USER, [("Nobody", True), ("null", False)]),
        *cases(
            CASE_SENSITIVE_BLOCK, [("ABC", True), ("abc", True), ("NULL", True), ("ABD", False)]
        ),
    ],
)
def test_block_list(
    standardized: Standardized, options: dict[str, Any], raw: str, expected: bool
) -> None:
    value, blocked = standardize_one(standardized, options, raw)
    assert blocked is expected
    assert (value is None) is expected, "a blocked value is absent, any other here is kept"


# --- absent values: blocked, invalid or empty ------------------------------------------------

Outcome = tuple[str | None, bool]  # (value, is_blocked)
BLOCKED: Outcome = (ABSENT, True)
INVALID_OR_EMPTY: Outcome = (ABSENT, False)
GMAIL_DOTS = {"type": "email", "gmail_dots": True}
USER_PATTERN_EMAIL = {"type": "email", "block_patterns": ["^guest", "@spam\\.example$"]}


@pytest.mark.parametrize(
    ("options", "raw", "expected"),
    [
        *cases(
            {"type": "email"},
            [
                # placeholders that also fail the syntax check are blocked, not invalid
                ("unknown", BLOCKED),
                (" UNKNOWN ", BLOCKED),
                ("n/a", BLOCKED),
                ("test@test.com", BLOCKED),
                # bad syntax: invalid
                ("foo@", INVALID_OR_EMPTY),
                ("foo bar", INVALID_OR_EMPTY),
                # empty after cleaning: neither
                ("", INVALID_OR_EMPTY),
                ("  ", INVALID_OR_EMPTY),
                ("Ann@X.com", ("ann@x.com", False)),
            ],
        ),
        *cases(GMAIL_DOTS, [(" Test@Test.com ", BLOCKED), ("t.e.s.t@gmail.com", BLOCKED)]),
        *cases(
            {"type": "id"},
            [("n/a", BLOCKED), ("N/A ", BLOCKED), ("", INVALID_OR_EMPTY), ("A-1", ("a-1", False))],
        ),
        *cases(
            {"type": "id", "only_numeric": True},
            # "0-0-0" is caught on its standardized value "000", "n/a" on its cleaned form
            [
                ("n/a", BLOCKED),
                ("0-0-0", BLOCKED),
                ("abc", INVALID_OR_EMPTY),
                ("1-2", ("12", False)),
            ],
        ),
        *cases(
            USER_PATTERN_EMAIL,
            [
                ("guest", BLOCKED),  # the pattern matches the cleaned form of a non-email
                ("Guest42@shop.fr", BLOCKED),
                ("jo@SPAM.example", BLOCKED),
                ("jo@", INVALID_OR_EMPTY),
                ("jo@shop.fr", ("jo@shop.fr", False)),
            ],
        ),
    ],
)
def test_absent_values_blocked_or_not(
    standardized: Standardized, options: dict[str, Any], raw: str, expected: Outcome
) -> None:
    assert standardize_one(standardized, options, raw) == expected


# --- through the pipeline: phones and nicknames ----------------------------------------------

PHONE_TABLE = [
    ("06 12 34 56 78", "+33612345678"),
    ("0612345678", "+33612345678"),
    ("+33 6 12 34 56 78", "+33612345678"),
    ("0033612345678", "+33612345678"),
    ("0033 6 12 34 56 78", "+33612345678"),
    ("(0)6.12.34.56.78", "+33612345678"),
    ("06-12-34-56-78", "+33612345678"),
    ("+33 (0)6 12 34 56 78", "+33612345678"),
    (fullwidth("06 12 34 56 78"), "+33612345678"),
    ("01 42 68 53 00", "+33142685300"),
    ("+1 (415) 555-2671", "+14155552671"),
    ("001 415 555 2671", "+14155552671"),
    ("+44 20 7946 0958", "+442079460958"),
    ("+44 (0)20 7946 0958", "+442079460958"),
    # letters, garbage, too short, too long -> absent
    ("abc", ABSENT),
    ("call me", ABSENT),
    ("06 12 AB 56 78", ABSENT),
    ("12", ABSENT),
    ("06 12 34", ABSENT),
    ("+33 6 12 34 56 78 90 12", ABSENT),
    ("+", ABSENT),
    ("---", ABSENT),
]

PHONE_OUTCOMES: list[tuple[str, Outcome]] = [
    ("0000000000", BLOCKED),
    ("+33 0 00 00 00 00", BLOCKED),
    ("000", BLOCKED),  # too short to parse: blocked on its cleaned form, not invalid
    ("n/a", BLOCKED),
    ("Unknown", BLOCKED),
    ("12", INVALID_OR_EMPTY),
    ("", INVALID_OR_EMPTY),
    ("06 12 34 56 78", ("+33612345678", False)),
]

NAMES = ["Bob", "  BOB ", "Bób", "Bill", "Zed", "Mike", "Robert", "Élodie"]
# Nicknames never rewrite a value (they are pairs compared at matching time, see
# tests/test_name_matching.py): the lookup keeps each name as cleaned.
NICKNAME_TABLE = [
    # (identifier, raw, expected)
    ("first_plain", "Bob", "bob"),
    ("first_plain", "Bill", "bill"),
    ("first_plain", "Élodie", "elodie"),
    ("first_builtin", "Bob", "bob"),
    ("first_builtin", "  BOB ", "bob"),
    ("first_builtin", "Bób", "bob"),
    ("first_builtin", "Robert", "robert"),
    ("first_custom", "Bob", "bob"),
    ("first_custom", "Élodie", "elodie"),
]


@pytest.fixture(scope="module")
def pipeline_lookup(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Any]:
    """(identifier, raw value) -> (value, is_blocked) read from a real run's identity_lookup."""
    folder = tmp_path_factory.mktemp("standardize")
    phones = sorted({raw for raw, _ in PHONE_TABLE} | {raw for raw, _ in PHONE_OUTCOMES})
    count = max(len(phones), len(NAMES))
    pq.write_table(
        pa.table(
            {
                "id": [str(i) for i in range(count)],
                "updated": ["2024-01-01"] * count,
                "phone": pa.array(phones + [None] * (count - len(phones)), pa.string()),
                "first": pa.array(NAMES + [None] * (count - len(NAMES)), pa.string()),
            }
        ),
        folder / "people.parquet",
    )
    config = idspine.load_config(
        {
            "output": {"database": "out.duckdb"},
            "identifiers": {
                "phone": {"type": "phone", "default_region": "FR"},
                "first_plain": {"type": "name"},
                "first_builtin": {"type": "name", "nicknames": True},
                "first_custom": {
                    "type": "name",
                    "nicknames": {"Bob": "Roberto", "zed": "ZEDEKIAH", "Élodie": "L'odie"},
                },
            },
            "sources": {
                "people": {
                    "path": "people.parquet",
                    "primary_key": "id",
                    "order_by": "updated",
                    "map": {
                        "phone": "phone",
                        "first_plain": "first",
                        "first_builtin": "first",
                        "first_custom": "first",
                    },
                }
            },
            "rules": [{"name": "same_phone", "match": {"phone": "exact"}}],
        },
        folder,
    )
    with idspine.resolve(config) as result:
        rows = result.arrow("lookup").to_pylist()
    lookup: dict[tuple[str, str], Any] = {}
    for row in rows:
        key = (row["identifier"], row["raw_value"])
        assert lookup.get(key, (row["value"], row["is_blocked"])) == (
            row["value"],
            row["is_blocked"],
        ), "one raw value always standardizes the same way"
        lookup[key] = (row["value"], row["is_blocked"])
    return lookup


@pytest.mark.parametrize(("raw", "expected"), PHONE_TABLE, ids=[r for r, _ in PHONE_TABLE])
def test_phone_default_region_fr(
    pipeline_lookup: dict[tuple[str, str], Any], raw: str, expected: str | None
) -> None:
    assert pipeline_lookup[("phone", raw)][0] == expected


@pytest.mark.parametrize(("raw", "expected"), PHONE_OUTCOMES, ids=[r for r, _ in PHONE_OUTCOMES])
def test_phone_blocked_invalid_or_empty(
    pipeline_lookup: dict[tuple[str, str], Any], raw: str, expected: Outcome
) -> None:
    assert pipeline_lookup[("phone", raw)] == expected


@pytest.mark.parametrize(
    ("identifier", "raw", "expected"),
    NICKNAME_TABLE,
    ids=[f"{i}-{r!r}" for i, r, _ in NICKNAME_TABLE],
)
def test_nicknames(
    pipeline_lookup: dict[tuple[str, str], Any], identifier: str, raw: str, expected: str
) -> None:
    assert pipeline_lookup[(identifier, raw)] == (expected, False)
