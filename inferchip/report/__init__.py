"""Renderers: one document, many views. The only package importing rich.

Every renderer takes the canonical document (see inferchip.document) and
returns text; `write_output` writes it atomically."""

from __future__ import annotations

import math
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from inferchip.errors import OutputError

# A text cell starting with one of these is a formula to a spreadsheet
# (OWASP CSV injection), including the full-width forms some spreadsheets fold.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# Text that is only a number (as the table view formats them) stays as it is:
# "-1,234.5" or "-" (missing) cannot run anything.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d[\d,]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?%?|-")
FILE_MODE = 0o644  # before the umask


def to_json(doc: dict) -> str:
    """Canonical JSON: keys in document order, 2-space indent, UTF-8, trailing newline.
    Never NaN or Infinity: a non-finite number that reaches here becomes null."""
    # jsontext.dumps: json.dumps(indent=2, ...) byte for byte, through the C encoder
    from inferchip.report.jsontext import dumps
    from inferchip.report.safetext import replace_surrogates

    try:
        text = dumps(doc, _json_default)
    except ValueError:
        text = dumps(_finite(doc), _json_default)
    return replace_surrogates(text) + "\n"  # an undecodable file name byte would make invalid UTF-8


def _json_default(value: object) -> object:
    """numpy scalars and arrays as Python values; paths as text."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _finite(value: object) -> object:
    """A copy with every non-finite float (Python or numpy) replaced by None."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if hasattr(value, "tolist"):
        return _finite(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def safe_cell(value: object) -> str:
    """A spreadsheet-safe cell: text starting with = + - @ tab, CR or LF gets a
    leading apostrophe; numbers stay numbers (non-finite ones become empty);
    None becomes empty; booleans are true/false."""
    if value is None:
        return ""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalar -> Python
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    return _safe_text(str(value))


def _safe_text(text: str) -> str:
    """Formula guard (a leading apostrophe) and safe text (report.safetext), line breaks kept."""
    from inferchip.report.safetext import safe_text

    text = safe_text(text, line_breaks=True)
    if text.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def _float_cell(value: float) -> str:
    return repr(value) if math.isfinite(value) else ""


# repr of a missing or non-finite value of a float column, as the empty cell.
_BLANK = {"None": "", "inf": "", "-inf": "", "nan": ""}
# Exact-type fast paths for the common cells; anything else goes through safe_cell.
_CELL = {
    type(None): lambda v: "",
    bool: lambda v: "true" if v else "false",
    int: str,
    float: _float_cell,
    str: _safe_text,
}


def _column_cells(values: list[object]) -> list[str]:
    """safe_cell of every value, with fast paths for the usual all-float, all-int
    and all-text columns (a 100,000-row result has millions of cells)."""
    types = set(map(type, values))
    if types <= {float, type(None)}:
        texts = list(map(repr, values))  # a finite float's repr is never one of _BLANK's keys
        return list(map(_BLANK.get, texts, texts))
    if types <= {int, type(None)}:
        return ["" if v is None else str(v) for v in values]
    if types == {str}:
        from inferchip.report.safetext import safe_text

        if safe_text("".join(values), line_breaks=True) != "".join(values):  # some cell needs more than the guard
            return [_safe_text(v) for v in values]
        return [_safe_text(v) if v.startswith(FORMULA_PREFIXES) else v for v in values]
    return [_CELL.get(type(v), safe_cell)(v) for v in values]


def _columns_of(rows: list[dict], fields: list[str]) -> list[list[object]] | list[tuple[object, ...]]:
    """Each field's values down the rows (None where a row lacks it); one transposition
    when every row has the fields in that order."""
    if all(list(row) == fields for row in rows):
        return list(zip(*(row.values() for row in rows), strict=True))
    return [[row.get(field) for row in rows] for field in fields]


def to_delimited(rows: list[dict], delimiter: str) -> str:
    """CSV (delimiter ',') or TSV ('\\t') of the rows, header first, columns in the
    first row's key order. Text cells are neutralised against formula injection
    (safe_cell); in TSV, tabs and line breaks inside text become spaces, in CSV
    line breaks become "\\n" inside a quoted value."""
    import csv
    import io

    if not rows:
        return ""
    fields = list(rows[0])
    columns = []
    for values in _columns_of(rows, fields):
        values = list(values)
        cells = _column_cells(values)
        joined = "".join(cells)  # most columns hold no tab or line break: no pass over their cells
        if delimiter == "\t" and ("\t" in joined or "\r" in joined or "\n" in joined):
            cells = [c.replace("\t", " ").replace("\r", " ").replace("\n", " ") if isinstance(v, str) else c
                     for c, v in zip(cells, values, strict=True)]
        elif delimiter != "\t" and "\r" in joined:
            # csv quotes a value holding "\n" but not one holding a lone "\r", which
            # readers take as a line break: normalise line breaks inside text to "\n".
            cells = [c.replace("\r\n", "\n").replace("\r", "\n") if "\r" in c else c for c in cells]
        columns.append(cells)
    header = [_safe_text(f) for f in fields]
    if delimiter == "\t":
        header = [h.replace("\t", " ").replace("\r", " ").replace("\n", " ") for h in header]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(zip(*columns, strict=True))
    return buffer.getvalue()


@contextmanager
def atomic_file(path: Path, text: bool = False) -> Iterator:
    """A handle on a temporary file in `path`'s folder. On success it is flushed to
    disk, given mode 0644 minus the umask and renamed over `path`; on any failure or
    interruption it is removed and `path` is left as it was. `text` gives a UTF-8
    text handle (for streaming writers), else a binary one.
    `path` is never an input of the command; through a symlink the link's target is
    replaced (the link stays); a character device or FIFO is written into directly
    (see safeio.output_target)."""
    from inferchip.safeio import output_target

    path = Path(path)
    how, target = output_target(path)
    mode = ({"mode": "w", "encoding": "utf-8", "errors": "replace", "newline": "", "buffering": 1 << 20} if text
            else {"mode": "wb"})
    if how == "direct":
        try:
            with open(target, **mode) as handle:
                yield handle
        except OSError as exc:
            raise OutputError(f"{path}: cannot write ({exc.strerror}); check the device") from None
        return
    folder = target.parent
    given = path.parent if str(path.parent) else Path(".")
    named = given if os.path.realpath(given) == str(folder) else folder  # as the user wrote it, unless a link
    if not folder.exists():
        raise OutputError(f"{path}: folder {named} does not exist; create it first")
    if not folder.is_dir():
        raise OutputError(f"{path}: {named} is a file, not a folder; choose another --output path")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror}); choose a folder you can write to") from None
    try:
        with os.fdopen(fd, **mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, FILE_MODE & ~_umask())
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise OutputError(f"{path}: cannot write ({exc.strerror}); check the space and permissions"
                              " of the folder") from None
        raise


def write_output(text: str | bytes, path: Path) -> None:
    """Write `text` (UTF-8) or bytes (e.g. a workbook) to `path` atomically (see atomic_file)."""
    from inferchip.report.safetext import replace_surrogates

    data = text if isinstance(text, bytes) else replace_surrogates(text).encode("utf-8")
    with atomic_file(path) as handle:
        handle.write(data)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
