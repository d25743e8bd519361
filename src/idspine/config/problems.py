"""Turning pydantic validation errors into config problems with readable paths."""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import ValidationError

from idspine.errors import Problem


def suggest(name: str, known: list[str]) -> str | None:
    close = difflib.get_close_matches(name, known, n=1)
    return (
        f"did you mean '{close[0]}'? known: {', '.join(sorted(known))}"
        if close
        else (f"known: {', '.join(sorted(known))}" if known else None)
    )


def config_path(raw: Any, location: tuple[int | str, ...], missing: bool) -> tuple[str, bool]:
    """The config path of a pydantic error location, and whether it ends on a union member.

    Pydantic puts union-member tags ("str", "literal[...]", "FuzzyCriterion") in locations;
    walking the user's input tells them apart from keys, however the keys are spelled.
    """
    node, path, member = raw, "", False
    for index, part in enumerate(location):
        if isinstance(node, list) and isinstance(part, int) and part < len(node):
            node, path, member = node[part], f"{path}[{part}]", False
        elif isinstance(node, dict) and (part in node or (missing and index == len(location) - 1)):
            node, path, member = node.get(part), f"{path}.{part}" if path else str(part), False
        else:
            member = True
    return path, member


def pydantic_problems(error: ValidationError, raw: Any) -> list[Problem]:
    located = [
        (item, *config_path(raw, item["loc"], item["type"] == "missing")) for item in error.errors()
    ]
    problems = []
    for item, path, member in located:
        if member:
            # A union reports every member. Keep the members the input has the shape of:
            # nested errors of a mapping, or the literal's message for a string.
            nested = any(not m and p.startswith((f"{path}.", f"{path}[")) for _, p, m in located)
            wrong_shape = isinstance(item.get("input"), str) and item["type"] in {
                "model_type",
                "dict_type",
            }
            if nested or wrong_shape:
                continue
        message = item["msg"]
        hint = None
        if item["type"] == "extra_forbidden":
            message = "unknown key"
            hint = "remove it or check its spelling (see `idspine schema`)"
        elif item["type"] == "literal_error":
            hint = f"got {item.get('input')!r}"
        problems.append(Problem(path, message, hint))
    unique = {(p.path, p.message): p for p in problems}
    return list(unique.values())
