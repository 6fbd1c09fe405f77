"""Read a small data CSV (benchmarks, API prices, ...) into rows with their line
numbers, turning every failure into the project's errors."""

from __future__ import annotations

import csv
from pathlib import Path

from inferchip.errors import InputError, NotFoundError


def read_csv_rows(path: Path, what: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """(header, [(line number, {column: stripped text})]) of the non-blank rows."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise NotFoundError(f"{path}: {what} file not found; check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
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
