"""Calibration support per compare row (inferchip/trust.py): hand-made held-out tables, the rule, the CLI."""

import json

import numpy as np
import pandas as pd
import pytest

from inferchip import trust


def _heldout():
    """Family f (gpu): 4 fitted llm rows, two of them v5.1 (time split) at ratios 1.1 and 0.5;
    family g (gpu): 2 fitted rows, LOO only; family h (npu): 1 row; one vendor claim in f."""
    rows = []

    def add(line, family, chip_kind, loo, time_held, time_ratio, kind="llm", measurement="mlperf", fitted=True):
        common = dict(benchmark_line=line, accelerator="x", model="m", scenario="Offline", kind=kind, family=family,
                      chip_kind=chip_kind, measurement_kind=measurement, fitted=fitted, inputs_digest="d")
        rows.append({**common, "split": "loo", "held_out": True, "ratio": loo})
        rows.append({**common, "split": "time", "held_out": time_held, "ratio": time_ratio})

    add(2, "f", "gpu", 1.05, False, np.nan)
    add(3, "f", "gpu", 0.95, False, np.nan)
    add(4, "f", "gpu", 1.2, True, 1.1)
    add(5, "f", "gpu", 0.6, True, 0.5)
    add(6, "f", "gpu", 9.0, True, 9.0, measurement="vendor-claim", fitted=False)
    add(7, "g", "gpu", 1.1, False, np.nan)
    add(8, "g", "gpu", 0.9, False, np.nan)
    add(9, "h", "npu", 1.5, False, np.nan)
    add(10, "f", "gpu", 1.0, True, 2.0, kind="fixed")
    return pd.DataFrame(rows)


def test_group_support_prefers_the_time_split_and_drops_vendor_claims():
    support = trust.group_support(_heldout(), "llm").set_index("group")
    assert support.loc["family f", "rows"] == 4 and support.loc["family f", "split"] == "time"
    assert support.loc["family f", "error"] == pytest.approx(0.3)  # median of |0.1|, |-0.5|
    assert support.loc["family g", "split"] == "loo" and support.loc["family g", "error"] == pytest.approx(0.1)
    assert support.loc["kind gpu", "rows"] == 6
    assert support.loc["class", "error"] == pytest.approx(0.3) and support.loc["class", "rows"] == 7
    fixed = trust.group_support(_heldout(), "fixed").set_index("group")
    assert fixed.loc["family f", "rows"] == 1 and fixed.loc["family f", "error"] == pytest.approx(1.0)


def test_annotate_rule():
    chips = pd.DataFrame({"name": ["A", "B", "C", "D", "E"],
                          "calibration_source": ["family f: fitted", "family g: fitted", "kind npu: fewer",
                                                 "family f: fitted", "kind lpu: fewer"]})
    results = pd.DataFrame({"accelerator": ["A", "B", "C", "D", "E"],
                            "throughput_source": ["modeled", "modeled", "modeled", "measured", "modeled"]})
    out = trust.annotate(results, chips, "llm", heldout=_heldout()).set_index("accelerator")
    assert out.loc["A", "calibration_scope"] == "family" and out.loc["A", "calibration_rows"] == 4
    assert out.loc["A", "heldout_median_abs_error"] == pytest.approx(0.3)
    assert bool(out.loc["A", "thin_data"])  # 4 rows but 30 % held-out error
    assert out.loc["B", "heldout_split"] == "loo" and bool(out.loc["B", "thin_data"])  # 2 rows
    assert out.loc["C", "calibration_scope"] == "all" and out.loc["C", "calibration_rows"] == 1  # npu: 1 < 4 rows
    assert not bool(out.loc["D", "thin_data"]) and bool(out.loc["D", "measured_anchor"])  # a measurement anchors it
    # a kind with no rows at all: the class-wide time-split error, thin
    assert out.loc["E", "calibration_rows"] == 0 and out.loc["E", "heldout_split"] == "time, all rows of the class"
    assert out.loc["E", "heldout_median_abs_error"] == pytest.approx(0.3) and bool(out.loc["E", "thin_data"])


def test_well_supported_family_is_not_thin():
    held = _heldout()
    held.loc[(held["family"] == "f") & (held["split"] == "time") & (held["ratio"] == 0.5), "ratio"] = 0.9
    chips = pd.DataFrame({"name": ["A"], "calibration_source": ["family f: fitted"]})
    out = trust.annotate(pd.DataFrame({"accelerator": ["A"], "throughput_source": ["modeled"]}), chips, "llm",
                         heldout=held)
    assert out["heldout_median_abs_error"].iloc[0] == pytest.approx(0.1) and not out["thin_data"].iloc[0]


def test_compare_json_carries_trust_fields(compare_json):
    doc = compare_json("support-chatbot-70b")
    for row in doc["results"]:
        for field in trust.TRUST_FIELDS:
            assert field in row
        assert row["calibration_scope"] in (("",) if row["price_basis"] == "api" else ("family", "kind", "all"))
        assert isinstance(row["thin_data"], bool) and isinstance(row["measured_anchor"], bool)
        assert row["measured_anchor"] == (row["throughput_source"] == "measured")
        if row["thin_data"]:
            assert not row["measured_anchor"]
            assert row["calibration_rows"] < trust.THIN_ROWS or not row["heldout_median_abs_error"] <= trust.THIN_ERROR
    hopper = next(r for r in doc["results"] if r["accelerator"] == "NVIDIA H100 SXM")
    assert hopper["calibration_scope"] == "family" and hopper["calibration_rows"] >= 10


def test_table_marks_and_memo_lists_thin_rows(invoke, compare_json):
    doc = compare_json("support-chatbot-70b")
    thin = [r["accelerator"] for r in doc["results"] if r["feasible"] and r["thin_data"]]
    assert thin, "the bundled data leaves some chip family thin"
    table = invoke("compare", "support-chatbot-70b", "--format", "table")
    assert "† Thin data" in table.stdout and thin[0] in table.stdout.split("Thin data", 1)[1]
    memo = invoke("compare", "support-chatbot-70b", "--format", "markdown").stdout
    assert "Thin calibration data" in memo and f"  - {thin[0]}:" in memo


def test_explain_has_the_trust_step(invoke):
    result = invoke("explain", "support-chatbot-70b", "--chip", "NVIDIA H100 SXM", "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    step = next(s for s in doc["steps"] if s["name"] == "heldout_median_abs_error")
    assert step["value"] == pytest.approx(doc["result"]["heldout_median_abs_error"])
