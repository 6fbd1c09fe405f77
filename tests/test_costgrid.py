"""inferchip.costgrid: the money-key fast path of `sweep` gives evaluate's numbers bit for
bit on every result field, keeps evaluate for grids it does not cover, and falls back
when a representative's purchase is not the one chosen."""

import numpy as np
import pandas as pd
import pytest

from inferchip import costgrid
from inferchip import sweep as sw
from inferchip.inputs import load_inputs
from inferchip.units import RESULT_FIELDS


@pytest.fixture(scope="module")
def inputs():
    return load_inputs(None)


def _rows(inputs, specs, fields, fast: bool, monkeypatch, chunk_rows=None) -> pd.DataFrame:
    plan = sw.plan(inputs.workload, inputs.assumptions, inputs.chips, [sw.parse_vary(s) for s in specs], fields)
    with monkeypatch.context() as m:
        if not fast:
            m.setattr(costgrid, "covers", lambda sweep: False)
        return pd.concat(sw.iter_chunks(plan, chunk_rows=chunk_rows, prefetch=False), ignore_index=True)


def _assert_bitwise(fast: pd.DataFrame, slow: pd.DataFrame) -> None:
    assert list(fast.columns) == list(slow.columns)
    for column in fast.columns:
        a, b = fast[column].to_numpy(), slow[column].to_numpy()
        assert a.dtype == b.dtype, column
        if a.dtype.kind == "f":  # same bits, or both NaN
            same = (a.view(np.int64) == b.view(np.int64)) | (np.isnan(a) & np.isnan(b))
        else:
            same = pd.Series(a).astype(str).to_numpy() == pd.Series(b).astype(str).to_numpy()
        assert same.all(), f"{column}: {int((~same).sum())} rows differ"


GRIDS = [
    ["electricity_usd_per_kwh=0.04:0.2:5", "pue=1.1:1.6:3", "cost_of_capital=0.0,0.05,0.15", "server_life_years=3:6:4"],
    ["electricity_usd_per_kwh=0.04:0.2:3", "utilisation_target=0.5:0.9:3", "facility_model=colocation,owned"],
    ["cost_of_capital=0.0:0.2:7", "capital_charge=annuity,straight_line", "staff_usd_per_server_year=0,50000"],
    ["queries_per_day=1e4:1e8:5:log", "server_life_years=2:7:3", "tpot_ms=30,80"],
    ["allocation=dedicated,shared", "network_capex_fraction=0,0.5", "facility_build_usd_per_w=5,20",
     "facility_life_years=8,20", "facility_model=owned", "maintenance_fraction_per_year=0,0.2"],
]


@pytest.mark.parametrize("specs", GRIDS)
def test_every_field_bit_for_bit(inputs, specs, monkeypatch):
    real, answers = costgrid.results, []
    monkeypatch.setattr(costgrid, "results", lambda *a: answers.append(real(*a)) or answers[-1])
    fast = _rows(inputs, specs, ["all"], True, monkeypatch, chunk_rows=97)
    assert len(answers) > 1 and all(answer is not None for answer in answers)  # the fast path ran, chunk by chunk
    _assert_bitwise(fast, _rows(inputs, specs, ["all"], False, monkeypatch, chunk_rows=97))
    assert len(fast) and set(RESULT_FIELDS) - {"accelerator"} <= set(fast.columns)


@pytest.mark.parametrize("key", sorted(costgrid.MONEY_KEYS))
def test_each_money_key_alone_bit_for_bit(inputs, key, monkeypatch):
    # a key added to MONEY_KEYS that reaches any field other than the money fields fails here
    choices = {"facility_model": "colocation,owned", "capital_charge": "annuity,straight_line"}
    assumption = inputs.assumptions.specs[key]
    spec = choices.get(key) or f"{assumption.low:.6g},{assumption.high:.6g}"  # the documented range's ends
    specs = [f"{key}={spec}", "utilisation_target=0.5,0.8"]
    _assert_bitwise(_rows(inputs, specs, ["all"], True, monkeypatch), _rows(inputs, specs, ["all"], False, monkeypatch))


def test_random_grids_default_fields(inputs, monkeypatch):
    rng = np.random.default_rng(15)
    keys = {"electricity_usd_per_kwh": (0.0, 0.5), "pue": (1.0, 2.5), "server_life_years": (1.0, 10.0),
            "cost_of_capital": (0.0, 0.3), "staff_usd_per_server_year": (0.0, 1e5),
            "colocation_usd_per_kw_month": (50.0, 400.0), "utilisation_target": (0.3, 1.0)}
    for _ in range(3):
        chosen = rng.choice(list(keys), size=3, replace=False)
        specs = [f"{k}=" + ",".join(f"{v:.6g}" for v in rng.uniform(*keys[k], size=3)) for k in chosen]
        if not any(k in costgrid.MONEY_KEYS for k in chosen):
            specs.append("pue=1.2,1.4")
        _assert_bitwise(_rows(inputs, specs, None, True, monkeypatch),
                        _rows(inputs, specs, None, False, monkeypatch))


def test_fixed_work_workload(monkeypatch):
    inputs = load_inputs("fraud-scoring-bert")
    specs = ["pue=1.1:1.6:4", "maintenance_fraction_per_year=0.0,0.1", "latency_ms=5,20"]
    _assert_bitwise(_rows(inputs, specs, ["all"], True, monkeypatch), _rows(inputs, specs, ["all"], False, monkeypatch))


def test_covers_only_money_grids(inputs):
    plan = lambda *specs: sw.plan(inputs.workload, inputs.assumptions, inputs.chips,  # noqa: E731
                                  [sw.parse_vary(s) for s in specs])
    assert costgrid.covers(plan("pue=1.1,1.3", "tpot_ms=30,60"))
    assert not costgrid.covers(plan("tpot_ms=30,60", "utilisation_target=0.5,0.7"))
    assert not costgrid.covers(plan("pue=1.3", "tpot_ms=30,60"))  # one money value: nothing to share
    assert not costgrid.covers(plan("pue=1.1,1.3", "queries_per_day=1e4:1e8:513:log"))  # too many to keep


def test_money_keys_leave_the_operating_point_alone():
    # the fast path's premise: each money key is an economic key (sweep keeps one operating point)
    assert costgrid.MONEY_KEYS <= sw.ECONOMIC_KEYS
    assert costgrid.MONEY_FIELDS <= set(RESULT_FIELDS)


def test_falls_back_when_the_representative_buys_otherwise(inputs, monkeypatch):
    specs = ["pue=1.1:1.5:3", "cost_of_capital=0.02,0.1"]
    slow = _rows(inputs, specs, ["all"], False, monkeypatch)
    real_choices, real_results = costgrid._choices, costgrid.results

    def other_units(*args):
        chosen = real_choices(*args)
        chosen[..., 1] += 1.0  # a count the representative's evaluate does not reproduce
        return chosen

    answers = []
    monkeypatch.setattr(costgrid, "_choices", other_units)
    monkeypatch.setattr(costgrid, "results", lambda *a: answers.append(real_results(*a)) or answers[-1])
    fast = _rows(inputs, specs, ["all"], True, monkeypatch, chunk_rows=2 * len(inputs.chips))  # 3 chunks
    _assert_bitwise(fast, slow)
    assert answers == [None]  # tried once: the later chunks go straight through evaluate


@pytest.mark.parametrize("bound", [50, 10**7])  # a table of flags, or a sort when the table would be the larger
def test_unique_is_numpys(bound):
    key = np.random.default_rng(bound).integers(0, min(bound, 40), 300)
    want = np.unique(key, return_index=True, return_inverse=True)
    for got, expected in zip(costgrid._unique(key, bound), want, strict=True):
        np.testing.assert_array_equal(got, np.asarray(expected).reshape(-1))
