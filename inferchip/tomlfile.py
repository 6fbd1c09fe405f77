"""Read a TOML file into a dict, turning every failure into an InputError."""

from __future__ import annotations

import tomllib
from pathlib import Path

from inferchip.errors import InputError, NotFoundError


def read_toml(path: Path) -> dict:
    """Parse `path`; a missing file, unreadable bytes or a syntax error name the file (and line)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise NotFoundError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected a TOML file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text; save the file as UTF-8 TOML") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: invalid TOML: {exc}") from None
