"""`inferchip sweep` and inferchip.sweep: grid parsing, agreement with `compare`,
chunking, winners, the fast row formatter and the CLI."""

import csv
import io
import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inferchip import sweep as sw
from inferchip.calibration import attach_factors
from inferchip.compare import evaluate, operating_points, run_compare, scenario_frame
from inferchip.errors import InferchipError, UsageError
from inferchip.inputs import load_inputs
from inferchip.report.analysis_view import RowFormat, column_kinds

COMPARED = ["feasible", "chips_per_replica", "batch_size", "accelerators", "servers", "racks", "tpot_ms",
            "capex_usd", "annual_tco_usd", "cost_per_query_usd", "cloud_cost_per_query_usd", "avg_power_kw",
            "energy_per_query_j", "kw_per_rack", "infeasible_reason"]


@pytest.fixture(scope="module")
def base():
    return load_inputs(None)


def _by_name(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(accelerator=frame["accelerator"].astype(str)).set_index("accelerator").sort_index()


def _assert_same(actual: pd.DataFrame, expected: pd.DataFrame, fields=COMPARED) -> None:
    a, e = _by_name(actual), _by_name(expected)
    assert list(a.index) == list(e.index)
    for field in fields:
        left, right = a[field].to_numpy(), e[field].to_numpy()
        if left.dtype.kind == "f" or right.dtype.kind == "f":
            np.testing.assert_allclose(left.astype(float), right.astype(float), rtol=1e-12, equal_nan=True,
                                       err_msg=field)
        else:
            assert left.tolist() == right.tolist(), field


# ---------------------------------------------------------------- parsing


def test_parse_linear_log_and_list():
    v = sw.parse_vary("pue=1.1:1.5:5")
    assert v.key == "pue" and v.values == pytest.approx((1.1, 1.2, 1.3, 1.4, 1.5))
    v = sw.parse_vary("queries_per_day=1e4:1e8:5:log")
    assert v.values == pytest.approx((1e4, 1e5, 1e6, 1e7, 1e8))
    v = sw.parse_vary("facility_model=colocation,owned")
    assert v.values == ("colocation", "owned") and not v.numeric
    assert sw.parse_vary("tpot_ms=20,50,1_000").values == (20.0, 50.0, 1000.0)
    assert sw.parse_vary("pue=1.3:1.3:1").values == (1.3,)


@pytest.mark.parametrize("text, message", [
    ("pue", "expected KEY=START:STOP:N"),
    ("pue=1.1:1.5", "expected START:STOP:N"),
    ("pue=1.1:1.5:2.5", "N must be a whole number"),
    ("pue=1.1:1.5:0", "N must be a whole number"),
    ("pue=a:1.5:3", "'a' is not a number"),
    ("queries_per_day=0:1e6:3:log", "log spacing needs START and STOP > 0"),
    ("pue=1.1:1.5:3:cubic", "expected START:STOP:N or START:STOP:N:log"),
    ("facility_model=owned,2", "mixes numbers and words"),
])
def test_parse_errors(text, message):
    with pytest.raises(UsageError, match=message):
        sw.parse_vary(text)


@pytest.mark.parametrize("specs, message", [
    (["electricity=0.1:0.2:2"], "unknown key. Did you mean 'electricity_usd_per_kwh'?"),
    (["pue=0.5:1.5:3"], "'pue' must be >= 1"),
    (["pue=1.2,0.9,1.4"], "'pue' must be >= 1"),
    (["facility_model=colocation,rented"], "'facility_model' must be one of colocation, owned"),
    (["precision=fp8,fp16"], "precision cannot vary"),
    (["latency_ms=10:20:2"], "does not apply to a llm workload"),
    (["tpot_ms=0:50:3"], "tpot_ms must be > 0"),
    (["peak_to_average=0.5:2:3"], "peak_to_average must be >= 1"),
    (["pue=1.1:1.2:2", "pue=1.3:1.4:2"], "varied twice"),
    (["active_params_b=50:90:3"], "must not exceed params_b"),
    (["output_tokens_min=100:400:4"], r"output_tokens_min \(400\) must not exceed output_tokens, the mean \(300\)"),
    (["output_tokens_min=100,200", "output_tokens=150:600:4"], "must not exceed output_tokens"),
])
def test_grid_validation(base, specs, message):
    with pytest.raises(InferchipError, match=message) as caught:
        sw.plan(base.workload, base.assumptions, base.chips, [sw.parse_vary(s) for s in specs])
    assert caught.value.exit_code == 2


def test_unknown_field(base):
    with pytest.raises(UsageError, match="Did you mean 'cost_per_query_usd'"):
        sw.plan(base.workload, base.assumptions, base.chips, [sw.parse_vary("pue=1.1:1.2:2")],
                ["cost_per_querry_usd"])


# ---------------------------------------------------------------- agreement with compare


def test_evaluate_with_precomputed_points_equals_compare(base):
    """evaluate(points=, columns=) (the sweep's path) gives compare's numbers."""
    chips = attach_factors(base.chips)
    w = base.workload
    scen = scenario_frame(w, base.assumptions, 1)
    points = operating_points(w.kind, chips, scen, w.precision, w.kv_precision)
    fast = evaluate(w.kind, chips, scen, w.precision, w.kv_precision, points=points,
                    columns=["accelerator"] + COMPARED)
    assert list(fast.columns) == ["accelerator"] + COMPARED
    _assert_same(fast, run_compare(w, base.assumptions, base.chips))


@pytest.mark.parametrize("workload, specs, at", [
    (None, ["electricity_usd_per_kwh=0.05:0.2:4", "pue=1.1,1.5"], {"electricity_usd_per_kwh": 0.15, "pue": 1.5}),
    (None, ["tpot_ms=20:200:4", "utilisation_target=0.5,0.9"], {"tpot_ms": 140.0, "utilisation_target": 0.5}),
    (None, ["queries_per_day=1e4:1e8:5:log", "facility_model=colocation,owned"],
     {"queries_per_day": 1e6, "facility_model": "owned"}),
    ("video-analytics-resnet50", ["latency_ms=10:50:3", "server_life_years=3,6"],
     {"latency_ms": 30.0, "server_life_years": 6.0}),
    ("rag-long-context-70b", ["input_tokens=1000:8000:3", "capital_charge=annuity,straight_line"],
     {"input_tokens": 4500.0, "capital_charge": "straight_line"}),
])
def test_sweep_rows_equal_compare_with_set(workload, specs, at):
    """Any grid point of a sweep equals `compare --set key=value ...` at that point."""
    inputs = load_inputs(workload)
    plan = sw.plan(inputs.workload, inputs.assumptions, inputs.chips, [sw.parse_vary(s) for s in specs],
                   ["accelerator"] + COMPARED)
    frame = pd.concat(sw.iter_chunks(plan, chunk_rows=40), ignore_index=True)
    mask = np.ones(len(frame), dtype=bool)
    columns = {v.key: v.column for v in plan.varies}
    for key, value in at.items():
        mask &= frame[columns[key]].to_numpy() == value
    assert mask.sum() == len(inputs.chips)
    sets = [f"{k}={v}" for k, v in at.items()]
    ref = load_inputs(workload, sets=sets)
    fields = [f for f in COMPARED if f in plan.fields]
    _assert_same(frame[mask], run_compare(ref.workload, ref.assumptions, ref.chips), fields)


def test_chunking_does_not_change_rows(base):
    plan = sw.plan(base.workload, base.assumptions, base.chips,
                   [sw.parse_vary("tpot_ms=30:90:3"), sw.parse_vary("pue=1.1:1.5:3")])
    whole = pd.concat(sw.iter_chunks(plan, chunk_rows=10_000), ignore_index=True)
    small = pd.concat(sw.iter_chunks(plan, chunk_rows=1), ignore_index=True)
    assert len(whole) == plan.rows == 9 * len(base.chips)
    assert list(whole.columns) == plan.columns
    # each chunk's reasons are a categorical of that chunk's reasons: chunks that differ in
    # them concatenate to plain text, so compare the text
    text = {"infeasible_reason": object}
    pd.testing.assert_frame_equal(whole.astype(text), small.astype(text))
    assert whole["grid_point"].tolist() == np.repeat(np.arange(9), len(base.chips)).tolist()
    # first key slowest
    assert whole["slo_tpot_ms"].iloc[:: len(base.chips)].tolist() == [30.0] * 3 + [60.0] * 3 + [90.0] * 3


def test_performance_kept_for_the_sweep_equals_per_chunk(base, monkeypatch):
    # operating points and reasons kept per performance-key combination for the whole
    # sweep give the same rows as computing them in every chunk; a grid over economic
    # keys alone runs the performance model once, however many chunks
    specs = ["tpot_ms=30:90:3", "pue=1.1:1.5:3", "utilisation_target=0.5:0.8:2"]
    kept = pd.concat(sw.iter_chunks(sw.plan(base.workload, base.assumptions, base.chips,
                                            [sw.parse_vary(s) for s in specs]), chunk_rows=50), ignore_index=True)
    monkeypatch.setattr(sw, "PERF_CACHE_COMBOS", 0)
    fresh = pd.concat(sw.iter_chunks(sw.plan(base.workload, base.assumptions, base.chips,
                                             [sw.parse_vary(s) for s in specs]), chunk_rows=50), ignore_index=True)
    pd.testing.assert_frame_equal(kept, fresh)
    monkeypatch.setattr(sw, "PERF_CACHE_COMBOS", 4096)
    calls = []
    counted = lambda *a, **k: calls.append(1) or operating_points(*a, **k)  # noqa: E731
    monkeypatch.setattr(sw, "operating_points", counted)
    plan = sw.plan(base.workload, base.assumptions, base.chips,
                   [sw.parse_vary("pue=1.1:1.5:5"), sw.parse_vary("electricity_usd_per_kwh=0.05:0.2:4")])
    chunks = list(sw.iter_chunks(plan, chunk_rows=len(base.chips) * 3))
    assert len(chunks) == 7 and len(calls) == 1


def test_feasible_iff_no_reason(base):
    plan = sw.plan(base.workload, base.assumptions, base.chips, [sw.parse_vary("tpot_ms=5:60:6")])
    frame = pd.concat(sw.iter_chunks(plan), ignore_index=True)
    reasons = frame["infeasible_reason"].astype(str)
    assert (frame["feasible"] == (reasons == "")).all()
    assert reasons.str.startswith("TPOT SLO missed").any()


def test_dense_model_active_params_follow_params(base):
    """Varying params_b of a dense model varies the parameters used per token too."""
    assert base.workload.active_params_b == base.workload.params_b
    plan = sw.plan(base.workload, base.assumptions, base.chips, [sw.parse_vary("params_b=35,70")],
                   ["tokens_per_s_per_accelerator"])
    frame = pd.concat(sw.iter_chunks(plan), ignore_index=True)
    ref = load_inputs(None, sets=["params_b=35", "active_params_b=35"])
    expected = run_compare(ref.workload, ref.assumptions, ref.chips)
    _assert_same(frame[frame["params_b"] == 35.0], expected, ["tokens_per_s_per_accelerator"])


@pytest.mark.parametrize("key", sorted(sw.ECONOMIC_KEYS))
def test_economic_keys_leave_operating_points_alone(base, key):
    """The sweep computes performance once for these keys; that is only right if the
    operating point really does not read them."""
    spec = base.assumptions.specs.get(key)
    if spec is None:
        pytest.skip(f"{key} is not in data/assumptions.toml")
    chips = attach_factors(base.chips)
    w = base.workload
    values = ("colocation", "owned") if key == "facility_model" else (
        ("annuity", "straight_line") if key == "capital_charge" else (spec.low, spec.high))
    points = []
    for value in values:
        scen = scenario_frame(w, base.assumptions, 1).assign(**{key: value})
        points.append(operating_points(w.kind, chips, scen, w.precision, w.kv_precision))
    for name in points[0]:
        np.testing.assert_array_equal(points[0][name], points[1][name], err_msg=f"{key} changes {name}")


@pytest.mark.parametrize("workload", ["support-chatbot-70b", "video-analytics-resnet50", "moe"])
def test_shared_demand_candidates_equal_the_full_evaluation(base, workload, tmp_path):
    """operating_points(share_demand=True) computes each candidate once per distinct row of
    the keys other than fleet.DEMAND_KEYS and sizes every row's fleet from its own traffic: the
    arrays must equal, element for element, those of the evaluation of every row."""
    from inferchip.compare import _distinct_performance
    from inferchip.fleet import DEMAND_KEYS

    if workload == "moe":  # an MoE model (the expert reads depend on the batch: solved by bisection)
        profile = tmp_path / "moe.toml"
        profile.write_text('schema_version = 1\nname = "moe"\nkind = "llm"\n[model]\npreset = "deepseek-r1"\n'
                           'precision = "fp8"\nkv_precision = "fp8"\n[traffic]\nqueries_per_day = 200000\n'
                           'input_tokens = 800\noutput_tokens = 1200\n[slo]\nttft_ms = 3000\ntpot_ms = 80\n',
                           encoding="utf-8")
        inputs = load_inputs(str(profile))
    else:
        inputs = load_inputs(workload)
    w = inputs.workload
    chips = attach_factors(inputs.chips, workload_kind=w.kind)
    bound = "tpot_ms" if w.kind == "llm" else "latency_ms"
    rows = [{bound: b, "queries_per_day": q, "peak_to_average": p, "utilisation_target": u}
            for b in (getattr(w, bound) * 0.5, getattr(w, bound) * 2.0) for q in (1e3, 1e5, 1e8)
            for p in (1.0, 3.0) for u in (0.4, 0.9)]
    scen = scenario_frame(w, inputs.assumptions, len(rows))
    for key in (bound, *DEMAND_KEYS):
        scen[key] = [r[key] for r in rows]
    full = operating_points(w.kind, chips, scen, w.precision, w.kv_precision)
    shared = operating_points(w.kind, chips, scen, w.precision, w.kv_precision, share_demand=True)
    assert full.keys() == shared.keys()
    for name in full:
        left, right = np.asarray(full[name]), np.asarray(shared[name])
        assert left.dtype == right.dtype, name
        np.testing.assert_array_equal(left, right, err_msg=f"share_demand changes {name}")
    first, _ = _distinct_performance(scen)
    assert len(first) == 2  # the two bounds: 24 rows share two sets of candidates
    fleets = np.asarray(full["fleet_accelerators"]).reshape(len(rows), len(chips))
    assert (fleets != fleets[:1]).any()  # each row's own traffic sized its fleet
    if w.kind == "llm":  # and at some traffic a chip picks another parallel size
        chosen = np.asarray(full["n"]).reshape(len(rows), len(chips))
        assert (chosen != chosen[:1]).any()


def test_winners_by_hand(base):
    plan = sw.plan(base.workload, base.assumptions, base.chips,
                   [sw.parse_vary("electricity_usd_per_kwh=0.05,0.3"), sw.parse_vary("tpot_ms=15,60")])
    chunk = pd.concat(sw.iter_chunks(plan), ignore_index=True)
    best = sw.winners(chunk, plan)
    assert list(best.columns) == sw.winner_columns(plan)
    assert len(best) == 4
    for _, row in best.iterrows():
        rows = chunk[chunk["grid_point"] == row["grid_point"]]
        feasible = rows[rows["cost_per_query_usd"].notna()].sort_values("cost_per_query_usd", kind="mergesort")
        assert row["winner"] == feasible["accelerator"].iloc[0]
        assert row["cost_per_query_usd"] == feasible["cost_per_query_usd"].iloc[0]
        assert row["runner_up"] == feasible["accelerator"].iloc[1]
        assert row["runner_up_premium_fraction"] == pytest.approx(
            feasible["cost_per_query_usd"].iloc[1] / feasible["cost_per_query_usd"].iloc[0] - 1)
        assert row["feasible_accelerators"] == len(feasible)


def test_winner_empty_when_nothing_feasible(base):
    plan = sw.plan(base.workload, base.assumptions, base.chips, [sw.parse_vary("tpot_ms=0.01,50")])
    best = sw.winners(pd.concat(sw.iter_chunks(plan), ignore_index=True), plan)
    assert best["winner"].tolist()[0] == "" and math.isnan(best["cost_per_query_usd"].iloc[0])
    assert best["feasible_accelerators"].tolist()[0] == 0 and best["winner"].tolist()[1] != ""


def test_chart_series_holds_other_keys_at_middle(base):
    plan = sw.plan(base.workload, base.assumptions, base.chips,
                   [sw.parse_vary("pue=1.1,1.3,1.5"), sw.parse_vary("electricity_usd_per_kwh=0.05:0.25:5")])
    part = pd.concat([sw.chart_slice(plan, c, "electricity_usd_per_kwh") for c in sw.iter_chunks(plan)])
    series = sw.chart_series(plan, part, "electricity_usd_per_kwh", top=3)
    assert series["held"] == {"pue": 1.3}
    assert series["x"] == pytest.approx([0.05, 0.1, 0.15, 0.2, 0.25])
    assert len(series["series"]) == 3
    for values in series["series"].values():
        assert values == sorted(values)  # dearer power, dearer queries (owned) or flat (rented)


# ---------------------------------------------------------------- the row formatter


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64),
                          st.integers(-10**12, 10**12).map(float)), min_size=1, max_size=40))
def test_row_format_numbers_round_trip(values):
    frame = pd.DataFrame({"x": values, "name": ["=a,b"] * len(values)})
    text = RowFormat(["x", "name"], {"x": "float", "name": "text"}, style="csv").rows(frame)
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == len(values)
    for (cell, name), value in zip(rows, values, strict=True):
        assert name == "'=a,b"
        if math.isfinite(value):
            assert float(cell) == float(f"{value:.10g}")
        else:
            assert cell == ""


def _cell_by_cell(fmt: RowFormat, frame: pd.DataFrame) -> str:
    """The rows as the formatter promises them, one cell at a time (the reference). A
    numeric column with few distinct values renders 0.0 and -0.0 as its first zero
    (pandas counts them as one value), as the formatter always has."""
    zero = {}
    for name in fmt.columns:
        if fmt.kinds[name] in ("int", "float"):
            values = frame[name].to_numpy(dtype=float)
            if len(pd.unique(values)) <= max(64, len(values) // 8) and (values == 0).any():
                zero[name] = values[values == 0][0]
    lines = []
    for _, row in frame.iterrows():
        cells = []
        for name in fmt.columns:
            value, kind = row[name], fmt.kinds[name]
            if kind == "text":
                cells.append(fmt.null if pd.isna(value) else fmt._text(str(value)))
            elif kind == "flag":
                cells.append("true" if value else "false")
            else:
                cells.append(fmt._number(zero[name] if name in zero and value == 0 else float(value), kind))
        if fmt.style == "json":
            lines.append("{" + ",".join(json.dumps(n) + ":" + c for n, c in zip(fmt.columns, cells, strict=True)) + "}")
        else:
            lines.append(fmt.prefix + fmt.delimiter.join(cells) + fmt.suffix)
    return ",\n".join(lines) if fmt.style == "json" else "".join(line + "\n" for line in lines)


TRICKY = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-05, 1e16, 3.0, 0.1 + 0.2, 1e-300, 123456789012.0, -2.5]


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 400), st.integers(1, 40), st.integers(0, 2**32 - 1),
       st.sampled_from(["csv", "tsv", "json", "markdown"]))
def test_row_format_equals_cell_by_cell(rows, block, seed, style):
    # runs (a sweep's slow keys), few-valued numbers, text and flags (merged once per
    # combination) and per-row numbers give exactly the cells rendered one by one
    rng = np.random.default_rng(seed)
    runs = np.repeat(rng.choice(TRICKY + [0.04, 0.2], rows // block + 1), block)[:rows]
    few = rng.choice(TRICKY, rows)
    text = pd.Categorical(rng.choice(["H100 SXM", 'a "q", b', "x\ny", "=sum(1)", ""], rows))
    reason = rng.choice(np.array(["", "TPOT SLO missed: 1,234.5 ms", None, "|pipe|"], dtype=object), rows)
    frame = pd.DataFrame({
        "grid_point": np.repeat(np.arange(rows // block + 1), block)[:rows], "key": runs,
        "chip": text, "ok": rng.random(rows) < 0.5, "count": few,
        "each": np.where(rng.random(rows) < 0.1, np.nan, rng.uniform(-1e6, 1e6, rows) * 10.0 ** rng.integers(-12, 12, rows)),
        "power": rng.choice([1.5, 2.25, np.nan], rows), "reason": reason})
    kinds = column_kinds(frame, int_columns=("grid_point",))
    fmt = RowFormat(list(frame.columns), kinds, style=style)
    assert fmt.rows(frame) == _cell_by_cell(fmt, frame)


def test_row_format_json_and_markdown():
    frame = pd.DataFrame({"n": [1.0, np.nan], "ok": [True, False], "t": ['a "q" | b', "c"]})
    kinds = column_kinds(frame)
    assert kinds == {"n": "float", "ok": "flag", "t": "text"}
    text = RowFormat(["n", "ok", "t"], kinds, style="json").rows(frame)
    assert json.loads("[" + text + "]") == [{"n": 1, "ok": True, "t": 'a "q" | b'}, {"n": None, "ok": False, "t": "c"}]
    md = RowFormat(["n", "ok", "t"], kinds, style="markdown")
    assert md.header() == "| n | ok | t |\n|---:|---|---|\n"
    assert md.rows(frame) == '| 1 | true | a "q" \\| b |\n| - | false | c |\n'


# ---------------------------------------------------------------- CLI


def test_cli_csv_long_format(invoke):
    result = invoke("sweep", "--vary", "electricity_usd_per_kwh=0.05:0.2:4", "--vary", "pue=1.1,1.5",
                    "--format", "csv")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    chips = len(load_inputs(None).chips)
    assert len(rows) == 8 * chips
    assert list(rows[0])[:4] == ["grid_point", "electricity_usd_per_kwh", "pue", "accelerator"]
    assert {r["feasible"] for r in rows} == {"true", "false"}
    assert all((r["cost_per_query_usd"] == "") == (r["feasible"] == "false") for r in rows)


def test_cli_json_document(invoke):
    result = invoke("sweep", "--vary", "tpot_ms=20,50", "--winners", "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["schema_version"] == 1 and doc["command"] == "sweep" and doc["winners_only"] is True
    assert doc["grid"][0]["key"] == "tpot_ms" and doc["grid"][0]["values"] == [20, 50]
    assert doc["grid"][0]["affects"] == "performance and cost"
    assert len(doc["results"]) == 2 and list(doc["results"][0]) == doc["columns"]
    assert all(r["winner"] for r in doc["results"])
    assert "NaN" not in result.stdout


def test_cli_output_file_and_chart(invoke, tmp_path):
    target = tmp_path / "grid.tsv"
    result = invoke("sweep", "--vary", "queries_per_day=1e4:1e7:4:log", "--chart", "--top", "2",
                    "--output", str(target))
    assert result.exit_code == 0, result.stderr
    lines = target.read_text().splitlines()
    assert lines[0].split("\t")[:3] == ["grid_point", "queries_per_day", "accelerator"]
    assert "Cost per query vs queries_per_day" in result.stdout
    assert f"wrote {len(lines) - 1:,} rows to {target}" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["grid.tsv"]


def test_cli_markdown_and_table(invoke):
    md = invoke("sweep", "--vary", "pue=1.1,1.5", "--format", "markdown").stdout
    assert md.startswith("| grid_point | pue | accelerator |")
    table = invoke("sweep", "--vary", "pue=1.1,1.5", "--winners", "--format", "table")
    assert table.exit_code == 0 and "cheapest feasible" in table.stdout


@pytest.mark.parametrize("args, code, message", [
    (["--vary", "electricity=0.1:0.2:2"], 2, "Did you mean 'electricity_usd_per_kwh'"),
    ([], 2, "give at least one --vary"),
    (["--vary", "pue=1.1:1.2:2", "--chart", "--chart-key", "tpot_ms"], 2, "not a varied key"),
    (["--vary", "facility_model=colocation,owned", "--chart"], 2, "--chart: no numeric varied key"),
    (["--vary", "pue=1.1:1.2:2", "--catalog", "/nonexistent.csv"], 3, "not found"),
])
def test_cli_errors(invoke, tmp_path, args, code, message):
    target = tmp_path / "out.csv"
    result = invoke("sweep", *args, "--output", str(target))
    assert result.exit_code == code
    assert message in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == "" and not target.exists()


def test_cli_help_has_example(invoke):
    result = invoke("sweep", "--help")
    assert result.exit_code == 0 and "inferchip sweep --vary" in result.stdout


def test_progress_bar_only_on_a_terminal_and_after_the_delay():
    from inferchip.report.analysis_view import LazyProgress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    shown = Terminal()
    with LazyProgress("sweep", delay_s=0.0, stream=shown) as progress:
        progress(5, 10)
        progress(10, 10)
    assert "sweep" in shown.getvalue()
    piped = io.StringIO()
    with LazyProgress("sweep", delay_s=0.0, stream=piped) as progress:
        progress(10, 10)
    assert piped.getvalue() == ""
    quick = Terminal()
    with LazyProgress("sweep", delay_s=3600.0, stream=quick) as progress:
        progress(10, 10)
    assert quick.getvalue() == ""


def test_cli_all_fields_json_matches_compare(invoke, compare_json):
    """--fields all: every result field, and at the base value each row is compare's row."""
    result = invoke("sweep", "--vary", "pue=1.3", "--fields", "all", "--format", "json")
    assert result.exit_code == 0, result.stderr
    rows = {r["accelerator"]: r for r in json.loads(result.stdout)["results"]}
    for expected in compare_json("--basis", "auto")["results"]:  # sweep rows: one per chip, own else rent
        row = rows[expected["accelerator"]]
        for field, value in expected.items():
            if isinstance(value, float):
                assert row[field] == pytest.approx(value, rel=1e-9), field
            else:
                assert row[field] == value, field


@pytest.mark.parametrize("basis", ["auto", "own", "rent"])
def test_an_evaluation_of_some_columns_equals_those_columns_of_the_full_one(base, basis):
    # a sweep asks evaluate for its fields only (text built only when asked for);
    # every value is as in the full result, whatever the price basis
    chips = attach_factors(base.chips, workload_kind=base.workload.kind)
    scen = scenario_frame(base.workload, base.assumptions, 3).assign(
        electricity_usd_per_kwh=[0.05, 0.1, 0.3], queries_per_day=[1e4, 1e6, 1e8])
    args = (base.workload.kind, chips, scen, base.workload.precision, base.workload.kv_precision)
    full = evaluate(*args, basis=basis)
    wanted = ["price_basis", "feasible", "purchase", "purchase_units", "accelerators_bought", "racks", "capex_usd",
              "annual_tco_usd", "cost_per_query_usd", "avg_power_kw", "price_is_estimate", "purchase_source",
              "infeasible_reason"]
    part = evaluate(*args, basis=basis, columns=wanted)
    pd.testing.assert_frame_equal(part, full[wanted])
    assert set(full["price_basis"]) >= ({"owned", "rented"} if basis == "auto" else set())


def test_a_sweep_of_one_owned_chip(base):
    plan = sw.plan(base.workload, base.assumptions, base.chips[base.chips["name"] == "NVIDIA H100 SXM"],
                   [sw.parse_vary("pue=1.1,1.3")])
    frame = pd.concat(sw.iter_chunks(plan), ignore_index=True)
    assert len(frame) == 2 and frame["feasible"].all() and (frame["cost_per_query_usd"] > 0).all()


@pytest.mark.parametrize("zeros", [(0.0,), (0.0, -0.0), (-0.0,)])
def test_row_format_large_chunks_equal_cell_by_cell(zeros):
    # past the formatter's sample of 2,048 values: per-row columns, and zeros of either sign
    rng = np.random.default_rng(7)
    rows = 5000
    each = rng.uniform(0, 1e3, rows)
    each[::7] = rng.choice(zeros, len(each[::7]))
    frame = pd.DataFrame({"grid_point": np.repeat(np.arange(rows // 50), 50), "each": each,
                          "few": rng.choice([*zeros, 2.5, np.nan], rows), "runs": np.repeat(rng.choice([*zeros, 1.0], 100), 50)})
    kinds = column_kinds(frame, int_columns=("grid_point",))
    fmt = RowFormat(list(frame.columns), kinds, style="csv")
    assert fmt.rows(frame) == _cell_by_cell(fmt, frame)


def test_llm_only_output_spread_keys_are_refused_on_fixed_work():
    inputs = load_inputs("video-analytics-resnet50")
    for spec in ("output_tokens_min=10:20:2", "output_tokens_cv=0.1:0.5:2"):
        with pytest.raises(UsageError, match="does not apply to a fixed workload"):
            sw.plan(inputs.workload, inputs.assumptions, inputs.chips, [sw.parse_vary(spec)])
