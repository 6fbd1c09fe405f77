"""`inferchip compare A B ...` / a folder: many workloads, one document (inferchip.many)."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from inferchip import many
from inferchip.schema import schema_for

WORKLOADS = Path(__file__).resolve().parent.parent / "data" / "workloads"
TWO = ("support-chatbot-70b", "chatbot-70b-100k")


def _json(invoke, *args: str) -> dict:
    result = invoke("compare", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("basis", [(), ("--basis", "all")])
def test_several_workloads_give_one_document_whose_rows_equal_each_single_run(invoke, basis):
    """Also across workload classes: fixed work takes its own fitted factors; and on every
    basis (a committed row rents the committed provider's units, as a single run does)."""
    names = (*TWO, "video-analytics-resnet50")
    doc = _json(invoke, *names, *basis)
    assert [w["workload"]["name"] for w in doc["workloads"]] == list(names)
    assert not list(Draft202012Validator(schema_for("compare workloads")).iter_errors(doc))
    for name in names:
        single = _json(invoke, name, *basis)
        rows = [{k: v for k, v in row.items() if k != "workload"} for row in doc["results"] if row["workload"] == name]
        assert rows == single["results"]  # same rows, same ranking, same numbers
        entry = next(w for w in doc["workloads"] if w["workload"]["name"] == name)
        assert entry["workload"] == single["workload"] and entry["assumptions"] == single["assumptions"]
        assert entry["cheapest"] == single["cheapest"]
    assert doc["catalog"] == single["catalog"]


def test_each_workload_keeps_its_own_economics(invoke, tmp_path):
    """A profile's [economics] applies to its own rows only."""
    text = (WORKLOADS / "support-chatbot-70b.toml").read_text(encoding="utf-8")
    text = text.replace('name = "support-chatbot-70b"', 'name = "dear-power"')
    (tmp_path / "dear.toml").write_text(text + "\n[economics]\nelectricity_usd_per_kwh = 0.5\n", encoding="utf-8")
    doc = _json(invoke, "support-chatbot-70b", str(tmp_path / "dear.toml"))
    price = {w["workload"]["name"]: w["assumptions"]["electricity_usd_per_kwh"] for w in doc["workloads"]}
    assert price["dear-power"]["value"] == 0.5 and price["support-chatbot-70b"]["origin"] == "default"
    cost = {(r["workload"], r["accelerator"]): r["annual_energy_usd"] for r in doc["results"]}
    chip = "NVIDIA H100 SXM"
    assert cost[("dear-power", chip)] > cost[("support-chatbot-70b", chip)]


def test_top_and_sort_apply_per_workload_and_csv_leads_with_the_workload(invoke):
    result = invoke("compare", *TWO, "--top", "2", "--format", "csv", "--columns", "cost_per_query_usd,racks")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == ["workload", "accelerator", "option", "cost_per_query_usd", "racks"]
    assert [r["workload"] for r in rows] == [TWO[0], TWO[0], TWO[1], TWO[1]]
    for name in TWO:
        costs = [float(r["cost_per_query_usd"]) for r in rows if r["workload"] == name]
        assert costs == sorted(costs)
    tsv = invoke("compare", *TWO, "--top", "1", "--format", "tsv")
    assert tsv.stdout.splitlines()[0].startswith("workload\taccelerator\t") and len(tsv.stdout.splitlines()) == 3


def test_a_folder_stands_for_its_profiles_in_name_order(invoke, tmp_path):
    for name in ("b-second", "a-first"):
        text = (WORKLOADS / "support-chatbot-70b.toml").read_text(encoding="utf-8")
        (tmp_path / f"{name}.toml").write_text(text.replace('name = "support-chatbot-70b"', f'name = "{name}"'),
                                               encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a profile")
    doc = _json(invoke, str(tmp_path), "--top", "1")
    assert [w["workload"]["name"] for w in doc["workloads"]] == ["a-first", "b-second"]
    assert many.expand([str(tmp_path), "x.toml"]) == [str(tmp_path / "a-first.toml"), str(tmp_path / "b-second.toml"),
                                                      "x.toml"]
    assert many.expand(None) == [None]


def test_markdown_is_one_table_with_a_workload_column(invoke):
    result = invoke("compare", *TWO, "--top", "2", "--format", "markdown")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "# inferchip compare: 2 workloads"
    table = [line for line in lines if line.startswith("| ")]
    assert table[0].startswith("| workload | accelerator | price_basis | feasible | cost_per_query_usd [USD] |")
    assert [row.split(" | ")[0] for row in table[1:]] == [f"| {TWO[0]}"] * 2 + [f"| {TWO[1]}"] * 2


def test_the_table_view_ranks_each_workload_under_its_own_title(invoke):
    result = invoke("compare", *TWO, "--top", "3", "--format", "table")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.index(f"{TWO[0]}: ") < result.stdout.index(f"{TWO[1]}: ")


def test_a_workload_nothing_can_serve_exits_4_after_writing_everything(invoke, tmp_path):
    text = (WORKLOADS / "support-chatbot-70b.toml").read_text(encoding="utf-8")
    text = text.replace('name = "support-chatbot-70b"', 'name = "impossible"').replace("tpot_ms = 50", "tpot_ms = 0.01")
    (tmp_path / "impossible.toml").write_text(text, encoding="utf-8")
    result = invoke("compare", "support-chatbot-70b", str(tmp_path / "impossible.toml"), "--format", "json")
    doc = json.loads(result.stdout)
    assert {r["workload"] for r in doc["results"]} == {"support-chatbot-70b", "impossible"}
    assert not any(r["feasible"] for r in doc["results"]  # API rows do not model latency
                   if r["workload"] == "impossible" and r["price_basis"] != "api")
    assert result.exit_code == 4
    assert result.stderr.startswith("error: no accelerator can serve workload 'impossible' (")
    assert len(result.stderr.splitlines()) == 1  # the servable workload is not named


@pytest.mark.parametrize("args, message", [
    (["--baseline", "NVIDIA H100 SXM"], "error: --baseline takes one workload (2 given); run one compare per workload"),
    (["--fail-if", "racks > 3"], "error: --fail-if takes one workload (2 given); run one compare per workload"),
    (["--weights", "cost=1"], "error: --weights takes one workload (2 given); run one compare per workload"),
])
def test_single_workload_options_are_refused_with_several(invoke, args, message):
    result = invoke("compare", *TWO, *args, "--format", "json")
    assert result.exit_code == 2
    assert result.stderr == message + "\n"


def test_two_profiles_with_one_name_are_refused(invoke, tmp_path):
    shutil.copy(WORKLOADS / "support-chatbot-70b.toml", tmp_path / "copy.toml")
    result = invoke("compare", "support-chatbot-70b", str(tmp_path / "copy.toml"), "--format", "json")
    assert result.exit_code == 2
    assert "are both named 'support-chatbot-70b'" in result.stderr and result.stdout == ""


def test_an_empty_folder_is_not_found(invoke, tmp_path):
    result = invoke("compare", str(tmp_path), "--format", "json")
    assert result.exit_code == 3
    assert "a folder with no workload profile (*.toml) in it" in result.stderr


def test_one_workload_keeps_the_single_document(invoke):
    """One profile (named, or the default) is the plain compare document: no workload column."""
    doc = _json(invoke, "support-chatbot-70b")
    assert "workloads" not in doc and "workload" not in doc["results"][0]


def test_columns_keep_the_row_key_option_with_several_workloads(invoke):
    result = invoke("compare", "fraud-scoring-bert", "support-chatbot-70b", "--basis", "all",
                    "--columns", "cost_per_query_usd", "--format", "csv")
    assert result.exit_code in (0, 4), result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0])[:3] == ["workload", "accelerator", "option"]
    keys = [(r["workload"], r["option"]) for r in rows]
    assert len(keys) == len(set(keys)), "option tells the rows of one chip on several bases apart"


def test_workloads_evaluated_together_equal_each_evaluated_alone(tmp_path):
    """compare.run_compare_many puts workloads of one class, precision and preset into one
    pass of the pipeline (here two 70B profiles, one with its own economics and a tighter
    SLO, and a fixed-work one): every workload's frame equals run_compare's alone, on every basis."""
    import pandas as pd

    from inferchip.compare import run_compare, run_compare_many
    from inferchip.inputs import load_inputs

    tight = tmp_path / "tight.toml"
    text = (WORKLOADS / "chatbot-70b-100k.toml").read_text(encoding="utf-8")
    tight.write_text(text.replace('name = "chatbot-70b-100k"', 'name = "tight"').replace('tpot_ms = 50', 'tpot_ms = 35')
                     + "\n[economics]\nelectricity_usd_per_kwh = 0.31\ncommitted_use_discount = 0.4\n",
                     encoding="utf-8")
    loaded = [load_inputs(p) for p in ("chatbot-70b-100k", "rag-long-context-70b", str(tight),
                                        "fraud-scoring-bert")]
    assert loaded[0].workload.preset == loaded[1].workload.preset == loaded[2].workload.preset
    chips = loaded[0].chips
    for bases in (("best", "api"), ("own", "rent", "commit", "api")):
        together = run_compare_many([(i.workload, i.assumptions) for i in loaded], chips, bases=bases)
        for inputs, frame in zip(loaded, together, strict=True):
            alone = run_compare(inputs.workload, inputs.assumptions, chips, bases=bases)
            pd.testing.assert_frame_equal(frame, alone, check_exact=True)


def test_presets_in_one_pass_match_only_their_own_benchmark_rows(invoke, tmp_path):
    """Two workloads of the MLPerf Llama-2-70B shape and SLO, one of them on another
    preset: evaluated together (run_compare_many groups across presets), the measured
    Llama-2-70B rows stand for the Llama-2-70B workload only, exactly as in single runs."""
    text = (WORKLOADS / "support-chatbot-70b.toml").read_text(encoding="utf-8")
    text = (text.replace("input_tokens = 1000", "input_tokens = 222.3")
            .replace("output_tokens = 300", "output_tokens = 294.45").replace("tpot_ms = 50", "tpot_ms = 200"))
    llama2 = tmp_path / "llama2.toml"
    llama2.write_text(text.replace('name = "support-chatbot-70b"', 'name = "llama2"'), encoding="utf-8")
    llama31 = tmp_path / "llama31.toml"
    llama31.write_text(text.replace('name = "support-chatbot-70b"', 'name = "llama31"')
                       .replace('preset = "llama-2-70b"', 'preset = "llama-3.1-70b"'), encoding="utf-8")
    doc = _json(invoke, str(llama2), str(llama31))
    for path, name in ((llama2, "llama2"), (llama31, "llama31")):
        single = _json(invoke, str(path))
        rows = [{k: v for k, v in row.items() if k != "workload"} for row in doc["results"] if row["workload"] == name]
        assert rows == single["results"]
    sources = {name: {row["throughput_source"] for row in doc["results"] if row["workload"] == name}
               for name in ("llama2", "llama31")}
    assert "measured" in sources["llama2"]  # the shape matches MLPerf's rows: the case is a real test
    assert "measured" not in sources["llama31"]


def test_a_calibration_file_applies_to_every_workload_of_the_call(invoke, tmp_path):
    """--calibration names its file on the chips (attrs) that every pass of the call reads."""
    calibration = tmp_path / "cal.csv"
    shutil.copy(WORKLOADS.parent / "calibration.csv", calibration)
    doc = _json(invoke, *TWO, "--calibration", str(calibration))
    for name in TWO:
        single = _json(invoke, name, "--calibration", str(calibration))
        rows = [{k: v for k, v in row.items() if k != "workload"} for row in doc["results"] if row["workload"] == name]
        assert rows == single["results"]
        assert all(row["calibration_source"].startswith(f"{calibration}: ") for row in rows
                   if row["price_basis"] != "api")
