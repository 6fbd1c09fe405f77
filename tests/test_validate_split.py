"""`validate --split`: fold logic, held-out recovery of known factors, statistics, CLI, the committed cache."""

import json

import numpy as np
import pandas as pd
import pytest
from jsonschema import Draft202012Validator

from inferchip import calibrate, validate
from inferchip import validate_split as vs
from inferchip.assumptions import resolve
from inferchip.calibration import read_calibration
from inferchip.catalog import load_catalog
from inferchip.measured import read_benchmarks


@pytest.fixture(scope="module")
def bundled():
    return read_benchmarks(), load_catalog()


def test_time_split_never_trains_on_a_v51_row(bundled):
    bench, chips = bundled
    frame = validate.validation_frame(bench, chips)
    [(label, held)] = vs.folds(frame, "time")
    train_dates = frame.loc[~held, "date"].astype(str)
    assert (train_dates < "2025").all() and len(train_dates) > 0
    assert (frame.loc[held, "date"].astype(str) >= vs.TIME_SPLIT_DATE).all()
    assert held.sum() == (frame["source"].str.contains("v5.1")).sum() > 0


def test_family_and_benchmark_folds_hold_each_row_out_once(bundled):
    bench, chips = bundled
    frame = validate.validation_frame(bench, chips)
    for split, column in (("family", "family"), ("benchmark", "model")):
        masks = vs.folds(frame, split)
        assert np.array_equal(np.sum([m for _, m in masks], axis=0), np.ones(len(frame)))
        for label, mask in masks:
            assert frame.loc[mask, column].nunique() == 1 and label.endswith(str(frame.loc[mask, column].iloc[0]))


@pytest.fixture
def small_grids(monkeypatch):
    monkeypatch.setattr(calibrate, "COMPUTE_GRID", np.array([0.3, 0.5]))
    monkeypatch.setattr(calibrate, "MEMORY_GRID", np.array([0.6, 0.8]))
    monkeypatch.setattr(calibrate, "ATTENTION_GRID", (0.3,))
    monkeypatch.setattr(calibrate, "LINK_EFFICIENCY_GRID", (0.8,))
    monkeypatch.setattr(calibrate, "HOST_LINK_EFFICIENCY_GRID", (0.2,))
    monkeypatch.setattr(calibrate, "STEP_OVERHEAD_GRID_MS", (2.0,))
    monkeypatch.setattr(calibrate, "SERVER_FACTOR_GRID", np.array([0.9, 1.0]))


def _made_up(bench, chips):
    """The bench rows of two chips from both eras, with throughputs the model makes at
    known factors (compute 0.5, memory 0.8, Server/Interactive x 0.9)."""
    keep = (bench["accelerator"].isin(["NVIDIA H200 SXM", "AMD MI300X"])
            & ~bench["system"].str.contains("MaxQ", case=False)).to_numpy()
    sub = bench[keep].reset_index(drop=True)
    frame = validate.validation_frame(sub, chips)
    truth = frame.assign(compute_efficiency=0.5, memory_efficiency=0.8, attention_efficiency=0.3,
                         link_efficiency=0.8, host_link_efficiency=0.2, step_overhead_ms=2.0,
                         comm_overhead_ms_per_layer=calibrate.COMM_LATENCY_MS_PER_LAYER)
    values = dict(resolve([]).values)
    made = validate.predict(truth, values)["predicted_per_accelerator"].to_numpy()
    made = made * np.where(frame["scenario"].isin(calibrate.SERVER_SCENARIOS), 0.9, 1.0)
    return sub.assign(throughput_per_accelerator=made)[np.isfinite(made)].reset_index(drop=True), values


def test_time_split_recovers_known_factors_on_unseen_rows(bundled, small_grids):
    bench, chips = bundled
    sub, values = _made_up(bench, chips)
    table = vs.run_split(sub, chips, read_calibration(), values, "time")
    later = sub["date"].astype(str).to_numpy() >= vs.TIME_SPLIT_DATE
    assert later.any() and (~later).any()
    assert np.array_equal(table["held_out"].to_numpy(bool), later)
    assert np.allclose(table.loc[later, "ratio"].to_numpy(float), 1.0, atol=1e-9)
    assert table.loc[~later, "predicted_per_accelerator"].isna().all()
    assert (table.loc[~later, "note"] == "training row of this split").all()


def test_family_split_uses_the_kind_factors_for_the_held_out_family(bundled, small_grids):
    bench, chips = bundled
    sub, values = _made_up(bench, chips)
    table = vs.run_split(sub, chips, read_calibration(), values, "family")
    assert table["held_out"].all()
    assert set(table["fold"]) == {"without family amd-cdna3", "without family nvidia-hopper"}
    # one family at the true factors trains the fit that predicts the other: the same factors
    assert np.allclose(table["ratio"].to_numpy(float), 1.0, atol=1e-9)


def test_summary_by_group_never_pools_measurement_kinds():
    table = pd.DataFrame({
        "accelerator": list("abcde"), "model": ["m", "m", "n", "m", "m"], "kind": "llm",
        "scenario": ["Offline", "Server", "Offline", "Offline", "Offline"], "family": "f",
        "measurement_kind": ["mlperf", "mlperf", "mlperf", "vendor-claim", "mlperf"],
        "held_out": [True, True, True, True, False], "log_ratio": np.log([1.1, 0.8, 1.5, 3.0, 9.0])})
    summary = {(s["measurement_kind"], s["group_by"], s["group"]): s for s in vs.summarize_groups(table)}
    mlperf = summary[("mlperf", "class", "all")]
    assert mlperf["rows"] == 3 and mlperf["median_abs_error"] == pytest.approx(0.2)  # |err| .1 .2 .5
    assert mlperf["worst_ratio"] == pytest.approx(1.5) and mlperf["within_25_percent_share"] == pytest.approx(2 / 3)
    assert mlperf["geomean_ratio"] == pytest.approx((1.1 * 0.8 * 1.5) ** (1 / 3))
    assert summary[("mlperf", "model", "m")]["rows"] == 2
    assert summary[("vendor-claim", "class", "all")]["rows"] == 1
    assert summary[("vendor-claim", "class", "all")]["worst_ratio"] == pytest.approx(3.0)


def _small_benchmarks(tmp_path):
    from inferchip.data_files import data_path

    text = data_path("benchmarks.csv").read_text().splitlines(keepends=True)
    keep = [text[0]] + [t for t in text[1:] if t.startswith("AMD MI300X,llama-2-70b")]
    path = tmp_path / "bench.csv"
    path.write_text("".join(keep))
    return path


def test_cli_split_json_validates_against_its_schema(invoke, tmp_path):
    path = _small_benchmarks(tmp_path)
    result = invoke("validate", "--benchmarks", str(path), "--split", "time", "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    Draft202012Validator(vs.json_schema()).validate(doc)
    assert doc["split"] == "time" and doc["time_split_date"] == vs.TIME_SPLIT_DATE
    held = [r for r in doc["rows"] if r["held_out"]]
    assert held and all(r["date"] >= vs.TIME_SPLIT_DATE for r in held)
    assert all(r["predicted_per_accelerator"] is None for r in doc["rows"] if not r["held_out"])
    overall = next(s for s in doc["summary"] if s["group_by"] == "class" and s["group"] == "all")
    assert overall["rows"] == len(held)
    assert "time split" in result.stderr  # progress on stderr, data on stdout


def test_cli_split_none_markdown_and_csv(invoke, tmp_path):
    path = _small_benchmarks(tmp_path)
    md = invoke("validate", "--benchmarks", str(path), "--split", "none", "--format", "markdown")
    assert md.exit_code == 0 and "#### Held-out error: in-sample" in md.stdout
    csv_out = invoke("validate", "--benchmarks", str(path), "--split", "none", "--format", "csv")
    assert csv_out.exit_code == 0 and csv_out.stdout.splitlines()[0].startswith("accelerator,model,kind,scenario")


def test_cli_unknown_split_is_a_one_line_usage_error(invoke):
    result = invoke("validate", "--split", "bogus")
    assert result.exit_code == 2
    assert "--split bogus" in result.stderr and "loo" in result.stderr and "Traceback" not in result.stderr


def test_committed_heldout_file_is_current_and_complete(bundled):
    """data/heldout.csv was computed from today's data files; else `make validate-splits`."""
    heldout = vs.read_heldout()
    assert set(heldout["inputs_digest"]) == {vs.inputs_digest()}, "run `make validate-splits`"
    bench, _ = bundled
    for split in vs.CACHED_SPLITS:
        part = heldout[heldout["split"] == split]
        assert sorted(part["benchmark_line"]) == sorted(bench["benchmark_line"]), split
    time = heldout[(heldout["split"] == "time")].set_index("benchmark_line")
    later = bench.set_index("benchmark_line")["date"].astype(str) >= vs.TIME_SPLIT_DATE
    assert (time.loc[later.index, "held_out"] <= later).all()


def test_heldout_csv_round_trip(tmp_path):
    table = pd.DataFrame({"benchmark_line": [2, 3], "accelerator": ["a", "b"], "model": "m", "scenario": "Offline",
                          "kind": "llm", "family": "f", "chip_kind": "gpu", "measurement_kind": "mlperf",
                          "fitted": True, "held_out": [True, False], "ratio": [1.23456, np.nan],
                          "measured_per_accelerator": [100.0, 50.0]})
    text = vs.heldout_csv_text({"loo": table, "time": table}, "abc")
    path = tmp_path / "h.csv"
    path.write_text(text)
    back = vs.cached_table(table.assign(predicted_per_accelerator=np.nan), vs.read_heldout(path), "loo")
    assert back["ratio"].iloc[0] == pytest.approx(1.235) and back["held_out"].tolist() == [True, False]
    assert back["predicted_per_accelerator"].iloc[0] == pytest.approx(123.5)
