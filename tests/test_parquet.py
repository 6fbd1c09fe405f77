"""`--format parquet` for sweep and uncertainty (report/parquet_out.py, optional pyarrow)."""

from __future__ import annotations

import builtins
import csv
import json
import math
import sys

import pytest

pq = pytest.importorskip("pyarrow.parquet")

SWEEP = ["sweep", "--vary", "pue=1.1:1.5:3", "--vary", "tpot_ms=30:60:2", "--vary", "facility_model=colocation,owned"]


def _same(a, b) -> bool:
    """Equal, numbers to the 10 significant digits JSON keeps (Parquet keeps every bit)."""
    if isinstance(a, float) or isinstance(b, float):
        return (a is None and b is None) or (a is not None and b is not None and (
            math.isclose(float(a), float(b), rel_tol=1e-9) or (math.isnan(float(a)) and math.isnan(float(b)))))
    return a == b


def test_sweep_parquet_holds_the_json_rows_and_the_document_head(invoke, tmp_path):
    target = tmp_path / "grid.parquet"
    result = invoke(*SWEEP, "--format", "parquet", "--output", str(target))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == f"wrote 516 rows to {target}\n"
    doc = json.loads(invoke(*SWEEP, "--format", "json").stdout)
    table = pq.read_table(target)
    assert table.column_names == doc["columns"]
    rows = table.to_pylist()
    assert len(rows) == len(doc["results"]) == 516
    for got, want in zip(rows, doc["results"], strict=True):
        assert all(_same(got[k], want[k]) for k in want), (got, want)
    head = json.loads(table.schema.metadata[b"inferchip"])
    assert head == {k: v for k, v in doc.items() if k != "results"}


def test_sweep_parquet_keeps_types_a_script_can_use(invoke, tmp_path):
    target = tmp_path / "grid.parquet"
    assert invoke(*SWEEP, "--winners", "--format", "parquet", "-o", str(target)).exit_code == 0
    schema = pq.read_schema(target)
    assert str(schema.field("grid_point").type) == "int64"
    assert str(schema.field("cost_per_query_usd").type) == "double"
    with (tmp_path / "grid.csv").open("w") as handle:
        handle.write(invoke(*SWEEP, "--winners", "--format", "csv").stdout)
    with (tmp_path / "grid.csv").open() as handle:
        assert pq.read_table(target).num_rows == sum(1 for _ in csv.reader(handle)) - 1


def test_uncertainty_parquet_holds_the_json_rows(invoke, tmp_path):
    target = tmp_path / "bands.parquet"
    args = ["uncertainty", "--samples", "300", "--seed", "2", "--top", "5"]
    result = invoke(*args, "-o", str(target))  # the suffix picks the format
    assert result.exit_code == 0, result.stderr
    doc = json.loads(invoke(*args, "--format", "json").stdout)
    rows = pq.read_table(target).to_pylist()
    assert len(rows) == 5
    for got, want in zip(rows, doc["results"], strict=True):
        assert all(_same(got[k], want[k]) for k in want)
    assert json.loads(pq.read_schema(target).metadata[b"inferchip"])["samples"] == 300


def test_missing_pyarrow_is_a_one_line_usage_error_before_any_work(invoke, tmp_path, monkeypatch):
    real = builtins.__import__

    def without_pyarrow(name, globals=None, *args, **kwargs):  # as if pyarrow were not installed (for inferchip)
        if name.startswith("pyarrow") and (globals or {}).get("__name__", "").startswith("inferchip"):
            raise ImportError(f"No module named {name!r}")
        return real(name, globals, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_pyarrow)
    target = tmp_path / "grid.parquet"
    for args in (SWEEP, ["uncertainty", "--samples", "10"]):
        result = invoke(*args, "--format", "parquet", "-o", str(target))
        assert result.exit_code == 2
        assert result.stderr == ("error: --format parquet needs the optional pyarrow package: "
                                 "pip install 'inferchip[parquet]'  (or: pip install pyarrow)\n")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, message", [
    ([*SWEEP, "--format", "parquet"], "error: --format parquet writes a binary file: add --output FILE.parquet\n"),
    (["compare", "-o", "x.parquet"], "error: --format parquet: only `inferchip sweep` and `inferchip uncertainty` "
                                     "write Parquet; use csv, tsv, json or markdown here\n"),
])
def test_parquet_needs_a_file_and_a_grid_command(invoke, args, message):
    result = invoke(*args)
    assert result.exit_code == 2
    assert result.stderr == message


def test_an_interrupted_parquet_write_leaves_the_old_file(invoke, tmp_path, monkeypatch):
    from inferchip import report

    target = tmp_path / "grid.parquet"
    target.write_bytes(b"previous")

    def interrupted(fd):
        raise KeyboardInterrupt()

    monkeypatch.setattr(report.os, "fsync", interrupted)
    result = invoke(*SWEEP, "--format", "parquet", "-o", str(target))
    assert result.exit_code == 130
    assert [p.name for p in tmp_path.iterdir()] == ["grid.parquet"] and target.read_bytes() == b"previous"


@pytest.mark.parametrize("order", ["import inferchip, pandas", "import pandas, inferchip"])
def test_pandas_keeps_python_text_storage_with_pyarrow_installed(order):
    """pyarrow (the parquet extra) would switch pandas text to pyarrow storage, under which
    an empty text column mapped to numbers cannot be multiplied (a custom-model compare
    crashed); inferchip pins python storage whichever is imported first."""
    import subprocess

    code = (f"{order}; import pandas as pd; s = pd.Series([], dtype=str); "
            "print(pd.Series(['a']).dtype.storage, len(pd.Series([], dtype=float) * s.map({'a': 1.0})))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["python", "0"]


def test_parquet_rows_are_the_sweep_frames_bit_for_bit_and_floats_skip_the_dictionary(tmp_path):
    # every value as the pipeline computed it (no rounding), one row group per chunk; cost
    # columns (a distinct value per row) are written plain, text and counts dictionary-encoded
    import pandas as pd

    from inferchip import sweep as sw
    from inferchip.inputs import load_inputs
    from inferchip.report.parquet_out import write_frames

    inputs = load_inputs(None)
    plan = sw.plan(inputs.workload, inputs.assumptions, inputs.chips,
                   [sw.parse_vary("electricity_usd_per_kwh=0.05:0.2:4"), sw.parse_vary("pue=1.1,1.4")], ["all"])
    frames = list(sw.iter_chunks(plan, chunk_rows=100))
    target = tmp_path / "grid.parquet"
    assert write_frames(target, {"command": "sweep"}, plan.columns, iter(frames)) == plan.rows
    back = pq.read_table(target).to_pandas()
    whole = pd.concat(frames, ignore_index=True)[plan.columns]
    for column in plan.columns:
        got, want = back[column].to_numpy(), whole[column].to_numpy()
        if want.dtype.kind == "f":
            assert ((got.view("int64") == want.view("int64")) | (pd.isna(got) & pd.isna(want))).all(), column
        else:
            assert [None if pd.isna(x) else str(x) for x in got] == [None if pd.isna(x) else str(x) for x in want]
    meta = pq.ParquetFile(target).metadata
    assert meta.num_row_groups == len(frames)
    encodings = {meta.row_group(0).column(i).path_in_schema: meta.row_group(0).column(i).encodings
                 for i in range(meta.num_columns)}
    assert "PLAIN_DICTIONARY" not in encodings["cost_per_query_usd"] and "RLE_DICTIONARY" not in encodings["cost_per_query_usd"]
    assert any("DICTIONARY" in e for e in encodings["vendor"])


def _mixed_frame(seed: int, rows: int):
    """Every kind of column a grid command hands the Parquet writer, with missing values."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    costs = rng.normal(size=rows)
    costs[rng.random(rows) < 0.3] = np.nan
    names = pd.Categorical.from_codes(rng.integers(-1, 3, rows), categories=["NVIDIA H100 SXM", "AMD MI300X", "Groq LPU"])
    return pd.DataFrame({
        "grid_point": np.arange(rows, dtype="int64"), "cost_per_query_usd": costs, "feasible": rng.random(rows) < 0.5,
        "racks": rng.integers(0, 9, rows).astype("float32"), "units": rng.integers(0, 5, rows).astype("uint16"),
        "accelerator": names, "facility_model": np.array(["owned", "colocation"] * (rows // 2) + ["owned"] * (rows % 2),
                                                         dtype=object),
        "winner": pd.Series([None if i % 4 == 0 else f"chip {i % 3}" for i in range(rows)], dtype=object),
        "count": pd.array([None if i % 5 == 0 else i for i in range(rows)], dtype="Int64"),
        "reason": pd.Categorical(["", "no price"] * (rows // 2) + [""] * (rows % 2)),
    })


@pytest.mark.parametrize("seed, rows", [(1, 1), (2, 40), (3, 1001)])
def test_arrow_table_is_pyarrows_from_pandas_without_its_metadata(seed, rows):
    import pandas as pd
    import pyarrow as pa

    from inferchip.report.parquet_out import arrow_table

    frame = _mixed_frame(seed, rows)
    columns = ["accelerator", "grid_point", "cost_per_query_usd", "feasible", "racks", "units", "facility_model",
               "winner", "count", "reason"]
    want = pa.Table.from_pandas(frame[columns], preserve_index=False, nthreads=1)
    got = arrow_table(frame, columns)
    assert got.schema.metadata is None and got.schema == want.schema.remove_metadata()
    assert got.equals(want.replace_schema_metadata(None))
    # a later chunk takes the first one's types, as from_pandas(schema=...) does: here other
    # categories, integers where the schema holds floats, an all-missing text column
    later = _mixed_frame(seed + 10, rows).assign(
        reason=pd.Categorical.from_codes([i % 3 for i in range(rows)], categories=["", "no price", "no memory"]),
        racks=lambda f: f["units"].astype("int64"), winner=None)
    schema = want.schema.remove_metadata()
    assert arrow_table(later, columns, schema).equals(
        pa.Table.from_pandas(later[columns], schema=schema, preserve_index=False, nthreads=1).replace_schema_metadata(None))

