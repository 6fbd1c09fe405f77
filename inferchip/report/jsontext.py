"""Indented JSON text at the C encoder's speed: byte for byte what
`json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False, default=default)` writes.

`json.dumps` with an indent runs the pure-Python encoder; CPython's C encoder runs only
without one, but it takes any separators. A container whose values are all plain
scalars (str, int, float, bool, None; str keys) is one C call with the item separator
",\\n" + the items' indent: an encoded string never holds a raw newline, so that gives
the indented items exactly, and only the opening and closing lines are added here.
Containers that hold containers are walked here, one item at a time; a container
with a key that is not text goes to the standard library, its lines shifted to
its depth (again: every newline of the text is an indent)."""

from __future__ import annotations

import json
from collections.abc import Callable
from json.encoder import encode_basestring  # the C function where CPython has it

INDENT = "  "
KEY_SEPARATOR = ": "
# Exact types the C encoder writes without recursing or calling `default`.
_PLAIN = frozenset({str, int, float, bool, type(None)})


def dumps(value: object, default: Callable[[object], object]) -> str:
    """`value` as `json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False,
    default=default)` writes it. Raises ValueError on a non-finite float and TypeError
    on a value `default` refuses, as json.dumps does."""
    out: list[str] = []
    _encode(value, 0, out, default, {})
    return "".join(out)


def _encode(value: object, level: int, out: list[str], default: Callable, flat: dict[int, Callable]) -> None:
    """Append `value`'s text, for a value opening at depth `level`; the checks run in the
    standard library's order (text, null, booleans, int, float, list, dict, default)."""
    if isinstance(value, str):
        out.append(encode_basestring(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        out.append(_float_text(value))
    elif isinstance(value, (list, tuple)):
        _encode_list(value, level, out, default, flat)
    elif isinstance(value, dict):
        _encode_dict(value, level, out, default, flat)
    else:
        _encode(default(value), level, out, default, flat)


def _float_text(value: float) -> str:
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("Out of range float values are not JSON compliant: " + repr(value))
    return float.__repr__(value)


def _flat_encoder(level: int, default: Callable, flat: dict[int, Callable]) -> Callable[[object], str]:
    """The C encoder writing a container's items at depth `level`, one per line."""
    if level not in flat:
        flat[level] = json.JSONEncoder(ensure_ascii=False, allow_nan=False, default=default,
                                       separators=(",\n" + INDENT * level, KEY_SEPARATOR)).encode
    return flat[level]


def _encode_list(value: list | tuple, level: int, out: list[str], default: Callable,
                 flat: dict[int, Callable]) -> None:
    if not value:
        out.append("[]")
        return
    inner, outer = "\n" + INDENT * (level + 1), "\n" + INDENT * level
    if set(map(type, value)) <= _PLAIN:
        out.extend(("[", inner, _flat_encoder(level + 1, default, flat)(value)[1:-1], outer, "]"))
        return
    out.extend(("[", inner))
    for i, item in enumerate(value):
        if i:
            out.append("," + inner)
        _encode(item, level + 1, out, default, flat)
    out.extend((outer, "]"))


def _encode_dict(value: dict, level: int, out: list[str], default: Callable, flat: dict[int, Callable]) -> None:
    if not value:
        out.append("{}")
        return
    if set(map(type, value)) != {str}:  # a number, boolean or null key: the standard library converts it
        text = json.dumps(value, indent=len(INDENT), ensure_ascii=False, allow_nan=False, default=default)
        out.append(text.replace("\n", "\n" + INDENT * level))
        return
    inner, outer = "\n" + INDENT * (level + 1), "\n" + INDENT * level
    if set(map(type, value.values())) <= _PLAIN:
        out.extend(("{", inner, _flat_encoder(level + 1, default, flat)(value)[1:-1], outer, "}"))
        return
    out.extend(("{", inner))
    for i, (key, item) in enumerate(value.items()):
        if i:
            out.append("," + inner)
        out.extend((encode_basestring(key), KEY_SEPARATOR))
        _encode(item, level + 1, out, default, flat)
    out.extend((outer, "}"))
