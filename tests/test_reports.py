"""Reports people can forward (the Markdown memo, the xlsx workbook), the
`assumptions` command, the scripting contract, and the whole procurement
walk-through as a real subprocess."""

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from inferchip.cli import EXIT_CODE_HELP
from inferchip.errors import EXIT_CODES

ROOT = Path(__file__).resolve().parent.parent

# Test fixtures, not products: one chip with an estimated price whose source text
# starts like a spreadsheet formula, one with a vendor list price.
FIXTURE_ROWS = [
    {"name": "Memo Test Estimated", "vendor": "TestVendor", "kind": "gpu", "memory_gb": "192",
     "memory_bw_tbps": "8", "tdp_w": "700", "devices_per_server": "8", "server_power_kw": "10",
     "server_rack_units": "8", "fp8_tflops": "2000", "accelerator_price_usd": "100",
     "price_is_estimate": "true", "price_source": '=HYPERLINK("http://example.invalid","quote")',
     "price_as_of": "2026-03", "source": "test fixture (not a real product)", "as_of": "2026-01"},
    {"name": "Memo Test Listed", "vendor": "TestVendor", "kind": "gpu", "memory_gb": "192",
     "memory_bw_tbps": "8", "tdp_w": "700", "devices_per_server": "8", "server_power_kw": "10",
     "server_rack_units": "8", "fp8_tflops": "2000", "accelerator_price_usd": "1000000",
     "price_is_estimate": "false", "price_source": "fixture vendor list", "price_as_of": "2026-04",
     "source": "test fixture (not a real product)", "as_of": "2026-01"},
]


@pytest.fixture
def fixture_catalog(tmp_path) -> Path:
    path = tmp_path / "fixture.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(FIXTURE_ROWS[0]))
        writer.writeheader()
        writer.writerows(FIXTURE_ROWS)
    return path


# --- the Markdown memo ---------------------------------------------------------------

def test_memo_sections_and_caveats(invoke, fixture_catalog):
    result = invoke("compare", "--extend-catalog", str(fixture_catalog), "--format", "markdown",
                    "--baseline", "NVIDIA H100 SXM")
    assert result.exit_code == 0, result.stderr
    memo = result.stdout
    headings = [line for line in memo.splitlines() if line.startswith("#")]
    assert headings == ["# Inference hardware comparison: support-chatbot-70b", "## Summary",
                        "## Results (cheapest feasible first)", "## Not feasible", "## Caveats", "## Workload",
                        "## Assumptions", "## Sources"]
    # the estimated price is the cheapest (100 USD per card) and the memo says so twice
    assert "- **Cheapest feasible option: Memo Test Estimated** (owned) at " in memo
    assert "- Its price is an **estimate**: '=HYPERLINK(" in memo and "(as of 2026-03)" in memo
    assert "- **Estimated prices** (secondary sources, not vendor quotes; get quotes before committing):" in memo
    caveats = memo.split("## Caveats")[1].split("## Workload")[0]
    assert "  - Memo Test Estimated: '=HYPERLINK(" in caveats
    assert "Memo Test Listed" not in caveats.split("**Precision fallbacks**")[0]
    assert "switching to Memo Test Estimated saves " in memo and " a year (" in memo
    assert "| Memo Test Listed | fixture.csv line 3 |" not in memo  # sources cite the path as given
    assert f"| Memo Test Listed | {fixture_catalog} line 3 | test fixture (not a real product) (2026-01) | " \
           "fixture vendor list (as of 2026-04) |" in memo
    assert "| pue | 1.30 | ratio | default |" in memo
    assert "'-" not in memo  # missing values and negative savings are not mangled by the CSV guard


def test_memo_lists_gates(invoke):
    result = invoke("compare", "--format", "markdown", "--fail-if", "cost_per_query_usd < 0")
    assert result.exit_code == 0
    assert "- Gate --fail-if 'cost_per_query_usd < 0' (--gate-on best): passed" in result.stdout


def test_memo_output_file_by_suffix(invoke, tmp_path):
    target = tmp_path / "memo.md"
    assert invoke("compare", "fraud-scoring-bert", "--output", str(target)).exit_code == 0
    memo = target.read_text()
    assert memo.startswith("# Inference hardware comparison: fraud-scoring-bert")
    assert "| latency_ms | 5 |" in memo and "Cost/M tok" not in memo


# --- the workbook -----------------------------------------------------------------------

def test_xlsx_workbook(invoke, tmp_path, fixture_catalog):
    openpyxl = pytest.importorskip("openpyxl")
    target = tmp_path / "results.xlsx"
    result = invoke("compare", "--extend-catalog", str(fixture_catalog), "--baseline", "NVIDIA H100 SXM",
                    "--fail-if", "cost_per_query_usd < 0", "--output", str(target))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "" and result.stderr == f"wrote {target}\n"
    assert [p.name for p in tmp_path.iterdir() if p.suffix != ".csv"] == ["results.xlsx"]
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == ["Results", "Assumptions", "Catalog sources", "Workload", "Gates"]
    sheet = book["Results"]
    header = [c.value for c in sheet[1]]
    assert header[:2] == ["accelerator", "vendor"]
    assert "cost_per_query_usd [USD]" in header and "annual_tco_usd [USD/year]" in header
    assert "accelerators [count]" in header and "savings_percent [%]" in header and "feasible" in header
    rows = [dict(zip(header, [c.value for c in row], strict=True)) for row in sheet.iter_rows(min_row=2)]
    doc = json.loads(invoke("compare", "--extend-catalog", str(fixture_catalog), "--baseline", "NVIDIA H100 SXM",
                            "--format", "json").stdout)
    assert len(rows) == len(doc["results"])
    first, json_first = rows[0], doc["results"][0]
    assert first["accelerator"] == json_first["accelerator"] == "Memo Test Estimated"
    assert isinstance(first["cost_per_query_usd [USD]"], float)
    assert first["cost_per_query_usd [USD]"] == json_first["cost_per_query_usd"]
    assert first["accelerators [count]"] == json_first["accelerators"] and isinstance(first["accelerators [count]"], int)
    assert first["feasible"] is True and first["price_is_estimate"] is True
    blocked = next(r for r in rows if r["feasible"] is False)
    assert blocked["cost_per_query_usd [USD]"] is None  # missing stays an empty cell, not "-" or NaN
    # formula injection: the text is stored as text
    column = header.index("price_source") + 1
    cell = sheet.cell(row=2, column=column)
    assert cell.value.startswith("=HYPERLINK(") and cell.data_type == "s"
    assumptions = {r[0].value: r for r in book["Assumptions"].iter_rows(min_row=2)}
    assert assumptions["pue"][1].value == 1.3 and assumptions["pue"][2].value == "ratio"
    assert "Uptime" in assumptions["pue"][4].value
    sources = book["Catalog sources"]
    src_header = [c.value for c in sources[1]]
    assert src_header[:6] == ["accelerator", "vendor", "catalog_file", "catalog_line", "spec_source", "spec_as_of"]
    listed = next(r for r in sources.iter_rows(min_row=2, values_only=True) if r[0] == "Memo Test Listed")
    assert listed[3] == 3 and listed[src_header.index("price_source")] == "fixture vendor list"
    workload = dict(book["Workload"].iter_rows(min_row=2, values_only=True))
    assert workload["name"] == "support-chatbot-70b" and workload["baseline_accelerator"] == "NVIDIA H100 SXM"
    assert workload["queries_per_day"] == 1_000_000


def test_xlsx_needs_output(invoke):
    result = invoke("compare", "--format", "xlsx")
    assert result.exit_code == 2
    assert result.stderr == "error: --format xlsx writes a binary workbook: add --output FILE.xlsx\n"


def test_xlsx_without_openpyxl_says_how_to_install(invoke, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # `import openpyxl` now raises ImportError
    target = tmp_path / "r.xlsx"
    result = invoke("compare", "--format", "xlsx", "--output", str(target))
    assert result.exit_code == 2
    assert result.stderr == ("error: --format xlsx needs the optional openpyxl package: "
                             "pip install 'inferchip[xlsx]'  (or: pip install openpyxl)\n")
    assert not target.exists() and result.stdout == ""


@pytest.mark.parametrize("args", [["catalog", "list"], ["workloads", "list"], ["assumptions"],
                                  ["explain", "--chip", "NVIDIA H100 SXM"]])
def test_only_compare_writes_workbooks(invoke, tmp_path, args):
    result = invoke(*args, "--output", str(tmp_path / "x.xlsx"))
    assert result.exit_code == 2
    assert "only `inferchip compare` writes Excel workbooks" in result.stderr
    assert not (tmp_path / "x.xlsx").exists()


# --- assumptions ---------------------------------------------------------------------------

def test_assumptions_command(invoke, tmp_path):
    from inferchip.assumptions import load_specs

    specs = load_specs()
    doc = json.loads(invoke("assumptions", "--format", "json").stdout)
    assert doc["command"] == "assumptions"
    rows = {r["key"]: r for r in doc["assumptions"]}
    assert list(rows) == list(specs)
    assert rows["pue"] == {"key": "pue", "value": 1.3, "unit": "ratio", "low": 1.1, "high": 1.6,
                           "origin": "default", "source": specs["pue"].source}
    site = tmp_path / "site.toml"
    site.write_text("server_life_years = 4\n")
    layered = json.loads(invoke("assumptions", "--assumptions", str(site), "--set", "pue=1.2",
                                "--format", "json").stdout)
    rows = {r["key"]: r for r in layered["assumptions"]}
    assert (rows["pue"]["value"], rows["pue"]["origin"]) == (1.2, "--set")
    assert (rows["server_life_years"]["value"], rows["server_life_years"]["origin"]) == (4, str(site))


def test_assumptions_command_with_workload_economics(invoke, tmp_path):
    profile = tmp_path / "w.toml"
    assert invoke("workloads", "init", str(profile)).exit_code == 0
    profile.write_text(profile.read_text().replace("# electricity_usd_per_kwh = 0.08", "electricity_usd_per_kwh = 0.11"))
    rows = {r["key"]: r for r in json.loads(invoke("assumptions", "--workload", str(profile),
                                                   "--format", "json").stdout)["assumptions"]}
    assert rows["electricity_usd_per_kwh"]["value"] == 0.11
    assert rows["electricity_usd_per_kwh"]["origin"] == f"{profile} [economics]"


def test_assumptions_errors_and_text(invoke):
    bad = invoke("assumptions", "--set", "pue=0.5")
    assert bad.exit_code == 2 and "'pue' must be >= 1" in bad.stderr
    tsv = invoke("assumptions").stdout.splitlines()
    assert tsv[0] == "key\tvalue\tunit\tlow\thigh\torigin\tsource"
    assert tsv[1].startswith("electricity_usd_per_kwh\t0.08\tUSD/kWh\t")


# --- scripting contract ----------------------------------------------------------------------

def test_piped_output_is_tsv(invoke):
    out = invoke("compare").stdout  # CliRunner's stdout is not a terminal
    rows = list(csv.reader(io.StringIO(out), delimiter="\t"))
    assert rows[0][:3] == ["accelerator", "vendor", "kind"] and len(rows) > 5


@pytest.mark.parametrize("command", [["compare"], ["explain"], ["diff"], ["schema"], ["assumptions"]])
def test_help_has_example_and_exit_codes(invoke, command):
    result = invoke(*command, "--help", env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "Example" in result.stdout and "inferchip " + command[0] in result.stdout
    flat = " ".join(result.stdout.split())
    assert "Exit codes: 0 success;" in flat and "6 a --fail-if policy gate held" in flat


def test_exit_code_help_lists_every_code():
    for code, meaning in EXIT_CODES.items():
        assert f"{code} {meaning}" in EXIT_CODE_HELP


def test_docs_document_the_contract():
    readme = (ROOT / "README.md").read_text()
    scripting = (ROOT / "docs" / "scripting.md").read_text()
    section = scripting + (ROOT / "docs" / "procurement.md").read_text()
    for code, meaning in EXIT_CODES.items():
        assert f"| {code} | {meaning} |" in scripting
        assert f"| {code} | {meaning} |" in readme
    for phrase in ("--fail-if", "--gate-on", "--baseline", "inferchip diff", "inferchip explain", "inferchip schema",
                   "--format xlsx", "--install-completion", "inferchip workloads init", "not a terminal"):
        assert phrase in section, phrase


# --- the walk-through, as a user runs it ----------------------------------------------------------

def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "inferchip", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_procurement_walkthrough_subprocess(tmp_path):
    # 1. a profile from the template
    init = _run("workloads", "init", "svc.toml", cwd=tmp_path)
    assert init.returncode == 0, init.stderr
    # 2. compare, saved for later
    assert _run("compare", "svc.toml", "--format", "json", "--output", "before.json", cwd=tmp_path).returncode == 0
    before = json.loads((tmp_path / "before.json").read_text())
    best = next(r for r in before["results"] if r["price_basis"] != "api")  # an API row has no derivation to explain
    assert best["feasible"]
    # piped stdout with --format auto: TSV
    piped = _run("compare", "svc.toml", cwd=tmp_path)
    assert piped.stdout.split("\n", 1)[0].startswith("accelerator\tvendor\t")
    # 3. explain the winner: the same cost per query
    explained = _run("explain", "svc.toml", "--chip", best["accelerator"], "--format", "json", cwd=tmp_path)
    assert json.loads(explained.stdout)["cost_per_query_usd"] == best["cost_per_query_usd"]
    # 4. a policy gate stops the script with exit code 6
    gate = _run("compare", "svc.toml", "--format", "json", "--fail-if",
                f"cost_per_query_usd > {best['cost_per_query_usd'] / 2}", cwd=tmp_path)
    assert gate.returncode == 6 and "policy gate --fail-if" in gate.stderr and json.loads(gate.stdout)["gates"]
    assert _run("compare", "svc.toml", "--format", "json", "--fail-if", "meets_slo == false",
                cwd=tmp_path).returncode == 0
    # 5. savings against the chip in service today
    base = _run("compare", "svc.toml", "--baseline", "NVIDIA H100 SXM", "--format", "json", cwd=tmp_path)
    assert json.loads(base.stdout)["baseline"]["accelerator"] == "NVIDIA H100 SXM"
    # 6. a price change, and what it did
    assert _run("compare", "svc.toml", "--set", "electricity_usd_per_kwh=0.2", "--output", "after.json",
                cwd=tmp_path).returncode == 0
    changed = json.loads(_run("diff", "before.json", "after.json", "--format", "json", cwd=tmp_path).stdout)
    assert changed["inputs_changed"][0]["key"] == "electricity_usd_per_kwh"
    # 7. the memo and the workbook to forward
    assert _run("compare", "svc.toml", "--output", "memo.md", cwd=tmp_path).returncode == 0
    assert (tmp_path / "memo.md").read_text().startswith("# Inference hardware comparison: my-llm-service")
    book = _run("compare", "svc.toml", "--output", "memo.xlsx", cwd=tmp_path)
    assert book.returncode == 0 and (tmp_path / "memo.xlsx").read_bytes()[:2] == b"PK"
    # 8. the contract for scripts
    schema = json.loads(_run("schema", "compare", cwd=tmp_path).stdout)
    assert schema["properties"]["command"] == {"const": "compare"}
    listed = json.loads(_run("assumptions", "--format", "json", cwd=tmp_path).stdout)
    assert any(r["key"] == "pue" for r in listed["assumptions"])
    bad = _run("explain", "svc.toml", "--chip", "NVIDIA H100 SMX", cwd=tmp_path)
    assert bad.returncode == 3 and "Traceback" not in bad.stderr and "Did you mean" in bad.stderr


def test_memo_caveats_name_measured_throughput(compare_json):
    from inferchip.report.compare_view import render_markdown

    doc = compare_json()
    first = next(r for r in doc["results"] if r["feasible"])
    first.update(throughput_source="measured", throughput_reference="MLPerf v5.0 Server (fixture)")
    caveats = render_markdown(doc).split("## Caveats")[1].split("## Workload")[0]
    assert f"- Throughput is **measured** for {first['accelerator']} (MLPerf v5.0 Server (fixture))." in caveats
    feasible = sum(r["feasible"] and r["price_basis"] != "api" for r in doc["results"])
    assert f"**modeled** (roofline with calibrated efficiency factors) for {feasible - 1} of {feasible} feasible " \
           "hardware rows" in caveats


def test_memo_summary_of_an_api_winner_names_its_prices_not_a_fleet(invoke):
    memo = invoke("compare", "chatbot-70b-100k", "--format", "markdown").stdout
    first = memo.split("## Summary")[1].strip().splitlines()[0]
    assert first.startswith("- **Cheapest feasible option: Cerebras API (llama3.1-70b)** (api) at 0.00051 USD per query")
    assert "at the provider's list prices (0.6 in / 0.6 out USD per million tokens" in first and " - rack" not in first
