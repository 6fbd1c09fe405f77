"""The one safe-text function every renderer uses for text that came from a file or
the command line (names, sources, notes, paths): what it shows can neither steer a
terminal, reorder what is read, split a table row nor make the output invalid UTF-8.

- C0/C1 control characters, DEL and ESC (terminal escape sequences) are shown as
  visible escapes (`\\x1b`), so nothing reaches the terminal as a command;
- bidi embedding, override and isolate characters (U+202A-U+202E, U+2066-U+2069:
  "Trojan Source") are shown as escapes (`\\u202e`);
- line breaks (CR, LF, CRLF, VT, FF, NEL, U+2028, U+2029) and tabs become a space,
  or with `line_breaks=True` (a quoted CSV value, a terminal line) a single LF and
  the tab stays;
- a lone surrogate (an undecodable byte of a file name, kept by Python's
  surrogateescape) becomes U+FFFD, the replacement character.
JSON keeps strings exact (the encoder escapes control characters) except lone
surrogates, which become U+FFFD there too (`replace_surrogates`)."""

from __future__ import annotations

import re

_SURROGATES = re.compile("[\ud800-\udfff]")
_BREAKS = "\r\n|[\r\n\x0b\x0c\x85\u2028\u2029]"
_UNSAFE = re.compile(f"{_BREAKS}|[\t\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_UNSAFE_KEEPING_LINES = re.compile("\r\n|[\r\x0b\x0c\x85\u2028\u2029]"
                                   "|[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _flat(match: re.Match) -> str:
    char = match.group()
    if char == "\t" or re.fullmatch(_BREAKS, char):
        return " "
    return "\ufffd" if 0xD800 <= ord(char) <= 0xDFFF else _escape(char)


def _lines(match: re.Match) -> str:
    char = match.group()
    if re.fullmatch(_BREAKS, char):
        return "\n"
    return "\ufffd" if 0xD800 <= ord(char) <= 0xDFFF else _escape(char)


def safe_text(text: str, line_breaks: bool = False) -> str:
    """`text` made safe to show (see the module docstring); unchanged when it is already."""
    if text.isprintable():  # every character either pattern matches is a control, format, separator or surrogate
        return text
    pattern = _UNSAFE_KEEPING_LINES if line_breaks else _UNSAFE
    if pattern.search(text) is None:
        return text
    return pattern.sub(_lines if line_breaks else _flat, text)


def replace_surrogates(text: str) -> str:
    """Lone surrogates (undecodable bytes of a file name) as U+FFFD, so the text encodes as UTF-8.
    ASCII text (the usual JSON document) has none: str.isascii reads a flag, no scan."""
    if text.isascii():
        return text
    return _SURROGATES.sub("\ufffd", text) if _SURROGATES.search(text) else text


def markdown_cell(value: object) -> str:
    """A Markdown table cell: safe text on one line, `|` escaped, and text that a
    spreadsheet would read as a formula guarded as in CSV (a formatted number and the
    `-` of a missing value stay as they are)."""
    from inferchip.report import _safe_text

    return _safe_text(safe_text(str(value))).replace("|", "\\|")
