"""Decisions kept in version control: the `overrides_file` next to the config.

A CSV file with a header `kind,record,other_record,reason` (`kind`: must_link, cannot_link
or detach; records as `source:key`; `other_record` empty for detach). Its rows join the
decisions of the `identity_overrides` ledger on every run; removing a row withdraws it.
Ids are derived from the row's content, so the same row keeps its id across runs.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path
from typing import Any

KINDS = ("must_link", "cannot_link", "detach")
COLUMNS = ("kind", "record", "other_record", "reason")


def _reference(text: str, sources: set[str], where: str) -> tuple[str, str]:
    source, _, key = text.strip().partition(":")
    if not source or not key:
        raise ValueError(f"{where}: '{text}' is not source:key")
    if source not in sources:
        raise ValueError(f"{where}: no source '{source}' in the config")
    return source, key


def read_overrides_file(path: Path, sources: set[str]) -> list[dict[str, Any]]:
    """The file's decisions as ledger rows (`add` actions); ValueError names the line."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise ValueError(f"{path}: the header needs the columns {', '.join(missing)}")
            rows = list(reader)
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not UTF-8 text") from None
    decisions = []
    for line, row in enumerate(rows, start=2):
        where = f"{path.name} line {line}"
        kind = (row["kind"] or "").strip()
        if kind not in KINDS:
            raise ValueError(f"{where}: kind '{kind}' is not one of {', '.join(KINDS)}")
        refs = [_reference(row["record"] or "", sources, where)]
        if kind != "detach":
            refs.append(_reference(row["other_record"] or "", sources, where))
            if refs[0] == refs[1]:
                raise ValueError(f"{where}: a {kind} needs two different records")
        content = f"{kind}|{refs}"
        digest = hashlib.md5(content.encode(), usedforsecurity=False).hexdigest()
        decisions.append(
            {
                "override_id": "f" + digest[:11],
                "action": "add",
                "kind": kind,
                "left_source": refs[0][0],
                "left_key": refs[0][1],
                "right_source": refs[1][0] if len(refs) > 1 else None,
                "right_key": refs[1][1] if len(refs) > 1 else None,
                "reason": (row["reason"] or "").strip(),
                "created_by": f"file:{path.name}",
                "created_at": None,
            }
        )
    return decisions
