"""The corpus of bad inputs (tests/corpus/cases.toml): every hostile file or option
ends in its exact message, its documented exit code, nothing on stdout, no
traceback and no output file."""

from __future__ import annotations

import csv
import io
import json
import math
import tomllib
from pathlib import Path

import pytest

from inferchip.data_files import bundled_workloads
from inferchip.errors import EXIT_CODES
from inferchip.models import load_presets

CORPUS = Path(__file__).resolve().parent / "corpus"
CASES = tomllib.loads((CORPUS / "cases.toml").read_text(encoding="utf-8"))["case"]


def expand(text: str, case: dict) -> str:
    """Fill the placeholders of a case: its file, the corpus folder, bundled names."""
    return (text.replace("{file}", str(CORPUS / case["file"]) if case.get("file") else "{file}")
            .replace("{dir}", str(CORPUS))
            .replace("{workloads}", ", ".join(bundled_workloads()))
            .replace("{presets}", ", ".join(str(p["name"]) for p in load_presets().values())))


def run_case(invoke, case: dict, out_dir: Path, args: list[str] | None = None):
    """Run the case's command; compare gets --format json and --output into `out_dir`."""
    argv = [expand(a, case) for a in (args or case["args"])]
    if argv[0] == "compare":
        argv += ["--format", "json", "--output", str(out_dir / "result.json")]
    return invoke(*argv)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_corpus_case(invoke, tmp_path, case):
    result = run_case(invoke, case, tmp_path)
    expected = expand(case["stderr"], case)
    if case["exit"] == 0 and case["args"][0] == "compare":
        expected += f"wrote {tmp_path / 'result.json'}\n"
    assert result.stderr == expected
    assert result.exit_code == case["exit"]
    assert result.exit_code in EXIT_CODES
    assert result.stdout == ""
    if case["exit"] != 0:
        assert list(tmp_path.iterdir()) == [], "a failed run must not leave a file"
        assert all(line.startswith("error: ") for line in result.stderr.splitlines())
    elif case["args"][0] == "compare":
        text = (tmp_path / "result.json").read_text(encoding="utf-8")
        assert "NaN" not in text and "Infinity" not in text
        assert json.loads(text)["results"]


@pytest.mark.parametrize("case", [c for c in CASES if c.get("file", "").startswith("catalog/")],
                         ids=lambda c: c["id"])
def test_corpus_catalog_fails_compare_the_same_way(invoke, tmp_path, case):
    """`compare --catalog FILE` reports exactly what `catalog validate FILE` does."""
    result = run_case(invoke, case, tmp_path, ["compare", "--catalog", "{file}"])
    assert result.exit_code == case["exit"]
    if case["exit"] != 0:
        assert result.stderr == expand(case["stderr"], case)
        assert list(tmp_path.iterdir()) == []


def test_every_corpus_file_has_a_case():
    files = {str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*") if p.is_file() and p.name != "cases.toml"}
    covered = {c["file"] for c in CASES if c.get("file")}
    assert files == covered


def test_corpus_counts():
    """The corpus stays broad: bad inputs of every kind, each a distinct id."""
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids))
    failing = [c for c in CASES if c["exit"] != 0]
    assert len(failing) >= 80
    assert {c["exit"] for c in failing} == {2, 3}


def test_formula_like_names_are_neutralised_in_csv_tsv_and_markdown(invoke):
    catalog = str(CORPUS / "catalog" / "formula_names.csv")
    out = invoke("compare", "--catalog", catalog, "--format", "csv").stdout
    names = [row["accelerator"] for row in csv.DictReader(io.StringIO(out)) if row["price_basis"] != "api"]
    assert sorted(names) == ["'=HYPERLINK(\"http://x\";\"y\")", "'@SUM(A1)"]
    tsv = invoke("compare", "--catalog", catalog, "--format", "tsv").stdout
    names = [row["accelerator"] for row in csv.DictReader(io.StringIO(tsv), delimiter="\t") if row["price_basis"] != "api"]
    assert sorted(names) == ["'=HYPERLINK(\"http://x\";\"y\")", "'@SUM(A1)"]
    markdown = invoke("compare", "--catalog", catalog, "--format", "markdown").stdout
    assert "'@SUM(A1)" in markdown and "| =" not in markdown and "| @" not in markdown
    doc = json.loads(invoke("compare", "--catalog", catalog, "--format", "json").stdout)
    assert {r["accelerator"] for r in doc["results"] if r["price_basis"] != "api"} == {"=HYPERLINK(\"http://x\";\"y\")", "@SUM(A1)"}


def test_old_mac_line_endings_are_read(invoke, tmp_path):
    text = (CORPUS / "catalog" / "crlf.csv").read_bytes().replace(b"\r\n", b"\r")
    path = tmp_path / "cr.csv"
    path.write_bytes(text)
    result = invoke("catalog", "validate", str(path))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == f"{path}: OK, 2 accelerators\n"


def test_multiline_values_keep_line_numbers():
    from inferchip.catalog import read_catalog

    df = read_catalog(CORPUS / "catalog" / "bom.csv")
    assert df["catalog_line"].tolist() == [2, 3]
    text = (CORPUS / "catalog" / "multiline_note_then_error.csv").read_text(encoding="utf-8")
    assert text.count("\n") == 4  # header, a row over two lines, a row: the bad value is on line 4


# --- a 100,000-row catalog --------------------------------------------------

BIG_ROWS = 100_000


@pytest.fixture(scope="module")
def big_catalog(tmp_path_factory) -> Path:
    """100,000 distinct accelerators built from the two fixture rows."""
    source = (CORPUS / "catalog" / "crlf.csv").read_text(encoding="utf-8").splitlines()
    header, rows = source[0], source[1:]
    lines = [header]
    for i in range(BIG_ROWS):
        name, rest = rows[i % 2].split(",", 1)
        lines.append(f"{name} #{i},{rest}")
    path = tmp_path_factory.mktemp("big") / "big.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_hundred_thousand_row_catalog_validates_and_compares(big_catalog):
    from inferchip import assumptions, workload
    from inferchip.catalog import read_catalog
    from inferchip.compare import run_compare

    chips = read_catalog(big_catalog)
    assert len(chips) == BIG_ROWS
    assert chips["catalog_line"].iat[-1] == BIG_ROWS + 1
    results = run_compare(workload.load(None), assumptions.resolve([]), chips)
    assert len(results) == BIG_ROWS
    assert results["feasible"].dtype == bool
    feasible = results[results["feasible"]]
    assert (feasible["cost_per_query_usd"] > 0).all()
    assert feasible["cost_per_query_usd"].notna().all()


def test_hundred_thousand_bad_rows_report_twenty_and_a_count(big_catalog, tmp_path):
    """Every row a duplicate of the first: linear time, 20 lines shown, the rest counted."""
    from inferchip.catalog import read_catalog
    from inferchip.errors import InputError

    text = big_catalog.read_text(encoding="utf-8")
    lines = text.splitlines()
    dupes = tmp_path / "dupes.csv"
    dupes.write_text("\n".join([lines[0]] + [lines[1]] * BIG_ROWS) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_catalog(dupes)
    message = info.value.message.splitlines()
    assert len(message) == 21
    assert message[0] == (f"{dupes}: line 3: duplicate accelerator name 'Fixture GPU A #0' (first on line 2);"
                          " names are case-insensitive: rename or delete one row")
    assert message[-1] == f"... and {BIG_ROWS - 1 - 20} more problem(s)"


# --- numbers at the edges of the accepted ranges -------------------------------------

EDGE_HEADER = ("name,vendor,kind,memory_gb,memory_bw_tbps,bf16_tflops,fp8_tflops,tdp_w,devices_per_server,"
               "server_power_kw,server_rack_units,server_price_usd,cloud_usd_per_hour,source,as_of")


def test_edge_of_range_rows_are_infeasible_with_a_reason_or_finite(invoke, tmp_path):
    """The smallest and largest accepted numbers never surface as inf, NaN or a null cost
    on a feasible row: a crawling chip is infeasible with its reason, a giant one is costed."""
    catalog = tmp_path / "edges.csv"
    catalog.write_text("\n".join([
        EDGE_HEADER,
        "Crawler,Fixture,gpu,80,0.000001,0.000001,0.000001,0.000001,1,0.000001,0.000001,0.000001,,fixture,2024-06",
        "Giant,Fixture,gpu,1e12,1e12,1e12,1e12,1e12,1000000,1e12,1e12,1e12,1e12,fixture,2024-06",
        "Tiny price,Fixture,gpu,80,3,1000,2000,700,8,10,8,0.000001,,fixture,2024-06",
    ]) + "\n", encoding="utf-8")
    result = invoke("compare", "--catalog", str(catalog), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert "NaN" not in result.stdout and "Infinity" not in result.stdout
    rows = {r["accelerator"]: r for r in json.loads(result.stdout)["results"]}
    crawler = rows["Crawler"]
    assert crawler["feasible"] is False and crawler["cost_per_query_usd"] is None
    assert crawler["infeasible_reason"].startswith("TTFT SLO missed: prefill alone takes")
    for name in ("Giant", "Tiny price"):
        row = rows[name]
        assert row["feasible"] is True, row["infeasible_reason"]
        for field in ("capex_usd", "annual_tco_usd", "cost_per_query_usd", "energy_per_query_j", "racks"):
            assert isinstance(row[field], (int, float)) and math.isfinite(row[field]) and row[field] >= 0, field
    assert rows["Giant"]["cost_per_query_usd"] > rows["Tiny price"]["cost_per_query_usd"]
