"""Stage 2 — standardize: clean each distinct raw value once, then build the lookup table.

Cleaning is SQL over the *distinct* (identifier, raw value) pairs; what SQL cannot do well
(Unicode NFKC of non-ASCII text, phone parsing with the phonenumbers library) runs as a
vectorized UDF over distinct values only. The result, joined back to the records, is the
long `lookup` table: one row per (record, identifier, value) with raw and clean value and
the blocked flag.
"""

from __future__ import annotations

from sqlglot import exp

from idspine.config.load import Config, Identifier, Source
from idspine.plan import Step
from idspine.sql.build import ident, lit, parse_value_expression, sql
from idspine.sql.dialect import strip_accents
from idspine.sql.names import TITLES
from idspine.stages.phones import plan_phone_parsing

# Tables later stages read (the pipeline keeps these and releases the stage's others).
PROVIDES = ("lookup", "usable_values")

COMMON_PLACEHOLDERS = (
    "null",
    "none",
    "nil",
    "nan",
    "n/a",
    "na",
    "n.a.",
    "unknown",
    "undefined",
    "test",
    "tbd",
    "-",
    "--",
    "?",
    ".",
    "0",
    "x",
    "xx",
    "xxx",
    "empty",
    "blank",
    "not available",
)
COMMON_PATTERNS = (r"^0+$",)  # "0000000000" and its shorter and longer kin
EMAIL_PLACEHOLDERS = (
    "test@test.com",
    "test@example.com",
    "example@example.com",
    "email@email.com",
    "noemail@noemail.com",
    "none@none.com",
    "no@email.com",
    "null@null.com",
    "a@a.com",
    "na@na.com",
    "unknown@unknown.com",
    "abc@abc.com",
    "xxx@xxx.com",
    "noemail@example.com",
)
EMAIL_PATTERNS = (
    r"^(no-?reply|do-?not-?reply|no-?email|no-?mail|none|null|unknown|test)@",
    r"@(example|test|invalid)\.(com|org|net)$",
)
PHONE_PATTERNS = (r"^\+\d{1,3}0{6,}$", r"123456789$")
# A name value that starts with honorifics loses them ("mme marie" -> "marie"); the list
# is shared with the full-name parser.
TITLE_PATTERN = "(?i)^(?:(?:" + "|".join(TITLES) + ") )+"


def base_clean(value: exp.Expr, case_sensitive: bool) -> exp.Expr:
    """NFKC without control and format characters, trim, collapse whitespace, case-fold.

    Only values holding something other than printable ASCII and whitespace pay for the UDF
    (`udfs.nfkc`): non-ASCII text, NUL and other controls, zero-width characters.
    """
    normalized = sql(
        "CASE WHEN regexp_matches($v, '[^\\x09-\\x0D\\x20-\\x7E]') THEN idspine_nfkc($v) "
        "ELSE $v END",
        v=value,
    )
    collapsed = sql("trim(regexp_replace($v, '\\s+', ' ', 'g'))", v=normalized)
    return collapsed if case_sensitive else sql("lower($v)", v=collapsed)


def _email(identifier: Identifier, cleaned: exp.Expr) -> exp.Expr:
    local = sql("split_part($v, '@', 1)", v=cleaned)
    domain = sql("split_part($v, '@', 2)", v=cleaned)
    if identifier.strip_plus_tag:
        local = sql("regexp_replace($v, '\\+.*$', '')", v=local)
    if identifier.gmail_dots:
        local = sql(
            "CASE WHEN $d IN ('gmail.com', 'googlemail.com') THEN replace($v, '.', '') ELSE $v END",
            d=domain,
            v=local,
        )
    return sql(
        "CASE WHEN regexp_full_match($v, '[^@\\s]+@[^@\\s]+\\.[^@\\s]+') AND $local <> '' "
        "THEN $local || '@' || $domain END",
        v=cleaned,
        local=local,
        domain=domain,
    )


def _name(engine: str, cleaned: exp.Expr) -> exp.Expr:
    without_accents = strip_accents(engine, cleaned)
    # Letters of every script (and either case) stay: only punctuation and symbols go.
    no_punctuation = sql("regexp_replace($v, '[^\\p{L}\\p{N} ]', '', 'g')", v=without_accents)
    collapsed = sql("trim(regexp_replace($v, '\\s+', ' ', 'g'))", v=no_punctuation)
    # Trimmed and collapsed, a title followed by a space is always followed by a name.
    return sql("regexp_replace($v, $titles, '')", v=collapsed, titles=lit(TITLE_PATTERN))


def clean_value(identifier: Identifier, raw: exp.Expr, engine: str) -> exp.Expr:
    """The SQL that turns one raw value into its standardized form (NULL = absent).

    Phones are not cleaned here: they go through `plan_phone_parsing`.
    """
    return finish_value(identifier, base_clean(raw, identifier.case_sensitive), engine)


def finish_value(identifier: Identifier, cleaned: exp.Expr, engine: str) -> exp.Expr:
    """The standardized form from the base-cleaned value (see `base_clean`)."""
    if identifier.type == "email":
        value = _email(identifier, cleaned)
    elif identifier.type == "name":
        value = _name(engine, cleaned)
    elif identifier.type == "id" and identifier.only_numeric:
        value = sql("regexp_replace($v, '[^0-9]', '', 'g')", v=cleaned)
    elif identifier.type == "custom":
        custom = parse_value_expression(identifier.expression or "value", {"value"})
        value = custom.transform(
            lambda node: cleaned.copy() if isinstance(node, exp.Column) else node
        )
    else:
        value = cleaned
    return sql("nullif($v, '')", v=value)


def block_condition(identifier: Identifier, cleaned: exp.Expr, value: exp.Expr) -> exp.Expr:
    """Whether a value is on the identifier's block list (built-in and configured).

    Both the base-cleaned form and the standardized value are tested, against the listed
    values and the patterns: a placeholder the type's cleaning refuses (`n/a` as a phone)
    has only its cleaned form to be recognized by.
    """
    listed = [v.strip().lower() for v in identifier.block]
    patterns = list(identifier.block_patterns)
    if identifier.default_block_list:
        listed += COMMON_PLACEHOLDERS
        patterns += COMMON_PATTERNS
        if identifier.type == "email":
            listed += EMAIL_PLACEHOLDERS
            patterns += EMAIL_PATTERNS
        if identifier.type == "phone":
            patterns += PHONE_PATTERNS
    conditions: list[exp.Expr] = []
    if listed:
        literals = [lit(v) for v in sorted(set(listed))]
        folded_cleaned, folded_value = cleaned.copy(), value.copy()
        if identifier.case_sensitive:
            # The list is lower-case; a case-sensitive value is compared case-folded to it.
            folded_cleaned = sql("lower($v)", v=folded_cleaned)
            folded_value = sql("lower($v)", v=folded_value)
        conditions.append(exp.In(this=folded_cleaned, expressions=literals))
        conditions.append(exp.In(this=folded_value, expressions=[x.copy() for x in literals]))
    conditions += [
        sql("regexp_matches($v, $p)", v=form.copy(), p=lit(p))
        for p in patterns
        for form in (cleaned, value)
    ]
    if not conditions:
        return exp.false()
    return sql("coalesce($c, false)", c=exp.or_(*conditions))


def standardize_query(identifier: Identifier, source: exp.Expr, engine: str) -> exp.Select:
    """One identifier's distinct raw values from `source` (columns `identifier`, `raw_value`,
    and for phones, parsed beforehand, `region`, `value` and `read_region`) to `value`,
    `is_blocked` and `is_empty`.

    Blocking is judged on the base-cleaned and the standardized value before absence is
    decided, so a placeholder that also fails the syntax check (`unknown` as an email) is
    blocked, not invalid. `value` is NULL whenever the value is absent: empty after cleaning,
    blocked, or refused by the type's cleaning (invalid).
    """
    value: exp.Expr = (
        ident("value")
        if identifier.type == "phone"
        else finish_value(identifier, ident("cleaned"), engine)
    )
    # Each layer is a column of the layer below, so the engine computes the base cleaning,
    # the value and the block test once per row instead of once per mention above it.
    cleaned = (
        exp.select(
            "*",
            exp.alias_(base_clean(ident("raw_value"), identifier.case_sensitive), "cleaned"),
        )
        .from_(source)
        .where(sql("identifier = $name", name=lit(identifier.name)))
    )
    # Phones carry the region each number was read in; other values have none.
    regions: list[exp.Expr] = (
        [ident("region"), ident("read_region")]
        if identifier.type == "phone"
        else [exp.alias_(exp.cast(exp.null(), "varchar"), c) for c in ("region", "read_region")]
    )
    valued = exp.select(
        "identifier", "raw_value", *regions, "cleaned", exp.alias_(value, "value")
    ).from_(cleaned.subquery("c"))
    empty = sql("coalesce(cleaned, '') = ''")
    flagged = exp.select(
        "identifier",
        "raw_value",
        "region",
        "read_region",
        "value",
        exp.alias_(empty, "is_empty"),
        exp.alias_(
            sql(
                "NOT $empty AND $blocked",
                empty=empty.copy(),
                blocked=block_condition(identifier, ident("cleaned"), ident("value")),
            ),
            "is_blocked",
        ),
    ).from_(valued.subquery("v"))
    return exp.select(
        "identifier",
        "raw_value",
        "region",
        "read_region",
        exp.alias_(sql("CASE WHEN is_blocked THEN NULL ELSE value END"), "value"),
        "is_blocked",
        "is_empty",
    ).from_(flagged.subquery("f"))


def plan_standardize(config: Config, engine: str) -> list[Step]:
    """Steps from `lookup_raw` to `lookup` (and `usable_values`, what matching uses)."""
    steps = [Step("distinct_raw", sql("SELECT DISTINCT identifier, raw_value FROM lookup_raw"))]
    parts: list[exp.Expr] = []
    for identifier in config.identifiers:
        if identifier.type == "phone":
            steps += plan_phone_parsing(identifier)
            source = exp.to_table(f"phone_{identifier.name}", quoted=True)
        else:
            source = exp.to_table("distinct_raw")
        parts.append(standardize_query(identifier, source, engine))
    steps.append(
        Step("standardized", exp.union(*parts, distinct=False) if len(parts) > 1 else parts[0])
    )
    steps.append(
        Step(
            "lookup",
            sql(
                # is_empty is internal (metrics tell empty from invalid values by it); the
                # published identity_lookup leaves it out.
                # `origin`: the full name a parsed part was read from (see read.py);
                # `region`: the region a phone number was read in.
                "SELECT r.record_id, r.source, r.record_key, r.identifier, r.raw_value, "
                "r.origin, s.value, s.is_blocked, s.is_empty, s.read_region AS region "
                "FROM lookup_raw AS r JOIN standardized AS s "
                "ON r.identifier = s.identifier AND r.raw_value = s.raw_value "
                "AND coalesce(r.region, '') = coalesce(s.region, '')"
            ),
        )
    )
    steps.append(Step("usable_values", _usable_values(config)))
    return steps


def _usable_values(config: Config) -> exp.Expr:
    """Distinct (record, identifier, value) that matching may use.

    Only an identifier mapped from several columns of a source (or mapped and also parsed
    from its full name) can give one record the same value twice, so only those rows pay
    for the DISTINCT.
    """
    usable = (
        "SELECT record_id, identifier, value FROM lookup WHERE value IS NOT NULL AND NOT is_blocked"
    )
    multiple = [
        sql("source = $s AND identifier = $i", s=lit(source.name), i=lit(identifier))
        for source in config.sources
        for identifier, columns in source.mappings
        if len(columns) > 1 or identifier in _parsed_into(source)
    ]
    if not multiple:
        return sql(usable)
    several = exp.or_(*multiple)
    return exp.union(
        sql(usable + " AND NOT ($several)", several=several),
        sql(
            usable.replace("SELECT", "SELECT DISTINCT", 1) + " AND ($several)",
            several=several.copy(),
        ),
        distinct=False,
    )


def _parsed_into(source: Source) -> set[str | None]:
    full_name = source.full_name
    return {full_name.first, full_name.last} if full_name else set()
