"""One exception family. Each carries a message written for the user:
what is wrong, where (file:line or key) and how to fix it. The CLI maps
each class to an exit code, in one place."""

from __future__ import annotations


class InferchipError(Exception):
    """Base of every error the user can cause."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputError(InferchipError):
    """A workload, catalog or assumptions file is malformed or inconsistent."""

    exit_code = 2


class UsageError(InferchipError):
    """A command-line option is invalid (bad --set, unknown chip or metric)."""

    exit_code = 2


class NotFoundError(InferchipError):
    """A named file, chip, preset or workload does not exist."""

    exit_code = 3


class NoFeasibleError(InferchipError):
    """No accelerator in the catalog can serve the workload."""

    exit_code = 4


class OutputError(InferchipError):
    """The result could not be written."""

    exit_code = 5


class GateError(InferchipError):
    """A --fail-if policy condition held."""

    exit_code = 6


class ChangeError(InferchipError):
    """A `diff --fail-on` condition held (the winner changed, or cost rose too much)."""

    exit_code = 7


# Documented in README, docs/scripting.md and --help; keep in sync with the classes above.
EXIT_CODES: dict[int, str] = {
    0: "success",
    1: "unexpected internal error",
    2: "invalid input file or option",
    3: "file, chip, preset or workload not found",
    4: "no accelerator can serve the workload",
    5: "output could not be written",
    6: "a --fail-if policy gate held",
    7: "a diff --fail-on condition held",
    130: "interrupted (Ctrl-C)",
    143: "terminated (SIGTERM)",
}
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
EXIT_TERMINATED = 143  # 128 + SIGTERM


SHOWN_LIMIT = 60  # characters of user text quoted in a message; longer text is cut in the middle


def shown(text: object, limit: int = SHOWN_LIMIT) -> str:
    """User text made safe inside a one-line message: control characters and
    line separators (which str.splitlines breaks on) are escaped, and text longer
    than `limit` is cut in the middle with its length (a 5 MB cell stays one short line)."""
    text = str(text)
    if len(text) > limit:
        return f"{shown(text[: limit // 2], limit)}...{shown(text[-8:], limit)} ({len(text):,} characters)"
    return text if text.isprintable() else repr(text)[1:-1]


def short_repr(value: object, limit: int = 40) -> str:
    """repr(value) for a one-line message, cut in the middle when longer than `limit`."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[: limit // 2]}...{text[-8:]} ({len(text)} characters)"


def did_you_mean(name: str, choices: list[str] | tuple[str, ...]) -> str:
    """A ' Did you mean X?' suffix for the closest choice, or ''."""
    import difflib

    lowered = {c.lower(): c for c in choices}
    hits = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.5)
    return f" Did you mean '{lowered[hits[0]]}'?" if hits else ""
