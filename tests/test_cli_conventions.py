"""Scripting conventions of the CLI (issue 13): output never hides silently, an explicit
--format wins, an unknown suffix is an error, and the small defects a new user trips on."""

from __future__ import annotations

import csv
import io
import json
import re
import shlex

import pytest

from inferchip.report.compare_view import TABLE_COLUMNS


def _note(stdout: str) -> list[str]:
    """The fields named by the 'N column(s) hidden' note under a table ([] when none)."""
    flat = " ".join(stdout.split())
    found = re.search(r"column\(s\) hidden at this width: ([^;]+);", flat)
    return [f.strip() for f in found.group(1).split(",")] if found else []


# --- compare: columns dropped to fit the terminal are named -------------------------------------

def test_narrow_compare_table_names_every_hidden_column(invoke):
    result = invoke("compare", "--format", "table", env={"COLUMNS": "80", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.stderr
    hidden = _note(result.stdout)
    for field in ("cost_per_million_tokens_usd", "avg_power_kw", "energy_per_query_j", "racks"):
        if field not in hidden:  # shown: its header is in the table
            header = dict(TABLE_COLUMNS)[field].split("\n")[0]
            assert header in result.stdout, f"{field} neither shown nor named as hidden"
    assert hidden, "an 80-column table drops columns and must say which"
    assert "use --columns, a wider terminal or a data format" in " ".join(result.stdout.split())


def test_wide_compare_table_has_no_hidden_note(invoke):
    result = invoke("compare", "--format", "table", env={"COLUMNS": "300", "NO_COLOR": "1"})
    assert result.exit_code == 0 and _note(result.stdout) == []


def test_columns_option_picks_the_table_columns(invoke):
    result = invoke("compare", "--format", "table", "--columns",
                    "cost_per_million_tokens_usd,avg_power_kw,energy_per_query_j,racks",
                    env={"COLUMNS": "80", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.stderr
    assert _note(result.stdout) == []
    for header in ("Cost/M", "power", "Energy/", "Racks"):
        assert header in result.stdout
    assert "TCO/year" not in result.stdout


def test_columns_option_picks_csv_columns_and_json_stays_complete(invoke):
    result = invoke("compare", "--format", "csv", "--columns", "racks,cost_per_query_usd")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["accelerator", "racks", "cost_per_query_usd"] and len(rows) > 5
    doc = json.loads(invoke("compare", "--format", "json", "--columns", "racks").stdout)
    assert "annual_tco_usd" in doc["results"][0]


def test_columns_option_rejects_an_unknown_field(invoke):
    result = invoke("compare", "--columns", "cost_per_query_usd,rackz")
    assert result.exit_code == 2
    assert "--columns rackz: unknown field. Did you mean 'racks'?" in result.stderr


# --- --format and --output ---------------------------------------------------------------------

@pytest.mark.parametrize("args", [["compare"], ["explain", "--chip", "l4"], ["sensitivity", "--top", "2"],
                                  ["catalog", "list"], ["assumptions"], ["workloads", "list"]])
def test_explicit_table_format_writes_a_table_to_any_file(invoke, tmp_path, args):
    target = tmp_path / "table.txt"
    result = invoke(*args, "--format", "table", "--output", str(target), env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.stderr
    text = target.read_text(encoding="utf-8")
    assert "┃" in text and "\x1b[" not in text  # a drawn table, no escape codes
    assert not text.startswith("#") and "|---" not in text  # not the Markdown view


def test_explicit_format_wins_over_the_suffix(invoke, tmp_path):
    target = tmp_path / "results.json"
    result = invoke("compare", "--format", "csv", "--output", str(target))
    assert result.exit_code == 0, result.stderr
    assert target.read_text().startswith("accelerator,")


@pytest.mark.parametrize("name", ["report.txt", "report", "report.JSONX"])
def test_unknown_suffix_without_format_is_an_error_listing_the_choices(invoke, tmp_path, name):
    target = tmp_path / name
    result = invoke("compare", "--output", str(target))
    assert result.exit_code == 2
    assert "cannot tell the format from the suffix" in result.stderr
    for choice in (".json", ".csv", ".tsv", ".md", ".xlsx", "--format"):
        assert choice in result.stderr
    assert not target.exists() and result.stdout == ""


def test_unknown_suffix_on_an_analysis_command_does_not_offer_xlsx(invoke, tmp_path):
    result = invoke("sensitivity", "--output", str(tmp_path / "s.txt"))
    assert result.exit_code == 2 and ".csv" in result.stderr and "xlsx" not in result.stderr


# --- assumptions, --set, sensitivity, catalog show, diff, --help -----------------------------------

def test_assumptions_table_shows_origin_at_100_columns(invoke):
    result = invoke("assumptions", "--format", "table", "--set", "pue=1.4", env={"COLUMNS": "100", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.stderr
    header = next(line for line in result.stdout.splitlines() if "key" in line and "value" in line)
    assert "origin" in header
    pue = next(line for line in result.stdout.splitlines() if "│ pue " in line)
    assert "--set" in pue


def test_setting_both_traffic_rates_is_refused(invoke):
    result = invoke("compare", "--set", "queries_per_day=1e6", "--set", "peak_queries_per_s=30")
    assert result.exit_code == 2
    assert "give queries_per_day or peak_queries_per_s, not both" in result.stderr


def test_setting_one_traffic_rate_replaces_the_profiles(compare_json):
    doc = compare_json("--set", "peak_queries_per_s=30")
    assert doc["workload"]["peak_queries_per_s"] == pytest.approx(30)


def test_sensitivity_legend_names_no_colours_under_no_color(invoke):
    result = invoke("sensitivity", "--format", "table", env={"NO_COLOR": "1", "COLUMNS": "120"})
    assert result.exit_code == 0, result.stderr
    assert "cyan" not in result.stdout and "magenta" not in result.stdout
    assert "▒: the assumption at its low end; █: at its high end" in result.stdout


def test_sensitivity_legend_names_colours_when_shown():
    from inferchip.report.analysis_view import tornado_legend

    assert "cyan" in tornado_legend(True) and "cyan" not in tornado_legend(False)


def test_catalog_show_prints_years_without_separator(invoke):
    result = invoke("catalog", "show", "NVIDIA H100 SXM", "--format", "table", env={"COLUMNS": "120"})
    line = next(line for line in result.stdout.splitlines() if "release_year" in line)
    assert re.search(r"\b20\d\d\b", line) and "2,0" not in line


def test_diff_names_the_catalog_once(invoke, tmp_path):
    quotes = tmp_path / "quotes.csv"
    quotes.write_text("name,server_price_usd\nIntel Gaudi 3,150000\n")
    before, after = tmp_path / "before.json", tmp_path / "after.json"
    assert invoke("compare", "--output", str(before)).exit_code == 0
    assert invoke("compare", "--extend-catalog", str(quotes), "--output", str(after)).exit_code == 0
    result = invoke("diff", str(before), str(after), "--format", "table", env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    assert "catalog catalog" not in result.stdout and "inferchip_version inferchip_version" not in result.stdout
    assert "catalog: bundled (catalog.csv) -> bundled (catalog.csv) + " in result.stdout


def test_compare_help_examples_run_outside_the_repository(invoke, tmp_path, monkeypatch):
    """Every example in `compare --help`, run from an empty folder holding only the
    files the examples name (a profile written by `workloads init`)."""
    import typer

    from inferchip.cli import app

    monkeypatch.chdir(tmp_path)
    assert invoke("workloads", "init", "my.toml").exit_code == 0
    command = typer.main.get_command(app).commands["compare"]
    examples = [line.strip() for line in command.help.splitlines() if line.strip().startswith("inferchip compare")]
    assert len(examples) >= 5
    for example in examples:
        args = shlex.split(example)[1:]
        result = invoke(*args)
        assert result.exit_code in (0, 6), f"{example}: {result.stderr}"  # 6: a --fail-if gate held
