"""Fitting: group selection by hand, recovery of known factors, determinism, the CSV."""

import io

import numpy as np
import pandas as pd
import pytest

from inferchip import calibrate, validate
from inferchip.assumptions import resolve
from inferchip.calibration import FACTORS, attach_factors, read_calibration
from inferchip.catalog import load_catalog
from inferchip.measured import read_benchmarks


def _groups(families, kinds):
    frame = pd.DataFrame({"family": families, "chip_kind": kinds})
    return calibrate.Groups.of(frame)


def _trials():
    return calibrate.Trials(np.array([0.2, 0.4, 0.2, 0.4]), np.array([0.6, 0.6, 0.8, 0.8]))


def test_fit_groups_thresholds_by_hand(monkeypatch):
    monkeypatch.setattr(calibrate, "PRIOR_WEIGHT", 0.0)
    trials = _trials()
    # rows 0-3: family "big" (4 rows, both factors); row 4: family "small" (1 row: uses its kind)
    groups = _groups(["big"] * 4 + ["small"], ["gpu"] * 5)
    loss = np.full((4, 5), 1.0)
    loss[3, :4] = 0.0  # "big" is best at trial 3 (0.4, 0.8)
    loss[0, 4] = 0.0  # the lone "small" row would like trial 0, but one row gets no own fit
    fit = np.ones(5, dtype=bool)
    result = calibrate.fit_groups(loss, fit, groups, trials)
    assert result.family.tolist() == [3, -1]
    assert result.kind.tolist() == [3]  # the gpu kind (5 rows) is best at trial 3 too: 1 vs 4
    assert result.row_trial.tolist() == [3, 3, 3, 3, 3]
    assert result.loss == pytest.approx(1.0)


def test_two_row_family_fits_compute_only(monkeypatch):
    monkeypatch.setattr(calibrate, "PRIOR_WEIGHT", 0.0)
    trials = _trials()
    groups = _groups(["big"] * 4 + ["pair"] * 2, ["gpu"] * 6)
    loss = np.full((4, 6), 1.0)
    loss[2, :4] = 0.0  # kind and "big" prefer (0.2, 0.8)
    loss[1, 4:] = 0.0  # "pair" would like (0.4, 0.6) but must keep its kind's memory 0.8
    loss[3, 4:] = 0.5  # ... so it takes (0.4, 0.8)
    result = calibrate.fit_groups(loss, np.ones(6, dtype=bool), groups, trials)
    assert result.family.tolist() == [2, 3]
    # leaving one "pair" row out: one row left, the family falls back to its kind
    without = np.array([True] * 5 + [False])
    assert calibrate.fit_groups(loss, without, groups, trials).row_trial[5] == 2


@pytest.fixture(scope="module")
def frame():
    chips = load_catalog()
    full = validate.validation_frame(read_benchmarks(), chips)
    keep = (full["accelerator"].isin(["NVIDIA H100 SXM", "AMD MI300X", "NVIDIA L40S"]) & ~calibrate.power_capped(full)
            & (full["date"] < "2025"))  # the v4.x rows: a small, fast fit
    return full[keep].reset_index(drop=True)


@pytest.fixture
def small_grids(monkeypatch):
    monkeypatch.setattr(calibrate, "COMPUTE_GRID", np.array([0.3, 0.4, 0.5]))
    monkeypatch.setattr(calibrate, "MEMORY_GRID", np.array([0.6, 0.8]))
    monkeypatch.setattr(calibrate, "ATTENTION_GRID", (0.3, 0.5))
    monkeypatch.setattr(calibrate, "LINK_EFFICIENCY_GRID", (0.8,))
    monkeypatch.setattr(calibrate, "HOST_LINK_EFFICIENCY_GRID", (0.2, 0.3))
    monkeypatch.setattr(calibrate, "STEP_OVERHEAD_GRID_MS", (2.0,))
    monkeypatch.setattr(calibrate, "SERVER_FACTOR_GRID", np.array([0.9, 1.0]))


def test_recovers_known_factors(frame, small_grids):
    """Measurements made by the model itself at known factors are fitted back exactly."""
    values = dict(resolve([]).values)
    truth = frame.assign(compute_efficiency=np.where(frame["family"] == "amd-cdna3", 0.3, 0.5),
                         memory_efficiency=0.8, attention_efficiency=0.3, link_efficiency=0.8,
                         host_link_efficiency=0.2,
                         step_overhead_ms=2.0, comm_overhead_ms_per_layer=calibrate.COMM_LATENCY_MS_PER_LAYER)
    made_up = validate.predict(truth, values)["predicted_per_accelerator"].to_numpy()
    made_up = made_up * np.where(frame["scenario"] == "Server", 0.9, 1.0)
    result = calibrate.run(frame.assign(throughput_per_accelerator=made_up), values, leave_one_out=False)
    assert np.allclose(result.rows["log_ratio"], 0.0, atol=1e-9)
    assert result.server_factor == 0.9 and result.shared.attention_efficiency == 0.3
    assert result.shared.host_link_efficiency == 0.2  # L40S on PCIe pins it
    fam = result.factors.set_index(["scope", "key", "workload"])
    assert fam.loc[("family", "amd-cdna3", "llm"), "compute_efficiency"] == 0.3
    assert fam.loc[("family", "nvidia-hopper", "llm"), "compute_efficiency"] == 0.5
    assert fam.loc[("family", "nvidia-hopper", "fixed"), "compute_efficiency"] == 0.5
    assert fam.loc[("family", "nvidia-hopper", "fixed"), "step_overhead_ms"] == 2.0


def test_workload_classes_are_fitted_apart(frame, small_grids):
    """LLM and fixed-work rows get their own factors: fixed rows measured 2x faster than the
    model says move the fixed-work efficiency (and its step overhead) and leave the llm fit alone."""
    values = dict(resolve([]).values)
    truth = frame.assign(compute_efficiency=0.5, memory_efficiency=0.8, attention_efficiency=0.3,
                         link_efficiency=0.8, host_link_efficiency=0.2, step_overhead_ms=2.0,
                         comm_overhead_ms_per_layer=calibrate.COMM_LATENCY_MS_PER_LAYER)
    made_up = validate.predict(truth, values)["predicted_per_accelerator"].to_numpy()
    base = calibrate.run(frame.assign(throughput_per_accelerator=made_up), values, leave_one_out=False)
    faster = made_up * np.where(frame["kind"] == "fixed", 2.0, 1.0)
    moved = calibrate.run(frame.assign(throughput_per_accelerator=faster), values, leave_one_out=False)
    key = ["scope", "key", "workload"]
    b, m = base.factors.set_index(key), moved.factors.set_index(key)
    llm = [i for i in b.index if i[2] == "llm" and i[0] in ("family", "kind")]
    assert np.allclose(b.loc[llm, "compute_efficiency"], m.loc[llm, "compute_efficiency"])
    fixed = ("family", "nvidia-hopper", "fixed")
    assert m.loc[fixed, "compute_efficiency"] > b.loc[fixed, "compute_efficiency"] or \
        m.loc[fixed, "step_overhead_ms"] < b.loc[fixed, "step_overhead_ms"]
    # attach_factors picks the class's rows
    chips = pd.DataFrame({"name": ["x"], "family": ["nvidia-hopper"], "kind": ["gpu"]})
    as_fixed = attach_factors(chips, moved.factors, "fixed")
    assert as_fixed["compute_efficiency"].iloc[0] == m.loc[fixed, "compute_efficiency"]
    assert "fixed rows only" in as_fixed["calibration_source"].iloc[0]


def test_fit_is_deterministic_and_loo_is_no_better_than_in_sample(frame, small_grids):
    values = dict(resolve([]).values)
    first = calibrate.run(frame, values)
    second = calibrate.run(frame, values)
    assert calibrate.to_csv_text(first.factors) == calibrate.to_csv_text(second.factors)
    fitted = first.rows[first.rows["fitted"]]
    assert (np.abs(fitted["loo_log_ratio"]).sum() >= np.abs(fitted["log_ratio"]).sum() - 1e-9)


def test_csv_round_trip_feeds_attach_factors(frame, small_grids):
    result = calibrate.run(frame, dict(resolve([]).values), leave_one_out=False)
    table = pd.read_csv(io.StringIO(calibrate.to_csv_text(result.factors)))
    chips = pd.DataFrame({"name": ["x", "y"], "family": ["nvidia-hopper", "nobody"], "kind": ["gpu", "gpu"]})
    with_factors = attach_factors(chips, table)
    for factor in FACTORS:
        assert with_factors[factor].notna().all(), factor
    assert with_factors["calibration_source"].iloc[0].startswith("family nvidia-hopper: fitted")
    assert with_factors["calibration_source"].iloc[1].startswith("kind gpu: fitted")


def test_committed_calibration_is_sourced_and_physical():
    table = read_calibration()
    assert (table["source"].str.len() > 20).all()
    factors = table[table["scope"].isin(["family", "kind"])]
    for column in ("compute_efficiency", "memory_efficiency", "attention_efficiency", "link_efficiency",
                   "host_link_efficiency"):
        assert factors[column].between(0.01, 1.0).all(), column
    assert factors["step_overhead_ms"].between(0, 20).all()
    assert set(table.loc[table["scope"] == "fit", "key"]) == {"llm", "fixed", "all"}
    assert table["loo_median_abs_error"].dropna().ge(0).all()
