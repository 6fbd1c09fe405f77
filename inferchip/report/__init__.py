"""Renderers: one document, many views. The only package importing rich.

Every renderer takes the canonical document (see inferchip.document) and
returns text; `write_output` writes it atomically."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from inferchip.errors import OutputError

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def to_json(doc: dict) -> str:
    """Canonical JSON: stable key order, no NaN (None -> null), trailing newline."""
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def safe_cell(value: object) -> str:
    """A spreadsheet-safe text cell: text starting with = + - @ tab or CR gets a
    leading apostrophe; numbers stay numbers; None becomes empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(value)
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def to_delimited(rows: list[dict], delimiter: str) -> str:
    """CSV (delimiter ',') or TSV ('\\t') of the rows, header first."""
    import csv
    import io

    if not rows:
        return ""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    fields = list(rows[0])
    writer.writerow(fields)
    for row in rows:
        cells = [safe_cell(row[f]) for f in fields]
        if delimiter == "\t":
            cells = [c.replace("\t", " ").replace("\n", " ") for c in cells]
        writer.writerow(cells)
    return buffer.getvalue()


def write_output(text: str, path: Path) -> None:
    """Write atomically: a temp file in the same folder, then rename. Nothing is
    left behind on failure."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path}: is a directory; give a file name for --output")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"{path}: folder {folder} does not exist; create it first")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644 & ~_umask())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise OutputError(f"{path}: cannot write ({exc.strerror})") from None
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
