"""Resolution of the match-quality options: full names, phone regions, nicknames, compound
names. Kept apart from `config.py` so that each stays readable; problems are collected with
their config paths like every other check."""

from __future__ import annotations

from typing import Any

import phonenumbers

from idspine.config.model import IdentifierSpec, NicknamesSpec, SourceSpec
from idspine.config.problems import suggest
from idspine.config.types import FullName, Identifier, Nicknames
from idspine.errors import Problem


def check_region(region: str, path: str, problems: list[Problem]) -> None:
    if region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        problems.append(Problem(path, f"unknown region '{region}'"))


def resolve_identifier_options(
    ident: IdentifierSpec, path: str, problems: list[Problem]
) -> dict[str, Any]:
    """The resolved `nicknames`, `compound` and `fallback_regions` of one identifier."""
    if ident.type != "name":
        for option in ("nicknames", "compound"):
            if getattr(ident, option):
                problems.append(Problem(f"{path}.{option}", "applies to identifiers of type name"))
    if ident.fallback_regions and ident.type != "phone":
        problems.append(Problem(f"{path}.fallback_regions", "applies to phone identifiers"))
    for index, region in enumerate(ident.fallback_regions):
        check_region(region, f"{path}.fallback_regions[{index}]", problems)
    return {
        "nicknames": _nicknames(ident.nicknames),
        "compound": ident.compound,
        "fallback_regions": tuple(r.upper() for r in ident.fallback_regions),
    }


def _nicknames(spec: bool | NicknamesSpec | dict[str, str]) -> Nicknames | None:
    if spec is False:
        return None
    if spec is True:
        return Nicknames(builtin=True)
    if isinstance(spec, dict):  # the older form: this table instead of the built-in one
        return Nicknames(builtin=False, add=tuple(sorted(spec.items())))
    return Nicknames(builtin=spec.builtin, add=tuple(spec.add), remove=tuple(spec.remove))


def resolve_source_options(
    source: SourceSpec, path: str, known: dict[str, Identifier], problems: list[Problem]
) -> dict[str, Any]:
    """The resolved full-name parsing and phone regions of one source."""
    full_name = None
    if source.names is not None:
        names = source.names
        targets = [(key, getattr(names, key)) for key in ("first", "last")]
        if not any(target for _, target in targets):
            problems.append(
                Problem(f"{path}.names", "name at least one of first and last (identifiers)")
            )
        elif names.first is not None and names.first == names.last:
            problems.append(Problem(f"{path}.names", "first and last must be two identifiers"))
        for key, target in targets:
            if target is None:
                continue
            if target not in known:
                problems.append(
                    Problem(
                        f"{path}.names.{key}",
                        f"unknown identifier '{target}'",
                        suggest(target, list(known)),
                    )
                )
            elif known[target].type != "name":
                problems.append(
                    Problem(
                        f"{path}.names.{key}",
                        f"'{target}' is of type {known[target].type}; a parsed name part "
                        "feeds an identifier of type name",
                    )
                )
        full_name = FullName(names.column, names.first, names.last)
    phones = source.phones
    if phones.default_region is not None:
        check_region(phones.default_region, f"{path}.phones.default_region", problems)
    if phones.default_region is not None or phones.region is not None:
        mapped = [name for name in source.map if name in known and known[name].type == "phone"]
        if not mapped:
            problems.append(Problem(f"{path}.phones", "this source maps no phone identifier"))
    return {
        "full_name": full_name,
        "phone_default_region": phones.default_region.upper() if phones.default_region else None,
        "phone_region": phones.region,
    }
