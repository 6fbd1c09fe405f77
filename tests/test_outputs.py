"""Safe outputs: formula-injection-proof cells, JSON without NaN, atomic writes
with sane permissions, and byte-identical results run after run."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inferchip import report
from inferchip.errors import OutputError
from inferchip.report import safe_cell, to_delimited, to_json, write_output

ROOT = Path(__file__).resolve().parent.parent
# `make fuzz` raises this (INFERCHIP_FUZZ_EXAMPLES=2000); the default keeps `make test` fast.
FUZZ = settings(max_examples=int(os.environ.get("INFERCHIP_FUZZ_EXAMPLES", "50")), deadline=None)


def strict_json(text: str) -> object:
    """json.loads that refuses NaN / Infinity (Python's default accepts them)."""
    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} in JSON")

    return json.loads(text, parse_constant=refuse)


# --- spreadsheet formula injection -----------------------------------------------

@pytest.mark.parametrize(("value", "cell"), [
    ("=1+2", "'=1+2"),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\t=1", "'\t=1"),
    ("\r=1", "'\n=1"),  # a lone CR is a line break: written as LF (report.safetext)
    ("\x1b[31mred", "\\x1b[31mred"),  # terminal escape shown, not sent
    ("=\u202ecmd", "'=\\u202ecmd"),  # bidi override shown
    ("\uff1dcmd", "'\uff1dcmd"),  # full-width equals sign
    ("NVIDIA H100", "NVIDIA H100"),
    ("a=b", "a=b"),
    ("", ""),
    ("-", "-"),  # the table's missing-value dash
    ("-1,234.5", "-1,234.5"),  # a formatted number is not a formula
    ("+3", "+3"),
    ("-1e-05", "-1e-05"),
    (None, ""),
    (True, "true"),
    (False, "false"),
    (-5, "-5"),
    (-0.25, "-0.25"),
    (1e-05, "1e-05"),
    (float("nan"), ""),
    (float("-inf"), ""),
    (np.float64(-2.5), "-2.5"),
    (np.int64(-3), "-3"),
    (np.bool_(True), "true"),
    (np.float64("nan"), ""),
])
def test_safe_cell(value, cell):
    assert safe_cell(value) == cell


@given(st.text(max_size=30))
@FUZZ
def test_fuzz_safe_cell_never_starts_a_formula(text):
    cell = safe_cell(text)
    if cell.startswith(report.FORMULA_PREFIXES):
        assert report._PLAIN_NUMBER.fullmatch(cell), cell
    from inferchip.report.safetext import safe_text

    assert cell == safe_text(text, line_breaks=True) or cell == "'" + safe_text(text, line_breaks=True)


@given(st.floats(allow_nan=False, allow_infinity=False) | st.integers(-10**18, 10**18))
@FUZZ
def test_fuzz_numbers_stay_numbers(number):
    cell = safe_cell(number)
    assert not cell.startswith("'")
    assert (int(cell) if isinstance(number, int) else float(cell)) == number


ROW_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                       st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12))


@given(st.lists(st.builds(lambda name, value: {"name": name, "value": value}, st.text(max_size=12), ROW_VALUES),
                min_size=1, max_size=8),
       st.sampled_from([",", "\t"]))
@FUZZ
def test_fuzz_delimited_round_trip(rows, delimiter):
    """Parsing the CSV/TSV back gives exactly the safe cells, one row per row."""
    text = to_delimited(rows, delimiter)
    parsed = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    assert parsed[0] == ["name", "value"]
    assert len(parsed) == len(rows) + 1
    for row, cells in zip(rows, parsed[1:], strict=True):
        expected = [safe_cell(row["name"]), safe_cell(row["value"])]
        if delimiter == "\t":
            expected = [e.replace("\t", " ").replace("\r", " ").replace("\n", " ") for e in expected]
        else:
            expected = [e.replace("\r\n", "\n").replace("\r", "\n") for e in expected]
        assert cells == expected


@given(st.lists(st.dictionaries(st.sampled_from(["a", "b", "c"]), ROW_VALUES, min_size=1), min_size=1, max_size=8),
       st.sampled_from([",", "\t"]))
@FUZZ
def test_fuzz_delimited_rows_in_any_key_order(rows, delimiter):
    """Rows with the first row's keys in another order, or fewer keys, give the cells of
    those rows reordered and filled with None (the one-pass transposition needs neither)."""
    fields = list(rows[0])
    filled = [{f: row.get(f) for f in fields} for row in rows]
    assert to_delimited(rows, delimiter) == to_delimited(filled, delimiter)
    parsed = list(csv.reader(io.StringIO(to_delimited(filled, delimiter), newline=""), delimiter=delimiter))
    assert [len(cells) for cells in parsed] == [len(fields)] * (len(rows) + 1)


def test_float_column_cells():
    values = [1.5, None, float("nan"), -math.inf, math.inf, -0.0, 1e-300, np.float64(2.5).item()]
    assert report._column_cells(values) == ["1.5", "", "", "", "", "-0.0", "1e-300", "2.5"]


def test_delimited_keeps_first_row_column_order_and_fills_missing_keys():
    text = to_delimited([{"b": 1, "a": "=x"}, {"a": "y"}], ",")
    assert text == "b,a\n1,'=x\n,y\n"


# --- JSON ------------------------------------------------------------------------

def test_json_turns_non_finite_numbers_into_null():
    doc = {"a": float("nan"), "b": [1.5, float("inf"), {"c": -math.inf}], "d": np.float64("nan"),
           "e": np.int64(3), "f": np.array([1.0, np.nan]), "g": "NaN"}
    text = to_json(doc)
    assert strict_json(text) == {"a": None, "b": [1.5, None, {"c": None}], "d": None, "e": 3,
                                 "f": [1.0, None], "g": "NaN"}
    assert text.endswith("}\n")


def test_json_keeps_document_order_and_utf8():
    assert to_json({"z": 1, "a": "Électronique"}) == '{\n  "z": 1,\n  "a": "Électronique"\n}\n'


@pytest.mark.parametrize(("name", "shown"), [("fr\udcffaud", "fr\ufffdaud"), ("\ud800é\udfff", "\ufffdé\ufffd"),
                                             ("plain", "plain"), ("é", "é")])
def test_json_writes_a_lone_surrogate_as_the_replacement_character(name, shown):
    text = to_json({"workload": {"origin": name}, "rows": [{"a": name}]})
    assert text == json.dumps({"workload": {"origin": shown}, "rows": [{"a": shown}]}, indent=2,
                              ensure_ascii=False) + "\n"
    text.encode("utf-8")


@given(st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
                    max_leaves=12))
@FUZZ
def test_fuzz_json_is_always_strict(doc):
    strict_json(to_json({"doc": doc}))


# --- atomic writes ---------------------------------------------------------------

@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_written_file_has_0644_minus_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        write_output("x\n", tmp_path / "out.csv")
    finally:
        os.umask(old)
    assert (tmp_path / "out.csv").stat().st_mode & 0o777 == 0o644 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_write_bytes_and_text(tmp_path):
    write_output(b"PK\x03\x04binary", tmp_path / "book.xlsx")
    write_output("Électronique\r\n", tmp_path / "memo.md")
    assert (tmp_path / "book.xlsx").read_bytes() == b"PK\x03\x04binary"
    assert (tmp_path / "memo.md").read_bytes() == "Électronique\r\n".encode()


def test_write_replaces_existing_file(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")
    write_output("new\n", target)
    assert target.read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, SystemExit, RuntimeError])
def test_interrupted_write_leaves_nothing_and_keeps_the_old_file(tmp_path, monkeypatch, interruption):
    target = tmp_path / "out.json"
    target.write_text("previous result")

    def interrupted(fd):
        raise interruption()

    monkeypatch.setattr(report.os, "fsync", interrupted)
    with pytest.raises(interruption):
        write_output("x" * 1_000_000, target)
    assert target.read_text() == "previous result"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_failed_rename_is_an_output_error_and_leaves_nothing(tmp_path, monkeypatch):
    def full_disk(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report.os, "replace", full_disk)
    with pytest.raises(OutputError) as info:
        write_output("x\n", tmp_path / "out.json")
    assert info.value.message == (f"{tmp_path / 'out.json'}: cannot write (No space left on device);"
                                  " check the space and permissions of the folder")
    assert list(tmp_path.iterdir()) == []


def test_unwritable_folder_simulated(tmp_path, monkeypatch):
    """Root ignores permissions, so the refusal is simulated where the OS would raise it."""
    def refuse(**kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(report.tempfile, "mkstemp", refuse)
    with pytest.raises(OutputError) as info:
        write_output("x\n", tmp_path / "out.json")
    assert info.value.message == (f"{tmp_path / 'out.json'}: cannot write (Permission denied);"
                                  " choose a folder you can write to")
    assert info.value.exit_code == 5


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_folder(invoke, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        result = invoke("compare", "--format", "csv", "--output", str(folder / "r.csv"))
    finally:
        folder.chmod(0o755)
    assert result.exit_code == 5
    assert result.stderr == f"error: {folder / 'r.csv'}: cannot write (Permission denied); choose a folder you can write to\n"
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize(("make_target", "message"), [
    (lambda tmp: tmp, "{t}: is a directory; give a file name for --output"),
    (lambda tmp: tmp / "missing" / "r.json", "{t}: folder {p} does not exist; create it first"),
    (lambda tmp: tmp / "file.txt" / "r.json", "{t}: {p} is a file, not a folder; choose another --output path"),
])
def test_bad_output_paths_exit_5(invoke, tmp_path, make_target, message):
    (tmp_path / "file.txt").write_text("keep")
    target = make_target(tmp_path)
    result = invoke("compare", "--format", "json", "--output", str(target))
    assert result.exit_code == 5
    assert result.stderr == "error: " + message.format(t=target, p=target.parent) + "\n"
    assert result.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]
    assert (tmp_path / "file.txt").read_text() == "keep"


# --- determinism -----------------------------------------------------------------

def _shuffled_catalog(order_seed: int | None) -> str:
    """The bundled catalog with its rows in another order (None = reversed)."""
    text = (ROOT / "data" / "catalog.csv").read_text(encoding="utf-8")
    records = list(csv.reader(io.StringIO(text, newline="")))
    header, rows = records[0], records[1:]
    rows = rows[::-1] if order_seed is None else random.Random(order_seed).sample(rows, len(rows))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_byte_identical_across_runs_and_catalog_row_order(invoke, tmp_path, fmt):
    catalog = tmp_path / "catalog.csv"
    outputs = []
    for seed in (None, 1, 2):
        catalog.write_text(_shuffled_catalog(seed), encoding="utf-8")
        for workload in ("support-chatbot-70b", "video-analytics-resnet50"):
            result = invoke("compare", workload, "--catalog", str(catalog), "--format", fmt)
            assert result.exit_code == 0, result.stderr
            outputs.append(result.stdout)
    assert outputs[0::2] == [outputs[0]] * 3
    assert outputs[1::2] == [outputs[1]] * 3
    if fmt == "json":
        strict_json(outputs[0])


def test_byte_identical_across_processes_with_different_hash_seeds():
    texts = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-m", "inferchip", "compare", "--format", "json"],
                              capture_output=True, text=True, env=env, check=True, cwd=ROOT)
        texts.append(done.stdout)
    assert texts[0] == texts[1]
    strict_json(texts[0])
