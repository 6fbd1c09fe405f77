"""report.jsontext: the indented JSON text is json.dumps(indent=2, ...) byte for byte."""

from __future__ import annotations

import enum
import json
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inferchip.report import _json_default, to_json
from inferchip.report.jsontext import dumps

# `make fuzz` raises this (INFERCHIP_FUZZ_EXAMPLES=2000); the default keeps `make test` fast.
FUZZ = settings(max_examples=max(200, int(os.environ.get("INFERCHIP_FUZZ_EXAMPLES", "200"))), deadline=None)


def stdlib(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False, default=_json_default)


class Count(int):
    """An int subclass with its own repr: both encoders write int.__repr__."""

    def __repr__(self) -> str:
        return "Count!"


class Share(float):
    def __repr__(self) -> str:
        return "Share!"


class Name(str):
    pass


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


TEXT = st.text(alphabet=st.characters(codec=None, categories=None), max_size=8)  # control chars, surrogates, unicode
SCALARS = (st.none() | st.booleans() | st.integers() | st.floats() | TEXT
           | st.integers(-2**63, 2**63 - 1).map(np.int64) | st.floats(width=32).map(np.float32)
           | st.floats().map(np.float64) | st.booleans().map(np.bool_) | st.integers().map(Count)
           | st.floats().map(Share) | TEXT.map(Name) | st.sampled_from(list(Level))
           | st.sampled_from([Path("a/b.toml"), Path("é")]))
KEYS = TEXT | TEXT.map(Name)
ODD_KEYS = KEYS | st.integers() | st.floats() | st.booleans() | st.none()


def containers(inner: st.SearchStrategy, keys: st.SearchStrategy = KEYS) -> st.SearchStrategy:
    return (st.lists(inner, max_size=4) | st.lists(inner, max_size=3).map(tuple)
            | st.dictionaries(keys, inner, max_size=4)
            | st.lists(st.floats(allow_nan=False), max_size=3).map(np.array))


DOCUMENTS = st.recursive(SCALARS, containers, max_leaves=30)
ODD_DOCUMENTS = st.recursive(SCALARS, lambda inner: containers(inner, ODD_KEYS), max_leaves=20)


def same_as_stdlib(doc: object) -> None:
    try:
        expected = stdlib(doc)
    except ValueError as exc:  # a non-finite float: both refuse it (to_json then writes null)
        with pytest.raises(ValueError, match="Out of range float"):
            dumps(doc, _json_default)
        assert "Out of range float" in str(exc)
        return
    assert dumps(doc, _json_default) == expected


@given(DOCUMENTS)
@FUZZ
def test_byte_identical_to_stdlib_indent(doc):
    same_as_stdlib(doc)


@given(ODD_DOCUMENTS)
@FUZZ
def test_byte_identical_with_number_boolean_and_null_keys(doc):
    same_as_stdlib(doc)


@given(st.lists(st.dictionaries(KEYS, SCALARS, max_size=6), max_size=5), st.integers(0, 6))
@FUZZ
def test_flat_rows_at_any_depth(rows, depth):
    doc: object = rows
    for _ in range(depth):
        doc = {"level": doc, "next": [doc, []], "empty": {}}
    same_as_stdlib(doc)


@pytest.mark.parametrize("doc", [
    {}, [], (), "x", 1, 1.5, None, True, np.float64(2.5), np.int64(7), Path("p"),
    {"a": {}, "b": [], "c": [{}], "d": [[]]},
    {"a": np.array([[1.0, 2.0], [3.0, 4.0]]), "b": np.array([]), "c": [np.bool_(True), np.int32(3)]},
    {"z": 1, "a": "Électronique", "ctl": "\x00\x1f\x7f\u2028\u2029\n\t\"\\", "sur": "fr\udcffaud"},
    {7: "seven", 2.5: "f", True: "t", None: "n", "s": {3: [1, {4: {}}]}},
    [Level.HIGH, Count(3), Share(0.5), Name("n"), {Name("k"): Name("v")}],
])
def test_byte_identical_cases(doc):
    same_as_stdlib(doc)


def test_deep_nesting():
    doc: object = {"leaf": [1, "a", None]}
    for i in range(60):
        doc = {"n": i, "child": doc, "list": [doc]} if i % 7 == 0 else [doc, {"i": i}]
    same_as_stdlib(doc)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), np.float64("nan"), np.float32("inf")])
def test_non_finite_raises_and_to_json_writes_null(bad):
    doc = {"rows": [{"a": 1.0, "b": bad}], "x": [bad], "k": {float(1.5): bad}}
    same_as_stdlib(doc)
    assert json.loads(to_json(doc)) == {"rows": [{"a": 1.0, "b": None}], "x": [None], "k": {"1.5": None}}


def test_refused_value_raises_type_error_as_stdlib():
    with pytest.raises(TypeError, match="object is not JSON serializable"):
        dumps({"a": [object()]}, _json_default)
    with pytest.raises(TypeError, match="keys must be str"):
        dumps({"a": {(1, 2): 3}}, _json_default)
