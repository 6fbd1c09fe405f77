"""Power that follows load: formulas, data, and energy per query across volumes."""

from __future__ import annotations

import numpy as np
import pytest

from inferchip import power
from inferchip.assumptions import resolve
from inferchip.catalog import load_catalog
from inferchip.compare import run_compare
from inferchip.errors import InputError
from inferchip.inputs import load_inputs


def test_power_kw_hand_case():
    # 10 kW max, idle 0.3, busy 0.7, load 0.5 -> 10 x (0.3 + 0.4 x 0.5) = 5 kW
    assert power.power_kw(10.0, 0.3, 0.7, 0.5) == pytest.approx(5.0)
    assert power.power_kw(10.0, 0.3, 0.7, 0.0) == pytest.approx(3.0)
    assert power.power_kw(10.0, 0.3, 0.7, 1.0) == pytest.approx(7.0)


def test_work_energy_hand_case():
    # (0.7 - 0.3) x 1.25 kW per accelerator x 2 chips x 1000 / 0.5 q/s x 1.3 = 2,600 J
    assert power.work_energy_per_query_j(1.25, 0.3, 0.7, 2, 0.5, 1.3) == pytest.approx(2600.0)


def test_energy_per_query_hand_case():
    # 2 kW x 1.3 x 1000 x 86,400 / 100,000 = 2,246.4 J
    assert power.energy_per_query_j(2.0, 1.3, 100_000) == pytest.approx(2246.4)


def test_profiles_load_and_name_catalog_chips():
    profiles = power.read_profiles()
    assert set(profiles["accelerator"].str.lower()) <= set(load_catalog()["name"].str.lower())
    assert profiles["power_source"].str.contains("MLPerf").all()
    h200 = profiles.set_index("accelerator").loc["NVIDIA H200 SXM"]
    assert h200["busy_power_fraction"] == pytest.approx(6216.6 / 10_200, abs=1e-3)


def test_bad_profile_rows_are_reported(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("accelerator,busy_power_fraction,idle_power_fraction,source,as_of\n"
                    "X,1.5,,src,2026\nY,0.5,0.6,src,2026\n")
    with pytest.raises(InputError) as err:
        power.read_profiles(path)
    assert "line 2: column 'busy_power_fraction': must be a fraction in (0, 1]" in str(err.value)
    assert "line 3: idle_power_fraction must be below busy_power_fraction" in str(err.value)


def test_default_busy_fraction_is_the_mean_of_the_mlperf_calibrations():
    profiles = power.read_profiles().set_index("accelerator")["busy_power_fraction"]
    mean = (profiles["NVIDIA H200 SXM"] + profiles["NVIDIA B200"]) / 2
    assert resolve([]).values["busy_power_fraction"] == pytest.approx(mean, abs=0.005)


VOLUMES = [10_000 * 2 ** k for k in range(10)] + [10_000_000]


@pytest.fixture(scope="module", params=["auto", "rent"])
def by_volume(request):
    """run_compare per volume on one basis: auto (own, else rent) and rent (the instances the
    provider sells). Per basis, not `best`: a chip whose cheaper basis switches from renting
    small instances to owning a rack as volume grows buys idle capacity with the rack
    (GB200 NVL72 on chatbot-70b-100k: 247 J rented at 2.56 M/day, 861 J owned at 5.12 M)."""
    inputs = load_inputs(None, None, None, None, None)
    frames = {}
    for volume in (*VOLUMES, 100_000, 1_000_000):
        w = inputs.workload
        workload = type(w)(**{**w.__dict__, "queries_per_day": float(volume)})
        frames[volume] = run_compare(workload, inputs.assumptions, inputs.chips,
                                     bases=(request.param,)).set_index("accelerator")
    return frames


@pytest.mark.parametrize("chain", [VOLUMES[:10], [10_000, 100_000, 1_000_000, 10_000_000]])
def test_energy_per_query_never_rises_with_volume(by_volume, chain):
    """Issue 12: energy per query decreases monotonically from 10,000 to 10,000,000 queries/day
    for every chip on each basis (checked along volume chains whose steps are whole multiples: a
    fleet of whole units grows at most in proportion), and never drops below the work's own energy."""
    chips = by_volume[chain[0]].index
    for chip in chips:
        energy = np.array([by_volume[v].loc[chip, "energy_per_query_j"] for v in chain], dtype=float)
        floor = np.array([by_volume[v].loc[chip, "work_energy_per_query_j"] for v in chain], dtype=float)
        known = np.isfinite(energy)
        if known.sum() < 2:
            continue
        e = energy[known]
        assert (np.diff(e) <= 1e-9 * e[:-1]).all(), (chip, e)
        assert (energy[known] >= floor[known] * (1 - 1e-9)).all(), chip


def test_h100_class_energy_at_100k_chatbot(compare_json):
    """Issue 12 done-when: 100,000 q/day, 70B, 600 in / 250 out, TPOT 50 ms: <= 2,500 J per query
    on H100-class hardware."""
    doc = compare_json("--set", "queries_per_day=100000", "--set", "input_tokens=600", "--set", "output_tokens=250")
    rows = {r["accelerator"]: r for r in doc["results"]}
    for chip in ("NVIDIA H100 SXM", "NVIDIA H100 PCIe", "NVIDIA H200 SXM"):
        assert rows[chip]["energy_per_query_j"] <= 2500, chip
