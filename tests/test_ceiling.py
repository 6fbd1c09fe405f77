"""A modeled rate never beats the best rate measured for the same chip, model,
precision and shape (the Offline run, with no latency bound, is the ceiling)."""

import json

from inferchip.measured import read_benchmarks


def _l4_resnet_offline() -> float:
    rows = read_benchmarks()
    pick = rows[(rows["accelerator"] == "NVIDIA L4") & (rows["model"] == "resnet50")]
    return float(pick["throughput_per_accelerator"].max())


def _fast_l4(tmp_path) -> str:
    """A catalog patch giving the L4 efficiencies high enough that the model claims more
    than its measured ResNet-50 Offline rate (the bundled fit does not, since the L4's
    72 W limit derates its clocks)."""
    path = tmp_path / "fast-l4.csv"
    path.write_text("name,compute_efficiency,memory_efficiency\nNVIDIA L4,0.95,0.95\n")
    return str(path)


def test_l4_resnet_is_capped_at_its_measured_offline_rate(compare_json, tmp_path):
    row = next(r for r in compare_json("video-analytics-resnet50", "--extend-catalog", _fast_l4(tmp_path))["results"]
               if r["accelerator"] == "NVIDIA L4")
    assert row["throughput_source"] == "measured"
    assert row["throughput_reference"].startswith("ceiling (the model predicted more than measured): ")
    assert row["queries_per_s_per_accelerator"] == _l4_resnet_offline()
    # 864 M frames/day = 10,000/s; 12,800/s per L4 at 70 % utilisation needs 2
    assert row["accelerators"] == 2


def test_explain_cites_the_ceiling_and_agrees_with_compare(invoke, compare_json, tmp_path):
    patch = _fast_l4(tmp_path)
    row = next(r for r in compare_json("video-analytics-resnet50", "--extend-catalog", patch)["results"]
               if r["accelerator"] == "NVIDIA L4")
    doc = json.loads(invoke("explain", "video-analytics-resnet50", "--chip", "nvidia l4", "--extend-catalog", patch,
                            "--format", "json").stdout)
    steps = {s["name"]: s for s in doc["steps"]}
    assert "caps the modeled rate" in steps["queries_per_s_per_replica_measured"]["description"]
    assert steps["cost_per_query_usd"]["value"] == row["cost_per_query_usd"]


def test_a_slower_model_is_left_alone(compare_json):
    """T4 has no measured ResNet-50 row: its modeled rate stands."""
    row = next(r for r in compare_json("video-analytics-resnet50")["results"] if r["accelerator"] == "NVIDIA T4")
    assert row["throughput_source"] == "modeled" and row["throughput_reference"] == ""
