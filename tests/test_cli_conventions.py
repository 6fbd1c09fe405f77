"""Scripting conventions of the CLI (issue 13): output never hides silently, an explicit
--format wins, an unknown suffix is an error, and the small defects a new user trips on."""

from __future__ import annotations

import csv
import io
import json
import re

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
    for field in ("cost_per_million_tokens_blended_usd", "avg_power_kw", "energy_per_query_j", "racks"):
        if field not in hidden:  # shown: its header is in the table
            header = dict(TABLE_COLUMNS)[field].split("\n")[0]
            assert header in result.stdout, f"{field} neither shown nor named as hidden"
    assert hidden, "an 80-column table drops columns and must say which"
    assert "use --columns, a wider terminal or a data format" in " ".join(result.stdout.split())


@pytest.mark.parametrize("args", [(), ("fraud-scoring-bert", "--basis", "all"), ("--baseline", "NVIDIA H100 SXM")])
def test_table_drops_the_fewest_columns_that_fit(invoke, args):
    # the bisection in render_table against the definition: drop in DROP_ORDER, one at a time, until it fits
    from rich.console import Console

    from inferchip.report import compare_view

    doc = json.loads(invoke("compare", *args, "--format", "json").stdout)
    feasible = [row for row in doc["results"] if row["feasible"]]
    for width in range(40, 221, 9):
        console = Console(file=io.StringIO(), width=width, color_system=None)
        compare_view.render_table(doc, console)
        columns, expected = compare_view._columns(doc), []
        for field in compare_view.DROP_ORDER:
            table = compare_view._results_table(doc, columns, feasible)
            if console.measure(table, options=console.options.update(width=100_000)).maximum <= width:
                break
            expected += [field] if any(f == field for f, _ in columns) else []
            columns = [(f, h) for f, h in columns if f != field]
        order = [f for f, _ in compare_view._columns(doc)]
        assert _note(console.file.getvalue()) == sorted(expected, key=order.index), width


def test_wide_compare_table_has_no_hidden_note(invoke):
    result = invoke("compare", "--format", "table", env={"COLUMNS": "300", "NO_COLOR": "1"})
    assert result.exit_code == 0 and _note(result.stdout) == []


def test_columns_option_picks_the_table_columns(invoke):
    result = invoke("compare", "--format", "table", "--columns",
                    "cost_per_million_tokens_blended_usd,avg_power_kw,energy_per_query_j,racks",
                    env={"COLUMNS": "100", "NO_COLOR": "1"})  # at 100 the default table hides energy and racks
    assert result.exit_code == 0, result.stderr
    assert _note(result.stdout) == []
    for header in ("Cost/M", "power", "Energy/", "Racks"):
        assert header in result.stdout
    assert "TCO/year" not in result.stdout


def test_columns_option_picks_csv_columns_and_json_stays_complete(invoke):
    result = invoke("compare", "--format", "csv", "--columns", "racks,cost_per_query_usd")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["accelerator", "option", "racks", "cost_per_query_usd"] and len(rows) > 5  # option: the row key
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


def test_compare_help_examples_name_no_repository_path():
    """`compare --help` once showed data/workloads/...toml, which fails outside the
    repository; every --help example now runs from an empty folder
    (tests/test_docs_examples.py::test_every_help_example_runs_outside_the_repository)."""
    import typer

    from inferchip.cli import app

    assert "data/workloads" not in typer.main.get_command(app).commands["compare"].help


# --- --version, --calibration, diff --fail-on -------------------------------------------------------

def test_version(invoke):
    from inferchip import __version__

    result = invoke("--version")
    assert result.exit_code == 0 and result.stdout == f"inferchip {__version__}\n"


def test_version_does_not_import_pandas():
    import subprocess
    import sys

    code = ("import sys; from inferchip.cli import app\n"
            "try:\n    app(['--version'])\nexcept SystemExit:\n    pass\n"
            "assert 'pandas' not in sys.modules")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


@pytest.fixture(scope="module")
def half_memory_calibration(tmp_path_factory):
    """data/calibration.csv with every family/kind memory efficiency halved."""
    import pandas as pd

    from inferchip.data_files import data_path

    table = pd.read_csv(data_path("calibration.csv"), dtype={"scope": str, "key": str})
    rows = table["scope"].isin(["family", "kind"])
    table.loc[rows, "memory_efficiency"] = table.loc[rows, "memory_efficiency"] / 2
    path = tmp_path_factory.mktemp("cal") / "half.csv"
    table.to_csv(path, index=False)
    return path


def test_calibration_option_on_compare(compare_json, half_memory_calibration):
    base = {r["accelerator"]: r for r in compare_json()["results"]}
    slow = {r["accelerator"]: r for r in compare_json("--calibration", str(half_memory_calibration))["results"]}
    modeled = [n for n, r in base.items() if r["feasible"] and r["throughput_source"] == "modeled"]
    assert len(modeled) >= 3
    for name in modeled:  # slower memory never makes a fleet cheaper (a measured row keeps its measurement)
        # purchase units are bought in discrete mixes, so a slower chip can land on a marginally cheaper
        # mix: allow 0.1 %, far below the effect of halving memory efficiency
        if slow[name]["cost_per_query_usd"] is None:  # slower, it needs more chips than its links allow
            assert not slow[name]["feasible"] and slow[name]["infeasible_reason"], name
            continue
        assert slow[name]["cost_per_query_usd"] >= base[name]["cost_per_query_usd"] * (1 - 1e-3), name
        if base[name]["calibration_source"].startswith(("family ", "kind ")):  # not a catalog row's own factors
            assert slow[name]["calibration_source"].startswith(f"{half_memory_calibration}: "), name
    slower = [n for n in modeled if slow[n]["feasible"]
              and slow[n]["tokens_per_s_per_accelerator"] < base[n]["tokens_per_s_per_accelerator"]]
    assert len(slower) >= 2, modeled


@pytest.mark.parametrize("command", [["explain", "--chip", "h100 sxm"], ["sensitivity"], ["breakeven"],
                                     ["uncertainty", "--samples", "50"], ["sweep", "--vary", "pue=1.2,1.4"]])
def test_calibration_option_wherever_a_model_runs(invoke, half_memory_calibration, command):
    base = invoke(*command, "--format", "json")
    slow = invoke(*command, "--format", "json", "--calibration", str(half_memory_calibration))
    assert base.exit_code == 0 and slow.exit_code == 0, slow.stderr
    assert json.loads(base.stdout) != json.loads(slow.stdout)


def test_explain_names_the_calibration_file(invoke, half_memory_calibration):
    doc = json.loads(invoke("explain", "--chip", "h100 sxm", "--format", "json", "--calibration",
                            str(half_memory_calibration)).stdout)
    sources = [i["source"] for s in doc["steps"] for i in s["inputs"]
               if i["origin"] == "calibration" and i["name"] in ("compute_efficiency", "memory_efficiency")]
    assert sources and all(s.startswith(str(half_memory_calibration)) for s in sources)


def test_calibration_option_errors(invoke, tmp_path):
    missing = invoke("compare", "--calibration", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 3 and "calibration file not found" in missing.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("scope,key\nkind,gpu\n")
    wrong = invoke("compare", "--calibration", str(bad))
    assert wrong.exit_code == 2 and "missing column(s) source, compute_efficiency, memory_efficiency" in wrong.stderr


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """before.json and after.json: the same run, then electricity at 0.40 USD/kWh."""
    from typer.testing import CliRunner

    from inferchip.cli import app

    folder = tmp_path_factory.mktemp("runs")
    runner = CliRunner()

    def run(name: str, *args: str) -> dict:
        result = runner.invoke(app, ["compare", *args, "--output", str(folder / f"{name}.json")],
                               env={"INFERCHIP_CONFIG": ""})
        assert result.exit_code == 0, result.stderr
        return json.loads((folder / f"{name}.json").read_text())

    before = run("before")
    run("after", "--set", "electricity_usd_per_kwh=0.40")
    runner_up = [r["accelerator"] for r in before["results"] if r["feasible"]][1]
    run("other", "--chip", runner_up)  # only the runner-up: the winner changes
    return folder


def test_diff_fail_on_cost_increase(invoke, two_runs):
    before, after = str(two_runs / "before.json"), str(two_runs / "after.json")
    held = invoke("diff", before, after, "--fail-on", "cost-increase=5", "--format", "json")
    assert held.exit_code == 7
    doc = json.loads(held.stdout)  # the output is still written
    [outcome] = doc["fail_on"]
    assert outcome["held"] and outcome["condition"] == "cost-increase=5"
    expected = (doc["after"]["winner_cost_per_query_usd"] / doc["before"]["winner_cost_per_query_usd"] - 1) * 100
    assert outcome["increase_percent"] == pytest.approx(expected) and expected > 5
    assert held.stderr.startswith("error: diff --fail-on cost-increase=5 held: cheapest cost per query ")
    loose = invoke("diff", before, after, "--fail-on", f"cost-increase={expected + 1:.1f}", "--format", "json")
    assert loose.exit_code == 0 and not json.loads(loose.stdout)["fail_on"][0]["held"]


def test_diff_fail_on_winner_change(invoke, two_runs):
    before = str(two_runs / "before.json")
    same = invoke("diff", before, before, "--fail-on", "winner-change", "--format", "json")
    assert same.exit_code == 0
    changed = invoke("diff", before, str(two_runs / "other.json"), "--fail-on", "winner-change", "--format", "tsv")
    assert changed.exit_code == 7 and "diff --fail-on winner-change held: winner " in changed.stderr
    assert changed.stdout.startswith("accelerator\t")


@pytest.mark.parametrize("condition", ["winner", "cost-increase", "cost-increase=x", "cost-increase=-1",
                                       "winner-change=3"])
def test_diff_fail_on_rejects_malformed_conditions(invoke, two_runs, condition):
    result = invoke("diff", str(two_runs / "before.json"), str(two_runs / "after.json"), "--fail-on", condition)
    assert result.exit_code == 2 and "--fail-on" in result.stderr and result.stdout == ""


def test_exit_code_7_is_documented():
    from inferchip.errors import EXIT_CODES, ChangeError

    assert ChangeError.exit_code == 7 and "diff --fail-on" in EXIT_CODES[7]


@pytest.mark.parametrize("width", ["100", "200"])
def test_diff_table_never_truncates_silently(invoke, two_runs, width):
    result = invoke("diff", str(two_runs / "before.json"), str(two_runs / "after.json"), "--format", "table",
                    env={"COLUMNS": width, "NO_COLOR": "1"})
    assert result.exit_code == 0, result.stderr
    assert "…" not in result.stdout  # no cell cut short with an ellipsis
    flat = " ".join(result.stdout.split())
    hidden = "1 column(s) hidden at this width: drivers" in flat
    assert hidden == (width == "100") and (hidden or "What changed in the row" in flat)


def _command_paths() -> list[list[str]]:
    """Every command and sub-command of the whole (eager) build, as argv prefixes."""
    import typer

    from inferchip.cli import app

    root = typer.main.get_command(app)
    paths = []
    for name, command in root.commands.items():
        paths.append([name])
        paths += [[name, sub] for sub in getattr(command, "commands", {})]
    return paths


def _eager_and_lazy(runner, monkeypatch, args: list[str], env: dict | None = None):
    """(exit code, stdout, stderr) of typer's whole build of `app`, then of the program's
    lazy root group (inferchip.cli.lazy.root_command, what main() runs)."""
    import typer.testing

    from inferchip.cli import app
    from inferchip.cli.lazy import root_command

    seen = []
    for build in (typer.testing._get_command, root_command):
        with monkeypatch.context() as patch:
            patch.setattr(typer.testing, "_get_command", build)
            result = runner.invoke(app, args, env=env or {}, prog_name="inferchip")
        seen.append((result.exit_code, result.stdout, result.stderr))
    return seen


def test_the_lazy_root_group_reads_exactly_as_the_whole_build(runner, monkeypatch):
    # main() builds a command only when the run names it; every help text, error and
    # completion must read as typer's whole build of the app, so the two cannot drift
    paths = _command_paths()
    assert {("compare",), ("sweep",), ("catalog", "list"), ("workloads", "init")} <= {tuple(p) for p in paths}
    cases = [[], ["--help"], ["--version"], ["--no-such-option"], ["comprae"], ["catalg", "list"],
             ["catalog", "lst"], ["--help", "compare"], ["--", "compare", "--help"]]
    cases += [[*path, extra] for path in paths for extra in ("--help", "--no-such-option")]
    for args in cases:
        eager, lazy = _eager_and_lazy(runner, monkeypatch, args)
        assert lazy == eager, args
    eager, lazy = _eager_and_lazy(runner, monkeypatch, ["--help"], env={"COLUMNS": "60"})
    assert lazy == eager and "Did you mean 'compare'?" in _eager_and_lazy(runner, monkeypatch, ["comprae"])[1][2]


@pytest.mark.parametrize("words, cword", [("inferchip ", 1), ("inferchip co", 1), ("inferchip catalog ", 2),
                                          ("inferchip compare --for", 2), ("inferchip sweep --format ", 3)])
def test_the_lazy_root_group_completes_as_the_whole_build(runner, monkeypatch, words, cword):
    env = {"_INFERCHIP_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    eager, lazy = _eager_and_lazy(runner, monkeypatch, [], env=env)
    assert lazy == eager and eager[0] == 0 and eager[1].strip()


def test_the_lazy_root_group_builds_only_the_command_a_run_names(runner, monkeypatch):
    import typer.testing

    from inferchip.cli import app
    from inferchip.cli.lazy import root_command

    built = []
    monkeypatch.setattr(typer.testing, "_get_command", lambda typer_app: built.append(root_command(typer_app))
                        or built[-1])
    names = [name for name, *_ in _command_paths() if not _]
    assert runner.invoke(app, ["--help"]).exit_code == 0
    assert sorted(built[-1].builders) == sorted(names)  # the listing built nothing
    result = runner.invoke(app, ["compare", "--format", "json", "--top", "1"])
    assert result.exit_code == 0 and len(json.loads(result.stdout)["results"]) == 1
    assert sorted(built[-1].builders) == sorted(set(names) - {"compare"})


def test_the_programs_help_imports_no_pandas_and_reads_as_the_whole_build():
    # main() (the lazy root group) against typer's whole build, each in a fresh process
    import os
    import subprocess
    import sys

    run = ("import sys; sys.argv = ['inferchip', '--help']; from inferchip.cli import app, main\n"
           "try:\n    {call}\nexcept SystemExit:\n    pass\n"
           "assert 'pandas' not in sys.modules and 'numpy' not in sys.modules, 'pandas or numpy imported'")
    env = {**os.environ, "COLUMNS": "100"}
    lazy, eager = (subprocess.run([sys.executable, "-c", run.format(call=call)], capture_output=True, text=True, env=env)
                   for call in ("main()", "app()"))
    assert lazy.returncode == eager.returncode == 0, lazy.stderr + eager.stderr
    assert lazy.stdout == eager.stdout and "Commands:" in lazy.stdout and lazy.stderr == eager.stderr == ""


def test_the_program_exits_with_the_commands_code_and_output_after_its_last_collection(tmp_path):
    """main() freezes what a finished command leaves (no final full collection): stdout is
    complete, a file output is written and closed, and the exit code is the command's."""
    import json
    import subprocess
    import sys

    run = lambda *args: subprocess.run([sys.executable, "-m", "inferchip", *args],  # noqa: E731
                                       capture_output=True, text=True, cwd=tmp_path)
    done = run("compare", "--format", "json", "--top", "2")
    assert done.returncode == 0 and len(json.loads(done.stdout)["results"]) == 2
    written = run("compare", "--format", "csv", "--output", str(tmp_path / "out.csv"))
    assert written.returncode == 0 and (tmp_path / "out.csv").read_text(encoding="utf-8").count("\n") > 40
    missing = run("compare", "no-such-workload")
    assert missing.returncode == 3 and missing.stderr.strip() and not missing.stdout
