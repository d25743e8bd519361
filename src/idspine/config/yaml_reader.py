"""Reading the YAML file of a configuration: every way it can be unreadable is a ConfigError.

PyYAML keeps the last of two equal keys without a word, so a key written twice (often a
section pasted twice) would silently drop the first one. The document is composed first and
its mappings walked for duplicate keys, each reported with its config path and line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from idspine.errors import ConfigError, Problem


def read_yaml(path: Path) -> dict[str, Any]:
    """The mapping a YAML config file holds, or a ConfigError saying why it cannot be read."""
    label = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError([Problem("", f"config file not found: {path}")]) from None
    except IsADirectoryError:
        raise ConfigError([Problem("", f"{path} is a directory, not a config file")]) from None
    except OSError as exc:
        raise ConfigError([Problem("", f"cannot read {path}: {exc.strerror}")]) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            [Problem("", f"the file is not UTF-8 text (byte {exc.start}, line {line})")],
            label,
        ) from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        duplicates: list[Problem] = []
        if root is not None:
            _find_duplicate_keys(root, "", duplicates, set())
        if duplicates:
            raise ConfigError(duplicates, label)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError([Problem("", f"not valid YAML: {exc}")], label) from None
    if not isinstance(raw, dict):
        raise ConfigError([Problem("", "the file must hold a YAML mapping")], label)
    return raw


def _find_duplicate_keys(
    node: yaml.Node, path: str, problems: list[Problem], seen: set[int]
) -> None:
    if id(node) in seen:  # an alias: its node was walked where its anchor is
        return
    seen.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _find_duplicate_keys(item, f"{path}[{index}]", problems, seen)
    elif isinstance(node, yaml.MappingNode):
        first_line: dict[str, int] = {}
        for key, value in node.value:
            name = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
            child = f"{path}.{name}" if path else name
            line = key.start_mark.line + 1
            if name in first_line and name != "<<":
                problems.append(
                    Problem(
                        child,
                        f"duplicate key on line {line} (first on line {first_line[name]})",
                        "YAML would keep only the last one; remove or merge them",
                    )
                )
            first_line.setdefault(name, line)
            _find_duplicate_keys(value, child, problems, seen)
