"""Exception tree of idspine.

IdspineError
├── ConfigError        bad configuration (CLI exit code 2); carries every problem found
├── InputError         bad input data: missing column, null or duplicate keys, unreadable file
├── EngineError        an engine cannot do what the config asks (capability, connection)
├── RunError           a run failed after validation (CLI exit code 1)
└── HeldRun            the publish gate held a run: checks failed (CLI exit code 3)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Engine messages carry the hints users need (encoding, sniffing, dialect); they are kept
# whole but for the echo of idspine's own SQL and Java stack frames, and capped in length.
ENGINE_MESSAGE_LIMIT = 2000
_ENGINE_NOISE = re.compile(r"^(LINE \d+:|JVM stacktrace:|\tat |\s+at |Traceback )")


class IdspineError(Exception):
    """Base class of every error idspine raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One problem in a configuration or an input, located by a dotted path."""

    path: str
    message: str
    hint: str | None = None

    def render(self) -> str:
        text = f"{self.path}: {self.message}" if self.path else self.message
        # An engine's message may span lines; keep them under their problem.
        text = text.replace("\n", "\n      ")
        return f"{text}\n    hint: {self.hint}" if self.hint else text


class ConfigError(IdspineError):
    """The configuration is invalid. All problems are collected and reported at once."""

    def __init__(self, problems: list[Problem], source: str | None = None) -> None:
        self.problems = problems
        self.source = source
        where = f" in {source}" if source else ""
        count = len(problems)
        header = f"{count} problem{'s' if count != 1 else ''} in the configuration{where}:"
        body = "\n".join(f"  - {p.render()}" for p in problems)
        super().__init__(f"{header}\n{body}")


class InputError(IdspineError):
    """An input source cannot be used as configured (problems name source and column)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        body = "\n".join(f"  - {p.render()}" for p in problems)
        super().__init__(f"the input data cannot be used:\n{body}")


class EngineError(IdspineError):
    """The engine failed or lacks a capability the configuration needs."""

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        # The engine's own words, without the SQL idspine sent (for messages about inputs).
        self.detail = detail or message


class RunError(IdspineError):
    """A run failed after its configuration was validated; previous outputs are intact."""


class HeldRun(IdspineError):
    """A publish check failed: nothing was published but the run history (status `held`)."""

    def __init__(self, run_id: str, failed: list[str]) -> None:
        self.run_id = run_id
        self.failed = failed
        body = "\n".join(f"  - {line}" for line in failed)
        super().__init__(
            f"run {run_id} was held by the publish checks; the previous outputs are unchanged:"
            f"\n{body}\nInspect it (idspine report), fix the cause, or publish anyway with "
            "`idspine run --force`."
        )


def describe_os_error(error: OSError) -> str:
    """One line for a file the system refused: what, which file, why (no traceback)."""
    reason = error.strerror or type(error).__name__
    target = f" {error.filename}" if error.filename else ""
    return f"cannot access{target}: {reason}"


def engine_detail(message: str, limit: int = ENGINE_MESSAGE_LIMIT) -> str:
    """An engine's error message, whole but for noise, ready to show to a user."""
    kept: list[str] = []
    for line in message.strip().splitlines():
        if _ENGINE_NOISE.match(line):
            break
        if line.strip() or (kept and kept[-1].strip()):
            kept.append(line.rstrip())
    text = "\n".join(kept).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
