"""Every difference between engines' SQL, as tables and small builders.

Trees are built in DuckDB SQL (`sqlbuild.TEMPLATE_DIALECT`) and rendered here. What an engine
cannot do natively is either mapped to a function idspine registers on that engine (a UDF,
listed in `UDF_FUNCTIONS`) or refused at validation time.
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.errors import ErrorLevel

from idspine.sqlbuild import sql

SQLGLOT_DIALECT = {"duckdb": "duckdb", "spark": "spark"}

# comparator -> template over $a and $b (standardized, non-empty values), per engine.
COMPARATOR_SQL: dict[str, dict[str, str]] = {
    "duckdb": {
        "jaro_winkler": "jaro_winkler_similarity($a, $b)",
        "levenshtein": "1.0 - levenshtein($a, $b) / greatest(length($a), length($b))",
        "damerau_levenshtein": (
            "1.0 - damerau_levenshtein($a, $b) / greatest(length($a), length($b))"
        ),
        "jaccard_tokens": (
            "len(list_intersect(list_distinct(string_split($a, ' ')), "
            "list_distinct(string_split($b, ' ')))) "
            "/ len(list_distinct(list_concat(string_split($a, ' '), string_split($b, ' '))))"
        ),
    },
    "spark": {
        "jaro_winkler": "idspine_jaro_winkler($a, $b)",
        "levenshtein": "1.0 - levenshtein($a, $b) / greatest(length($a), length($b))",
        "damerau_levenshtein": "idspine_damerau_levenshtein($a, $b)",
        "jaccard_tokens": (
            "len(list_intersect(list_distinct(string_split($a, ' ')), "
            "list_distinct(string_split($b, ' ')))) "
            "/ len(list_distinct(list_concat(string_split($a, ' '), string_split($b, ' '))))"
        ),
    },
}

# Functions idspine registers on an engine before a run (name -> Python implementation key).
UDF_FUNCTIONS: dict[str, set[str]] = {
    "duckdb": {"idspine_phone_e164", "idspine_nfkc"},
    "spark": {
        "idspine_phone_e164",
        "idspine_nfkc",
        "idspine_strip_accents",
        "idspine_jaro_winkler",
        "idspine_damerau_levenshtein",
    },
}


def similarity(engine: str, comparator: str, left: exp.Expr, right: exp.Expr
               ) -> exp.Expr:
    return sql(COMPARATOR_SQL[engine][comparator], a=left, b=right)


def strip_accents(engine: str, value: exp.Expr) -> exp.Expr:
    if engine == "duckdb":
        return sql("strip_accents($v)", v=value)
    return sql("idspine_strip_accents($v)", v=value)


def render(tree: exp.Expr, engine: str) -> str:
    return tree.sql(dialect=SQLGLOT_DIALECT[engine], unsupported_level=ErrorLevel.RAISE)


# How an order field is read, per engine: an ISO-like value, epoch seconds or milliseconds,
# or a strptime format (translated by sqlglot for engines that use Java formats).
ORDER_FIELD_SQL: dict[str, dict[str, str]] = {
    "duckdb": {
        "iso": "TRY_CAST($v AS TIMESTAMP)",
        "epoch": "make_timestamp(CAST(TRY_CAST($v AS DOUBLE) * 1000000 AS BIGINT))",
        "epoch_ms": "make_timestamp(CAST(TRY_CAST($v AS DOUBLE) * 1000 AS BIGINT))",
        "format": "try_strptime(CAST($v AS VARCHAR), $format)",
    },
    "spark": {
        "iso": "TRY_CAST($v AS TIMESTAMP)",
        "epoch": "make_timestamp(CAST(TRY_CAST($v AS DOUBLE) * 1000000 AS BIGINT))",
        "epoch_ms": "make_timestamp(CAST(TRY_CAST($v AS DOUBLE) * 1000 AS BIGINT))",
        "format": "try_strptime(CAST($v AS VARCHAR), $format)",
    },
}


def parse_order_field(engine: str, value: exp.Expr, order_format: str | None
                      ) -> exp.Expr:
    templates = ORDER_FIELD_SQL[engine]
    if order_format is None:
        return sql(templates["iso"], v=value)
    if order_format in {"epoch", "epoch_ms"}:
        return sql(templates[order_format], v=value)
    return sql(templates["format"], v=value, format=exp.Literal.string(order_format))
