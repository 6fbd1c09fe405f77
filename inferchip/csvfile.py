"""Read a small data CSV (benchmarks, API prices, ...) into rows with their line
numbers, turning every failure into the project's errors."""

from __future__ import annotations

import csv
from pathlib import Path

from inferchip.errors import InputError
from inferchip.safeio import read_input


def read_csv_rows(path: Path, what: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """(header, [(line number, {column: stripped text})]) of the non-blank rows."""
    raw = read_input(path, what, f"give the path of a {what} CSV file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: cannot read {what} ({exc}); save it as UTF-8 CSV") from None
    reader = csv.DictReader(text.splitlines())
    rows = []
    try:
        for row in reader:
            if any((v or "").strip() for v in row.values() if isinstance(v, str)):
                rows.append((reader.line_num, {k: (v or "").strip() for k, v in row.items() if k}))
    except csv.Error as exc:
        raise InputError(f"{path}: line {reader.line_num}: malformed CSV ({exc})") from None
    return list(reader.fieldnames or []), rows


def require_columns(path: Path, header: list[str], columns, fix: str = "") -> None:
    """Refuse a header that lacks any of `columns`: one error at line 1 naming them all,
    then `fix` (e.g. '; the header is: ...')."""
    missing = [c for c in columns if c not in header]
    if missing:
        raise InputError(f"{path}: line 1: missing column(s): {', '.join(missing)}{fix}")


def empty_cells(path: Path, line: int, row: dict[str, str], columns) -> list[str]:
    """A problem line "PATH: line N: column 'C' is empty" for each of `columns` that
    `row` leaves empty (or blank)."""
    return [f"{path}: line {line}: column '{c}' is empty" for c in columns if not (row.get(c) or "").strip()]


def read_text_table(path: str | Path, columns) -> "pd.DataFrame":  # noqa: F821
    """A bundled data table as text cells (empty = ''), refused when a column of
    `columns` is missing; the caller checks the values (its rows are lines 2, 3, ...)."""
    import pandas as pd

    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise InputError(f"{path}: line 1: missing column(s) {', '.join(missing)}; see data/README.md")
    return table
