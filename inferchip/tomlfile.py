"""Read a TOML file into a dict, turning every failure into an InputError
that names the file (and the line) and says how to fix it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from inferchip.errors import InputError
from inferchip.safeio import check_nesting, read_input

_AT_LINE = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_AT_END = re.compile(r"\s*\(at end of document\)$")
SYNTAX_FIX = ("fix the TOML syntax there (text needs quotes, one `key = value` per line,"
              " each [section] and key once)")


def read_toml(path: Path) -> dict:
    """Parse `path`; a missing file, unreadable bytes or a syntax error name the file (and line)."""
    path = Path(path)
    raw = read_input(path, "TOML", "give the path of a TOML file", missing=f"{path}: file not found; check the path")
    if b"\x00" in raw[:4096]:
        raise InputError(f"{path}: binary data, not a TOML text file; save it as UTF-8 text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(f"{path}: line {line}: not UTF-8 text (byte 0x{raw[exc.start]:02x});"
                         " save the file as UTF-8") from None
    check_nesting(path, text, "TOML")  # tomllib recurses once per level
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(_syntax_message(path, text, str(exc))) from None


def _syntax_message(path: Path, text: str, message: str) -> str:
    """`file: invalid TOML: <what> at line N, column M; <fix>`."""
    at = _AT_LINE.search(message)
    if at:
        where = f"line {at.group(1)}, column {at.group(2)}"
        message = message[: at.start()]
    elif _AT_END.search(message):
        where = f"line {max(text.count(chr(10)) + (not text.endswith(chr(10))), 1)} (end of file)"
        message = message[: _AT_END.search(message).start()]
    else:
        return f"{path}: invalid TOML: {message}; {SYNTAX_FIX}"
    return f"{path}: invalid TOML: {message} at {where}; {SYNTAX_FIX}"
