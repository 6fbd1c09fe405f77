"""scripts/import_mlperf.py: selection, unit conversion, skipped chips, idempotence."""

import csv
import importlib.util
import io
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("import_mlperf", ROOT / "scripts" / "import_mlperf.py")
importer = importlib.util.module_from_spec(spec)
spec.loader.exec_module(importer)

COLUMNS = ["tag", "submitter", "system", "system_name", "acc", "acc_per_node", "nodes", "status", "type", "benchmark",
           "scenario", "metric", "value", "valid", "power_w", "path"]


def _result(system, value, benchmark="llama2-70b-99", scenario="Offline", acc="NVIDIA H200-SXM-141GB", per_node=8,
            nodes=1, power="", status="available", valid="VALID", submitter="S"):
    return ["v5.1", submitter, system, f"{system} box", acc, str(per_node), str(nodes), status, "datacenter",
            benchmark, scenario, "Tokens per second", str(value), valid, power,
            f"closed/{submitter}/results/{system}/{benchmark}/{scenario}/performance/run_1/mlperf_log_summary.txt"]


@pytest.fixture
def files(tmp_path):
    """A tiny reference folder, catalog and benchmarks file."""
    ref = tmp_path / "reference"
    ref.mkdir()
    shutil.copy(ROOT / "data" / "catalog.csv", tmp_path / "catalog.csv")
    with open(ROOT / "data" / "benchmarks.csv", newline="") as handle:
        lines = handle.read().splitlines(keepends=True)
    (tmp_path / "benchmarks.csv").write_text("".join(lines[:4]))  # header + 3 hand-curated rows
    (ref / "benchmark-models.csv").write_text(
        "benchmark_model,server_ttft_ms,server_tpot_ms,interactive_ttft_ms,interactive_tpot_ms,server_latency_ms\n"
        "llama2-70b,2000,200,450,40,\n")
    rows = [
        _result("A", 8000), _result("A", 8000, benchmark="llama2-70b-99.9"),  # same run, two targets: kept once
        _result("B", 16000, nodes=2),  # 16 chips: 1000 per chip
        _result("C", 4800, power="6000.5"),  # 600 per chip, has power
        _result("D", 9600, benchmark="llama2-70b-99.9"),  # only 99.9: kept with a note
        _result("E", 999999, valid="INVALID"),
        _result("F", 4000, acc="NVIDIA GeForce RTX 4090"),  # no mapping: listed
        _result("G", 4000, acc="N/A", per_node=0),
        _result("H", 7000, scenario="Server"),
        _result("I", 100, scenario="SingleStream"),  # latency scenario: ignored
        _result("J", 100, benchmark="retinanet"),  # no preset: ignored
    ]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([COLUMNS, *rows])
    (ref / "mlperf-v5.1-results.csv").write_text(buffer.getvalue())
    return tmp_path


def _run(files, *extra):
    return importer.main(["--results", str(files / "reference" / "mlperf-v5.1-results.csv"),
                          "--benchmarks", str(files / "benchmarks.csv"), "--catalog", str(files / "catalog.csv"),
                          *extra])


def _imported(files):
    with open(files / "benchmarks.csv", newline="") as handle:
        return [r for r in csv.DictReader(handle) if r["notes"].endswith(importer.IMPORT_MARK)]


def test_selection_per_accelerator_value_and_bounds(files, capsys):
    assert _run(files) == 0
    rows = _imported(files)
    offline = [r for r in rows if r["scenario"] == "Offline"]
    # group of 4 distinct systems (A, B, C, D) at 1000, 1200, 1000, 600 per chip (sorted: D 1200, A 1000, B 1000, C 600)
    by_system = {r["system"].split(" (")[1].rstrip(")"): r for r in offline}
    assert set(by_system) == {"D", "A", "C"}  # best, lower median (A before B on ties), power
    assert by_system["D"]["throughput_per_accelerator"] == "1200.0"
    assert "best per-accelerator result" in by_system["D"]["notes"]
    assert "accuracy target 99.9" in by_system["D"]["notes"]
    assert "median (typical) result" in by_system["A"]["notes"] and "of 4 distinct results" in by_system["A"]["notes"]
    assert by_system["C"]["system_power_w"] == "6000.5" and by_system["C"]["throughput_per_accelerator"] == "600.0"
    assert all(r["precision"] == "fp8" and r["date"] == importer.PUBLISHED and r["measurement_kind"] == "mlperf"
               for r in rows)
    server = [r for r in rows if r["scenario"] == "Server"]
    assert len(server) == 1 and (server[0]["ttft_ms"], server[0]["tpot_ms"]) == ("2000", "200")
    assert server[0]["url"].startswith("https://github.com/mlcommons/inference_results_v5.1/blob/main/closed/S/")
    assert offline[0]["ttft_ms"] == ""
    err = capsys.readouterr().err
    assert "NVIDIA GeForce RTX 4090: no mapping" in err and "CPU-only" in err


def test_rerun_is_byte_identical_and_keeps_other_rows(files):
    head = (files / "benchmarks.csv").read_text()
    assert _run(files) == 0
    first = (files / "benchmarks.csv").read_bytes()
    assert first.decode().startswith(head)  # existing rows unchanged, in place
    assert _run(files) == 0
    assert (files / "benchmarks.csv").read_bytes() == first
    assert _run(files, "--check") == 0


def test_check_reports_a_stale_file(files):
    assert _run(files, "--check") == 1


def test_imported_rows_load_and_validate(files):
    from inferchip.measured import benchmark_workloads, read_benchmarks

    assert _run(files) == 0
    frame = benchmark_workloads(read_benchmarks(files / "benchmarks.csv"))
    assert len(frame) == 3 + len(_imported(files))


def test_bundled_benchmarks_are_current():
    """data/benchmarks.csv holds what the importer makes of the reference file today."""
    if not importer.REFERENCE.is_file():
        pytest.skip("reference mlperf-v5.1-results.csv not on this machine")
    text, _ = importer.build(importer.REFERENCE, importer.REFERENCE.parent, importer.BENCHMARKS, importer.CATALOG)
    assert text == importer.BENCHMARKS.read_text(encoding="utf-8"), "run python scripts/import_mlperf.py"
