"""Disaggregated serving (inferchip.disagg): formulas by hand, the choice rule, and the pipeline."""

import json

import numpy as np
import pytest

from inferchip import disagg


def test_combined_rate_and_pool_share_by_hand():
    # 400 ms of prompt work and 250 output tokens at 1,000 tokens/s of decoding per replica:
    # 0.4 s + 0.25 s per query -> 1 / 0.65 q/s; the prefill pool holds 0.4 / 0.65 of the chips
    qps = disagg.combined_qps(400.0, 250.0, 1000.0)
    assert qps == pytest.approx(1 / 0.65)
    assert disagg.prefill_pool_share(400.0, qps) == pytest.approx(0.4 / 0.65)


def test_kv_transfer_by_hand_and_unknown_link():
    # 320 KB per token x 2,000 tokens over 400 GB/s = 1.6 ms
    assert disagg.kv_transfer_ms(320e3, 2000.0, 400e9) == pytest.approx(1.6)
    assert disagg.kv_transfer_ms(320e3, 2000.0, np.nan) == 0.0


def test_choice_rule():
    mode = np.array(["disaggregated", "auto", "auto", "auto", "aggregated"], dtype=object)
    feasible = np.array([True, True, True, False, True])
    q_dis = np.array([1.0, 2.0, 1.0, 9.0, 9.0])
    q_agg = np.array([5.0, 1.0, 3.0, 1.0, 1.0])
    ok_agg = np.array([True, True, True, True, True])
    assert disagg.choose(mode, feasible, q_dis, q_agg, ok_agg).tolist() == [True, True, False, False, False]
    # auto takes the feasible pools when aggregated meets no bound at all
    assert disagg.choose(np.array(["auto"], dtype=object), np.array([True]), np.array([0.1]),
                         np.array([np.nan]), np.array([False])).tolist() == [True]


def _rows(invoke, *args):
    result = invoke("compare", "rag-long-context-70b", "--format", "json", *args)
    assert result.exit_code in (0, 4), result.stderr
    return {r["accelerator"]: r for r in json.loads(result.stdout)["results"] if r["price_basis"] != "api"}


def test_disaggregated_rows_state_their_pools_and_meet_the_slo(invoke):
    rows = _rows(invoke, "--set", "serving_mode=disaggregated")
    doc_slo = json.loads(invoke("compare", "rag-long-context-70b", "--format", "json").stdout)["workload"]
    pools = [r for r in rows.values() if r["serving_mode"] == "disaggregated"]
    assert len(pools) >= 5
    for r in pools:
        assert 0 < r["prefill_pool_share"] < 1
        assert r["meets_slo"]
    tpot_bound = doc_slo.get("tpot_ms") or doc_slo.get("slo", {}).get("tpot_ms")
    if tpot_bound:
        assert all(r["tpot_ms"] <= tpot_bound + 1e-6 for r in pools)


def test_auto_never_needs_more_accelerators_than_aggregated(invoke):
    """Per candidate size auto serves at least aggregated's queries per replica, so the
    fewest-accelerator candidate it picks never needs more accelerators."""
    agg, auto = _rows(invoke), _rows(invoke, "--set", "serving_mode=auto")
    compared = 0
    for name, a in agg.items():
        b = auto.get(name)
        if not b or not a["feasible"] or not b["feasible"] or a["throughput_source"] != "modeled":
            continue
        compared += 1
        assert a["serving_mode"] == "aggregated"
        assert b["accelerators_used"] <= a["accelerators_used"], name
    assert compared >= 5
    # long prompts under a tight TPOT: the pools win somewhere
    assert any(r["serving_mode"] == "disaggregated" for r in auto.values())


def test_validate_always_predicts_aggregated_serving(invoke):
    base = json.loads(invoke("validate", "--format", "json").stdout)["rows"]
    forced = json.loads(invoke("validate", "--format", "json", "--set", "serving_mode=auto").stdout)["rows"]
    assert [r["predicted_per_accelerator"] for r in base] == [r["predicted_per_accelerator"] for r in forced]


def test_bad_serving_mode_is_a_one_line_error(invoke):
    result = invoke("compare", "rag-long-context-70b", "--set", "serving_mode=split")
    assert result.exit_code == 2
    assert "serving_mode" in result.stderr and "Traceback" not in result.stderr
