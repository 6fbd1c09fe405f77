"""`inferchip compare` through CliRunner, parsing its JSON."""

import csv
import io
import json
import subprocess
import sys

import pytest

from inferchip.units import RESULT_FIELDS

CONTRACT_FIELDS = """accelerator vendor feasible infeasible_reason throughput_source precision_used
chips_per_replica batch_size replicas accelerators servers racks ttft_ms tpot_ms latency_ms meets_slo
tokens_per_s_per_accelerator queries_per_s_per_accelerator capex_usd annual_capex_usd annual_energy_usd
annual_opex_usd annual_tco_usd cost_per_query_usd cost_per_million_tokens_usd cloud_cost_per_query_usd
avg_power_kw facility_power_kw energy_per_query_j kw_per_rack accelerators_per_rack queries_per_s_per_rack""".split()


def test_default_workload_contract(compare_json):
    doc = compare_json()
    assert doc["schema_version"] == 2
    assert doc["workload"]["name"] == "support-chatbot-70b"
    assert set(doc["assumptions"]) >= {"electricity_usd_per_kwh", "pue"}
    rows = doc["results"]
    assert len(rows) >= 25
    for row in rows:
        assert set(CONTRACT_FIELDS) <= set(row)
        assert row["throughput_source"] in ("modeled", "measured", "api")
        assert row["feasible"] == (row["infeasible_reason"] == "")
    feasible = [r for r in rows if r["feasible"]]
    assert len(feasible) >= 5
    costs = [r["cost_per_query_usd"] for r in feasible]
    assert costs == sorted(costs), "cheapest feasible first"
    assert rows[: len(feasible)] == feasible, "infeasible rows come last"


def test_json_has_no_nan_and_is_deterministic(invoke):
    first = invoke("compare", "--format", "json").stdout
    second = invoke("compare", "--format", "json").stdout
    assert first == second
    assert "NaN" not in first and "Infinity" not in first


def test_set_overrides_show_in_assumptions_and_change_cost(compare_json):
    base = {r["accelerator"]: r for r in compare_json()["results"]}
    doc = compare_json("--set", "electricity_usd_per_kwh=0.30", "--set", "pue=1.5")
    assert doc["assumptions"]["pue"] == {**doc["assumptions"]["pue"], "value": 1.5, "origin": "--set"}
    owned = [r for r in doc["results"] if r["price_basis"] == "owned" and r["feasible"]]
    assert owned
    for row in owned:
        assert row["annual_energy_usd"] > base[row["accelerator"]]["annual_energy_usd"]


def test_sort_and_top(compare_json):
    rows = compare_json("--sort", "energy_per_query_j", "--top", "3")["results"]
    assert len(rows) == 3
    values = [r["energy_per_query_j"] for r in rows]
    assert values == sorted(values)


def test_sort_higher_is_better_metric(compare_json):
    rows = [r for r in compare_json("--sort", "tokens_per_s_per_accelerator")["results"] if r["feasible"]]
    values = [r["tokens_per_s_per_accelerator"] for r in rows if r["price_basis"] != "api"]
    assert values == sorted(values, reverse=True)
    # an API row has no hardware speed: it follows every feasible chip
    assert [r["price_basis"] for r in rows[len(values):]] == ["api"] * (len(rows) - len(values))


def test_unknown_sort_field(invoke):
    result = invoke("compare", "--sort", "cost_per_querry_usd", "--format", "json")
    assert result.exit_code == 2
    assert "Did you mean 'cost_per_query_usd'" in result.stderr
    assert result.stdout == ""


def test_unknown_set_key(invoke):
    result = invoke("compare", "--set", "electricity=0.1")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --set electricity: unknown key.")


def test_bad_set_value_names_key(invoke):
    result = invoke("compare", "--set", "pue=0.5")
    assert result.exit_code == 2
    assert "'pue' must be >= 1" in result.stderr


def test_csv_and_tsv_formats(invoke):
    out = invoke("compare", "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows and set(CONTRACT_FIELDS) <= set(rows[0])
    tsv = invoke("compare", "--format", "tsv").stdout
    assert tsv.splitlines()[0].split("\t")[0] == "accelerator"


def test_markdown_memo(invoke):
    out = invoke("compare", "--format", "markdown").stdout
    assert out.startswith("# Inference hardware comparison: support-chatbot-70b")
    assert "## Assumptions" in out and "| pue |" in out


def test_output_file_written_atomically(invoke, tmp_path):
    target = tmp_path / "results.csv"
    result = invoke("compare", "--format", "csv", "--output", str(target))
    assert result.exit_code == 0 and result.stdout == ""
    assert target.read_text().startswith("accelerator,")
    assert [p.name for p in tmp_path.iterdir()] == ["results.csv"]


def test_output_into_missing_folder_fails_cleanly(invoke, tmp_path):
    result = invoke("compare", "--format", "csv", "--output", str(tmp_path / "nope" / "r.csv"))
    assert result.exit_code == 5
    assert "does not exist" in result.stderr


def test_bad_input_leaves_no_output_file(invoke, tmp_path):
    target = tmp_path / "r.json"
    result = invoke("compare", "--set", "pue=zero", "--output", str(target))
    assert result.exit_code == 2 and not target.exists()


def test_assumptions_file(invoke, tmp_path, compare_json):
    site = tmp_path / "site.toml"
    site.write_text("electricity_usd_per_kwh = 0.15\nserver_life_years = 4\n")
    doc = compare_json("--assumptions", str(site))
    assert doc["assumptions"]["server_life_years"]["value"] == 4
    assert doc["assumptions"]["server_life_years"]["origin"] == str(site)


def test_fixed_workload(compare_json):
    doc = compare_json("video-analytics-resnet50")
    feasible = [r for r in doc["results"] if r["feasible"]]
    assert feasible
    assert all(r["latency_ms"] <= 50 for r in feasible)
    assert all(r["cost_per_million_tokens_usd"] is None for r in doc["results"])


def test_every_bundled_workload_runs(invoke):
    from inferchip.data_files import bundled_workloads

    for name in bundled_workloads():
        result = invoke("compare", name, "--format", "json")
        assert result.exit_code == 0, (name, result.stderr)


def test_fraud_scoring_bert_runs(invoke):
    # fixed work has its own fitted step overhead (calibrate.FIXED_STEP_OVERHEAD_GRID_MS): the
    # 5 ms BERT latency is met again (an LLM-sized 3 ms overhead made 2 x 3 ms > 5 ms)
    result = invoke("compare", "fraud-scoring-bert", "--format", "json")
    assert result.exit_code == 0
    assert any(r["feasible"] for r in json.loads(result.stdout)["results"])


def test_every_command_has_help(invoke):
    for args in (["--help"], ["compare", "--help"], ["catalog", "--help"], ["catalog", "list", "--help"],
                 ["catalog", "show", "--help"], ["catalog", "validate", "--help"], ["workloads", "--help"],
                 ["workloads", "list", "--help"], ["workloads", "show", "--help"], ["workloads", "init", "--help"]):
        result = invoke(*args)
        assert result.exit_code == 0, args
        assert "Usage" in result.stdout


def test_help_does_not_import_pandas():
    code = "import sys; from inferchip.cli import app; assert 'pandas' not in sys.modules, 'pandas imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_result_fields_have_units_in_names():
    for name, field in RESULT_FIELDS.items():
        if field.unit in ("USD", "USD/year"):
            assert name.endswith("_usd"), name
        if field.unit == "ms":
            assert name.endswith("_ms"), name


@pytest.mark.parametrize("args", [["workloads", "list", "--format", "json"], ["catalog", "list", "--format", "json"]])
def test_list_commands_json(invoke, args):
    result = invoke(*args)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["rows"]


def test_docs_document_every_result_field():
    from pathlib import Path

    page = (Path(__file__).resolve().parent.parent / "docs" / "method.md").read_text()
    table = page[page.index("## Result fields"):]
    for name, field in RESULT_FIELDS.items():
        assert f"| `{name}` | {field.unit or '-'} |" in table, name


def test_no_feasible_accelerator_exits_4_after_writing_the_reasons(invoke, tmp_path):
    profile = tmp_path / "impossible.toml"
    profile.write_text('schema_version = 1\nname = "impossible"\nkind = "llm"\n[model]\npreset = "llama-3.1-405b"\n'
                       "[traffic]\nqueries_per_day = 1000\ninput_tokens = 100\noutput_tokens = 100\n"
                       "[slo]\ntpot_ms = 0.05\n")  # 50 us: below even a wafer-scale pipeline's per-layer latency
    result = invoke("compare", str(profile), "--format", "json")
    assert result.exit_code == 4
    assert result.stderr.startswith("error: no accelerator can serve workload 'impossible' (TPOT SLO missed (")
    rows = json.loads(result.stdout)["results"]
    chips = [r for r in rows if r["price_basis"] != "api"]
    assert chips and not any(r["feasible"] for r in chips)
    # per-token APIs price a 405B model, but their latency is not modelled: they never make a
    # workload servable
    assert any(r["price_basis"] == "api" for r in rows)


@pytest.mark.parametrize("width", ["80", "120", "200"])
def test_table_fits_the_terminal_without_truncated_cells(invoke, width):
    result = invoke("compare", "--format", "table", env={"COLUMNS": width})
    assert result.exit_code == 0
    results_table = result.stdout.split("Not feasible")[0]
    assert "Intel Gaudi 3" in results_table or "NVIDIA H100 SXM" in results_table
    assert "…" not in results_table, results_table
    assert max(len(line) for line in results_table.splitlines()) <= int(width)


def test_bracketed_text_survives_terminal_tables(invoke):
    """Rich markup is off for data: '[economics]' and '[bytes]' print as written."""
    result = invoke("assumptions", "--format", "table", env={"COLUMNS": "200"})
    assert "[economics]" in result.stdout
    result = invoke("explain", "--chip", "h100 sxm", "--format", "table", env={"COLUMNS": "250"})
    assert "per token [bytes]" in result.stdout


def test_no_color_means_no_escape_codes():
    import os

    from inferchip.report.console import make_console

    buffer = io.StringIO()
    old = os.environ.get("NO_COLOR")
    os.environ["NO_COLOR"] = "1"
    try:
        console = make_console(buffer)
        console._force_terminal = True  # as on a real terminal
        from rich.text import Text

        console.print(Text("dim note", style="dim bold"))
    finally:
        if old is None:
            del os.environ["NO_COLOR"]
        else:
            os.environ["NO_COLOR"] = old
    assert "\x1b[" not in buffer.getvalue()
