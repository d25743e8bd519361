"""Every difference between engines' SQL, as tables and small builders.

Trees are built in DuckDB SQL (`sqlbuild.TEMPLATE_DIALECT`) and rendered here. What an engine
cannot do natively is mapped to a function each engine registers itself (a UDF named
`idspine_*`, see `udfs.py`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlglot import exp
from sqlglot.errors import ErrorLevel

from idspine.errors import EngineError
from idspine.sql.build import sql

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
            "size(array_intersect(array_distinct(string_split($a, ' ')), "
            "array_distinct(string_split($b, ' ')))) "
            "/ size(array_distinct(array_concat(string_split($a, ' '), string_split($b, ' '))))"
        ),
    },
}


# Whether every word of one value is a word of the other (`garcia` in `garcia lopez`): the
# test `compound: true` name identifiers add to their similarity.
WORDS_WITHIN_SQL: dict[str, str] = {
    "duckdb": (
        "list_has_all(string_split($a, ' '), string_split($b, ' ')) "
        "OR list_has_all(string_split($b, ' '), string_split($a, ' '))"
    ),
    "spark": (
        "size(array_except(string_split($b, ' '), string_split($a, ' '))) = 0 "
        "OR size(array_except(string_split($a, ' '), string_split($b, ' '))) = 0"
    ),
}


def similarity(engine: str, comparator: str, left: exp.Expr, right: exp.Expr) -> exp.Expr:
    return sql(COMPARATOR_SQL[engine][comparator], a=left, b=right)


def words_within(engine: str, left: exp.Expr, right: exp.Expr) -> exp.Expr:
    return sql(WORDS_WITHIN_SQL[engine], a=left, b=right)


def strip_accents(engine: str, value: exp.Expr) -> exp.Expr:
    if engine == "duckdb":
        return sql("strip_accents($v)", v=value)
    return sql("idspine_strip_accents($v)", v=value)


def render(tree: exp.Expr, engine: str) -> str:
    rewrites = RENDER_REWRITES.get(engine)
    if rewrites:
        tree = _rewrite(tree.copy(), rewrites)
    return tree.sql(dialect=SQLGLOT_DIALECT[engine], unsupported_level=ErrorLevel.RAISE)


def _rewrite(tree: exp.Expr, rules: dict[type[exp.Expr], Callable[[Any], exp.Expr]]) -> exp.Expr:
    """Apply the rules bottom-up: a node is rewritten after its children, once."""
    for node in reversed(list(tree.dfs())):
        rule = rules.get(type(node))
        replacement = rule(node) if rule else node
        if replacement is not node:
            if node is tree:
                tree = replacement
            else:
                node.replace(replacement)
    return tree


# RE2 (DuckDB) and Java (Spark) regular expressions differ in a few defaults: RE2's `\s` has
# no vertical tab, its `.` excludes only a line feed and its `$` is the very end of the text;
# Java treats `[` and `&&` inside a class as nested classes; replacements name groups `\1`
# in RE2 and `$1` in Java. Patterns are translated so both engines match the same strings.
RE2_SPACE = "\\t\\n\\f\\r "
INLINE_FLAGS = re.compile(r"\(\?[a-zA-Z]+[):]")


def re2_to_java(pattern: str) -> str:
    flagged = bool(INLINE_FLAGS.search(pattern))  # (?s) or (?m) change `.` and `$`: keep
    out: list[str] = []
    in_class = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            pair = pattern[index : index + 2]
            index += 2
            if pair == "\\s":
                out.append(RE2_SPACE if in_class else f"[{RE2_SPACE}]")
            elif pair == "\\S":
                out.append(f"[^{RE2_SPACE}]")  # inside a Java class: a union, as wanted
            else:
                out.append(pair)
            continue
        index += 1
        if in_class:
            if char == "]" and out[-1] in {"[", "[^"}:
                char = "\\]"  # a literal ']' opening a class in RE2; Java needs it escaped
            elif char == "]":
                in_class = False
            elif char in "[&":
                char = "\\" + char
        elif char == "[":
            in_class = True
            if pattern.startswith("^", index):
                char, index = "[^", index + 1
        elif char == "$" and not flagged:
            char = "\\z"
        elif char == "." and not flagged:
            char = "[^\\n]"
        out.append(char)
    return "".join(out)


def re2_replacement_to_java(replacement: str, shift: int = 0) -> str:
    """`\\1` group references become `$1` (shifted), a literal `$` becomes `\\$`."""
    out = []
    index = 0
    while index < len(replacement):
        char = replacement[index]
        following = replacement[index + 1 : index + 2]
        if char == "\\" and following.isdigit():
            out.append(f"${int(following) + shift}")
            index += 2
        elif char == "\\" and following:
            out.append(char + following)
            index += 2
        else:
            out.append("\\$" if char == "$" else char)
            index += 1
    return "".join(out)


def _java_pattern(node: exp.Expr, wrap: Callable[[str], str] = str) -> exp.Expr:
    if isinstance(node, exp.Literal) and node.is_string:
        return exp.Literal.string(wrap(re2_to_java(node.this)))
    return node


def _spark_regexp_like(node: exp.RegexpLike) -> exp.Expr:
    return exp.RegexpLike(this=node.this, expression=_java_pattern(node.expression))


def _spark_regexp_full_match(node: exp.RegexpFullMatch) -> exp.Expr:
    pattern = node.expression
    if isinstance(pattern, exp.Literal) and pattern.is_string:
        anchored = _java_pattern(pattern, lambda p: f"^(?:{p})\\z")
    else:
        anchored = exp.func(
            "concat", exp.Literal.string("^(?:"), pattern, exp.Literal.string(")\\z")
        )
    return exp.RegexpLike(this=node.this, expression=anchored)


def _spark_regexp_replace(node: exp.RegexpReplace) -> exp.Expr:
    """Java replaces every match: DuckDB's first-match-only form skips a lazy prefix."""
    modifiers = node.args.get("modifiers")
    every = isinstance(modifiers, exp.Literal) and "g" in modifiers.this
    replacement = node.args.get("replacement")
    if not isinstance(replacement, exp.Literal) or not isinstance(node.expression, exp.Literal):
        return exp.RegexpReplace(
            this=node.this, expression=node.expression, replacement=replacement
        )
    pattern = _java_pattern(node.expression, str if every else (lambda p: f"^(?s:(.*?))(?:{p})"))
    text = re2_replacement_to_java(replacement.this, shift=0 if every else 1)
    return exp.RegexpReplace(
        this=node.this,
        expression=pattern,
        replacement=exp.Literal.string(text if every else "$1" + text),
    )


def _spark_decimal_as_double(node: exp.Literal) -> exp.Expr:
    """DuckDB turns a DECIMAL literal into a DOUBLE as soon as it meets one, and `avg` of
    decimals is a DOUBLE; Spark keeps decimals (`avg(1.0)` is `decimal(6,5)`)."""
    if node.is_string or "." not in node.this or "e" in node.this.lower():
        return node
    parent = node.parent
    if isinstance(parent, exp.Cast) and parent.to.is_type(exp.DataType.Type.DOUBLE):
        return node
    return exp.cast(node.copy(), exp.DataType.Type.DOUBLE)


def _spark_lower(node: exp.Lower) -> exp.Expr:
    """Java lower-cases a capital I with a dot (U+0130) to "i" plus a combining dot, and a
    word-final capital sigma to a final sigma; DuckDB maps both one to one: map them first."""
    return exp.Lower(
        this=exp.func(
            "translate",
            node.this,
            exp.Literal.string("\u0130\u03a3"),
            exp.Literal.string("I\u03c3"),
        )
    )


def _spark_anonymous(node: exp.Anonymous) -> exp.Expr:
    if str(node.this).lower() == "strip_accents":  # a DuckDB built-in: idspine's UDF
        return exp.Anonymous(this="idspine_strip_accents", expressions=node.expressions)
    return node


# DuckDB constructs of the templates that sqlglot does not carry over to Spark SQL as is.
# `/` by zero is NULL in DuckDB and an error in Spark's ANSI mode, hence `try_divide`.
SPARK_REWRITES: dict[type[exp.Expr], Callable[[Any], exp.Expr]] = {
    exp.Literal: _spark_decimal_as_double,
    exp.Div: lambda node: exp.func("try_divide", node.this, node.expression),
    exp.RegexpLike: _spark_regexp_like,
    exp.RegexpFullMatch: _spark_regexp_full_match,
    exp.RegexpReplace: _spark_regexp_replace,
    exp.Lower: _spark_lower,
    exp.Anonymous: _spark_anonymous,
}
RENDER_REWRITES: dict[str, dict[type[exp.Expr], Callable[[Any], exp.Expr]]] = {
    "spark": SPARK_REWRITES,
}


# How an order field is read, per engine: an ISO-like value, epoch seconds or milliseconds,
# or a strptime format (`$format` is translated for engines that use Java patterns).
# Spark reads every order value as TIMESTAMP_NTZ, the naive timestamp DuckDB produces, with
# arithmetic that never goes through the session time zone.
ORDER_FIELD_SQL: dict[str, dict[str, str]] = {
    "duckdb": {
        "iso": "TRY_CAST($v AS TIMESTAMP)",
        "epoch": "make_timestamp(CAST(TRY_CAST($v AS DOUBLE) * 1000000 AS BIGINT))",
        "epoch_ms": "make_timestamp(CAST(TRY_CAST($v AS DOUBLE) * 1000 AS BIGINT))",
        "format": "try_strptime(CAST($v AS VARCHAR), $format)",
    },
    "spark": {
        "iso": "TRY_CAST($v AS TIMESTAMP)",
        "epoch": "timestampadd(MICROSECOND, CAST(TRY_CAST($v AS DOUBLE) * 1000000 AS BIGINT), "
        "TIMESTAMP '1970-01-01 00:00:00')",
        "epoch_ms": "timestampadd(MICROSECOND, CAST(TRY_CAST($v AS DOUBLE) * 1000 AS BIGINT), "
        "TIMESTAMP '1970-01-01 00:00:00')",
        "format": "CAST(try_to_timestamp(CAST($v AS VARCHAR), $format) AS TIMESTAMP)",
    },
}

# strftime directive -> Java DateTimeFormatter letters: (lenient width, fixed width). The
# lenient form also reads unpadded numbers ("5/1/2026"), as DuckDB does; the fixed form is
# used when a number touches another number ("%Y%m%d"), where only widths can split them.
STRFTIME_TO_JAVA: dict[str, tuple[str, str]] = {
    "Y": ("yyyy", "yyyy"),
    "y": ("yy", "yy"),
    "m": ("M", "MM"),
    "d": ("d", "dd"),
    "e": ("d", "d"),
    "H": ("H", "HH"),
    "I": ("h", "hh"),
    "M": ("m", "mm"),
    "S": ("s", "ss"),
    "f": ("SSSSSS", "SSSSSS"),
    "p": ("a", "a"),
    "b": ("MMM", "MMM"),
    "B": ("MMMM", "MMMM"),
    "a": ("EEE", "EEE"),
    "A": ("EEEE", "EEEE"),
    "j": ("D", "DDD"),
    "z": ("Z", "Z"),
}
NUMERIC_DIRECTIVES = frozenset("YymdeHIMSfj")


def strftime_to_java(text: str) -> str:
    """A strptime format as a Java (Spark) datetime pattern; unknown directives raise."""
    tokens: list[tuple[bool, str]] = []  # (is a directive, its letter or literal text)
    position = 0
    while position < len(text):
        pair = text[position : position + 2]
        if pair[:1] == "%" and pair != "%%" and len(pair) == 2:
            if pair[1] not in STRFTIME_TO_JAVA:
                raise EngineError(
                    f"the date format {text!r} uses {pair}, which idspine "
                    f"cannot translate for Spark; supported: "
                    f"%{', %'.join(STRFTIME_TO_JAVA)}"
                )
            tokens.append((True, pair[1]))
        else:
            literal = "%" if pair == "%%" else text[position]
            if tokens and not tokens[-1][0]:
                literal = tokens.pop()[1] + literal
            tokens.append((False, literal))
        position += 2 if pair == "%%" or tokens[-1][0] else 1

    def digit_at(index: int, end: int) -> bool:
        if not 0 <= index < len(tokens):
            return False
        is_directive, value = tokens[index]
        return value in NUMERIC_DIRECTIVES if is_directive else value[end].isdigit()

    parts = []
    for index, (is_directive, value) in enumerate(tokens):
        if not is_directive:
            parts.append("'" + value.replace("'", "''") + "'")
            continue
        lenient, fixed = STRFTIME_TO_JAVA[value]
        touches = digit_at(index - 1, -1) or digit_at(index + 1, 0)
        parts.append(fixed if value in NUMERIC_DIRECTIVES and touches else lenient)
    return "".join(parts)


ORDER_FORMAT_TRANSLATION: dict[str, Callable[[str], str]] = {"spark": strftime_to_java}


def parse_order_field(engine: str, value: exp.Expr, order_format: str | None) -> exp.Expr:
    templates = ORDER_FIELD_SQL[engine]
    if order_format is None:
        return sql(templates["iso"], v=value)
    if order_format in {"epoch", "epoch_ms"}:
        return sql(templates[order_format], v=value)
    translate = ORDER_FORMAT_TRANSLATION.get(engine)
    pattern = translate(order_format) if translate else order_format
    return sql(templates["format"], v=value, format=exp.Literal.string(pattern))
