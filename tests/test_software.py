"""Software support (data/software_support.csv): data integrity, --require-framework on
compare and plan, the --weights scores against hand computations, `catalog show`."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from jsonschema import Draft202012Validator

from inferchip import software
from inferchip.catalog import load_catalog
from inferchip.errors import InputError, UsageError
from inferchip.schema import schema_for


@pytest.fixture(scope="module")
def support():
    return software.read_support()


def test_every_catalog_chip_has_a_dated_row_and_every_claim_a_source(support):
    names = set(load_catalog()["name"])
    assert set(support["accelerator"]) == names
    assert support["accelerator"].is_unique
    for row in support.itertuples(index=False):
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row.as_of), row.accelerator
        if row.serving_frameworks:
            assert row.source.startswith("https://"), row.accelerator
            urls = re.findall(r"https://\S+", row.source)
            assert len(urls) >= 1
        else:
            assert row.notes.startswith("unknown"), row.accelerator  # no guess: say so


def test_bad_rows_are_named_by_line(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("accelerator,serving_frameworks,fp8_in_vllm,source,as_of,notes\n"
                    "X,vllm;triton,true,https://a,2026-01-01,\nY,vllm,maybe,,2026-01-01,\n")
    with pytest.raises(InputError) as info:
        software.read_support(path)
    lines = info.value.message.splitlines()
    assert lines[0] == f"{path}:2: serving_frameworks: unknown 'triton'; use vllm, tensorrt-llm, sglang, jax, neuron"
    assert f"{path}:3: source: empty; every confirmed framework needs a source" in lines
    assert any(line.startswith(f"{path}:3: fp8_in_vllm: must be true, false or empty") for line in lines)


def test_weights_parse_and_refuse():
    assert software.parse_weights("cost=0.6, energy=0.2,software=0.2") == {"cost": 0.6, "energy": 0.2, "software": 0.2}
    for text, message in (("price=1", "KEY=WEIGHT with KEY one of cost, energy, software"),
                          ("cost=-1", "--weights cost: the weight must be a number >= 0"),
                          ("cost=0", "at least one weight above 0"), ("cost=1,cost=2", "cost given twice")):
        with pytest.raises(UsageError, match=re.escape(message)):
            software.parse_weights(text)


def test_scores_by_hand():
    frame = pd.DataFrame({
        "accelerator": ["a", "b", "c", "d"], "feasible": [True, True, True, False],
        "price_basis": ["owned", "owned", "api", "owned"],
        "cost_per_query_usd": [2.0, 1.0, 4.0, np.nan], "energy_per_query_j": [10.0, 20.0, np.nan, np.nan],
        "serving_frameworks": ["vllm;sglang", "vllm", "", ""]})
    out = software.score(frame, {"cost": 3.0, "energy": 1.0}).set_index("accelerator")
    assert out.loc["a", "cost_score"] == 0.5 and out.loc["b", "cost_score"] == 1.0 and out.loc["c", "cost_score"] == 0.25
    assert out.loc["a", "energy_score"] == 1.0 and out.loc["b", "energy_score"] == 0.5
    assert out.loc["a", "software_score"] == 1.0 and out.loc["b", "software_score"] == 0.5
    assert np.isnan(out.loc["c", "software_score"])  # an API needs no framework of yours
    assert out.loc["a", "weighted_score"] == pytest.approx((3 * 0.5 + 1 * 1.0) / 4)
    assert out.loc["b", "weighted_score"] == pytest.approx((3 * 1.0 + 1 * 0.5) / 4)
    assert list(out.index) == ["b", "a", "c", "d"]  # highest first; null scores last


def test_compare_weights_echoed_and_valid(invoke):
    result = invoke("compare", "--weights", "cost=0.6,energy=0.2,software=0.2", "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert not list(Draft202012Validator(schema_for("compare")).iter_errors(doc))
    assert doc["weights"]["given"] == {"cost": 0.6, "energy": 0.2, "software": 0.2}
    assert doc["weights"]["normalised"]["cost"] == pytest.approx(0.6)
    scores = [r["weighted_score"] for r in doc["results"] if r["weighted_score"] is not None]
    assert scores == sorted(scores, reverse=True) and len(scores) > 10
    top = doc["results"][0]
    assert top["weighted_score"] == pytest.approx(0.6 * top["cost_score"] + 0.2 * top["energy_score"]
                                                  + 0.2 * top["software_score"], rel=1e-9)


def test_cost_only_weights_keep_the_cost_ranking(compare_json):
    plain = [r["accelerator"] for r in compare_json()["results"] if r["feasible"]]
    weighted = [r["accelerator"] for r in compare_json("--weights", "cost=1")["results"] if r["feasible"]]
    assert weighted == plain


def test_require_framework_filters_compare_and_plan(invoke, support):
    result = invoke("compare", "--require-framework", "tensorrt-llm", "--require-framework", "vllm",
                    "--format", "json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)["results"]
    expected = {r.accelerator for r in support.itertuples() if {"tensorrt-llm", "vllm"}
                <= set(r.serving_frameworks.split(";"))}
    assert {r["accelerator"] for r in rows} == expected
    assert all("tensorrt-llm" in r["serving_frameworks"].split(";") for r in rows)
    plan = invoke("plan", "--require-framework", "neuron", "--years", "1", "--format", "json")
    assert plan.exit_code == 0, plan.stderr
    names = {r["accelerator"] for r in json.loads(plan.stdout)["results"]}
    assert names == {r.accelerator for r in support.itertuples() if "neuron" in r.serving_frameworks.split(";")}
    bad = invoke("compare", "--require-framework", "tensorrt", "--format", "json")
    assert bad.exit_code == 2 and bad.stdout == ""
    assert bad.stderr.startswith("error: --require-framework tensorrt: unknown framework.")


def test_catalog_show_has_software_and_scalability(invoke):
    shown = json.loads(invoke("catalog", "show", "h100 sxm", "--format", "json").stdout)["accelerator"]
    assert "vllm" in shown["serving_frameworks"].split(";") and shown["software_source"].startswith("https://")
    assert shown["smallest_purchase_unit_accelerators"] == 4 and shown["scaleup_domain_accelerators"] == 8
    groq = json.loads(invoke("catalog", "show", "groq lpu", "--format", "json").stdout)["accelerator"]
    assert groq["serving_frameworks"] == "unknown" and groq["fp8_in_vllm"] == "unknown"


def test_columns_take_the_fields_weights_and_frameworks_add(invoke):
    result = invoke("compare", "chatbot-70b-100k", "--weights", "cost=1", "--columns",
                    "serving_frameworks,weighted_score", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    header = result.stdout.splitlines()[0].split(",")
    assert header == ["accelerator", "option", "serving_frameworks", "weighted_score"]
    # without --weights there is no weighted_score to show
    assert invoke("compare", "chatbot-70b-100k", "--columns", "weighted_score").exit_code == 2


@pytest.mark.parametrize("row, unit, accelerators", [
    ({"name": "Nobody X1", "rent_only": False, "devices_per_server": float("nan")},
     "the catalog server (devices_per_server is blank: 1 accelerator)", 1.0),
    ({"name": "Nobody X1", "rent_only": False, "devices_per_server": 4.0}, "the catalog server (devices_per_server)", 4.0),
    ({"name": "Nobody X1", "rent_only": True, "devices_per_server": 8.0}, "one accelerator-hour (rent)", 1.0),
])
def test_smallest_unit_without_a_listed_unit_is_compares_fallback(row, unit, accelerators):
    """What catalog show calls the smallest unit is what compare buys when nothing is listed:
    the catalog server (a blank devices_per_server is 1) to own, one accelerator-hour to rent."""
    facts = software.chip_facts(row)
    assert facts["smallest_purchase_unit"] == unit
    assert facts["smallest_purchase_unit_accelerators"] == accelerators
