"""Import MLPerf Inference v5.1 results into data/benchmarks.csv (deterministic, re-runnable).

Reads the reference file of every v5.1 result row
(/work/shared/reference/mlperf-v5.1-results.csv, or --results FILE) and appends one
benchmarks.csv row per selected result:

- keeps VALID rows of status available/preview, datacenter and edge, of the benchmarks
  that have a preset in data/models.csv (BENCHMARKS) and of the throughput scenarios
  (Offline, Server, Interactive; SingleStream/MultiStream report latencies, not rates);
- maps the submission's accelerator string to a catalog `name` through ACCELERATORS
  (the first candidate present in data/catalog.csv); rows of a chip the catalog does not
  hold, of mixed-chip systems and of CPU-only systems are skipped and listed on stderr;
- per accelerator = value / (acc_per_node x nodes x catalog devices per submitted accelerator)
  [tokens/s or samples/s] (a dual-GPU card counts as 2);
- accuracy targets "99" and "99.9" of one system are usually the same run: one row per
  (submitter, system, benchmark, scenario), the 99 row where both exist;
- in each (accelerator, model, scenario) group keeps the best per-accelerator result, the
  median (typical) result (the lower median) and the best result with an MLPerf Power
  measurement, each once (the selection the v4.1 rows used);
- precision from the reference benchmark-models.csv `typical_precision_by_accelerator`
  (PRECISION below; empty = the preset's default when the reference names none), latency
  bounds from its server_*/interactive_* columns (BOUNDS below), system_power_w from
  power_w (whole system, all nodes), url = the result's path in the published results
  repository, date = the v5.1 publication date.

Re-running replaces the rows an earlier run appended (their notes end with IMPORT_MARK)
and leaves every other row byte-identical and in place, so the output is the same file
for the same inputs.

    python scripts/import_mlperf.py            # rewrite data/benchmarks.csv
    python scripts/import_mlperf.py --check    # exit 1 if the file is not current
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The reference folder: $INFERCHIP_REFERENCE, else shared/reference beside the checkout's parent
# (the project's shared folder), else /work/shared/reference.
REFERENCE_DIRS = [Path(p) for p in (os.environ.get("INFERCHIP_REFERENCE", ""),) if p] + [
    ROOT.parent / "shared" / "reference", ROOT.parent.parent / "shared" / "reference", Path("/work/shared/reference")]
REFERENCE = next((d for d in REFERENCE_DIRS if (d / "mlperf-v5.1-results.csv").is_file()),
                 REFERENCE_DIRS[-1]) / "mlperf-v5.1-results.csv"
BENCHMARKS = ROOT / "data" / "benchmarks.csv"
CATALOG = ROOT / "data" / "catalog.csv"
IMPORT_MARK = "imported by scripts/import_mlperf.py"
ROUND = "v5.1"
PUBLISHED = "2025-09-09"  # MLPerf Inference v5.1 results publication date
RESULTS_URL = "https://github.com/mlcommons/inference_results_v5.1/blob/main/"

# MLPerf benchmark name -> (models.csv preset, accuracy target, note). Only benchmarks
# with a preset; retinanet, stable-diffusion-xl, whisper, dlrm-v2, rgat, 3d-unet have none.
BENCHMARKS_MAP: dict[str, tuple[str, str, str]] = {
    "llama2-70b-99": ("llama-2-70b", "99", ""),
    "llama2-70b-99.9": ("llama-2-70b", "99.9", ""),
    "llama3.1-8b": ("llama-3.1-8b", "99", ""),
    "llama3_1-8b": ("llama-3.1-8b", "99", ""),
    "llama3.1-8b-edge": ("llama-3.1-8b", "99",
                         "edge variant of the benchmark (5000-sample subset of the same CNN/DailyMail set)"),
    "llama3.1-405b": ("llama-3.1-405b", "99", ""),
    "llama3_1-405b": ("llama-3.1-405b", "99", ""),
    "mixtral-8x7b": ("mixtral-8x7b", "99", ""),
    "deepseek-r1": ("deepseek-r1", "99", ""),
    "gptj-99": ("gpt-j-6b", "99", ""),
    "gptj-99.9": ("gpt-j-6b", "99.9", ""),
    "resnet50": ("resnet50", "99", ""),
    "bert-99": ("bert-large", "99", ""),
    "bert-99.9": ("bert-large", "99.9", ""),
}
# Reference benchmark-models.csv row of each preset (for bounds and precision).
REFERENCE_MODEL = {"llama-2-70b": "llama2-70b", "llama-3.1-8b": "llama3.1-8b", "llama-3.1-405b": "llama3.1-405b",
                   "mixtral-8x7b": "mixtral-8x7b", "deepseek-r1": "deepseek-r1", "gpt-j-6b": "gpt-j",
                   "resnet50": "resnet50", "bert-large": "bert-99"}
SCENARIOS = {"offline": "Offline", "server": "Server", "interactive": "Interactive"}
# MLPerf gptj reports samples/s; the loadgen token_latency_scaling_factor is 69 tokens/sample.
SAMPLES_TO_TOKENS = {"gpt-j-6b": 69.0}
UNIT = {"llm": "tokens_per_s", "fixed": "samples_per_s"}
KIND = {"resnet50": "fixed", "bert-large": "fixed"}

# Submission accelerator string -> (catalog names to try in order, chip token used in the
# reference's precision text, note[, catalog devices per submitted accelerator]). Strings
# not listed (and "N/A": CPU-only systems) are skipped and listed.
ACCELERATORS: dict[str, tuple] = {
    "NVIDIA B200-SXM-180GB": (("NVIDIA B200",), "B200", ""),
    "NVIDIA GB200": (("NVIDIA GB200 NVL72", "NVIDIA GB200"), "GB200", ""),
    "NVIDIA GB300": (("NVIDIA GB300 NVL72", "NVIDIA GB300"), "GB300", ""),
    "NVIDIA H100-SXM-80GB": (("NVIDIA H100 SXM",), "H100", ""),
    "NVIDIA H100-NVL-94GB": (("NVIDIA H100 NVL",), "H100", ""),
    "NVIDIA H200-SXM-141GB": (("NVIDIA H200 SXM",), "H200", ""),
    "Virtualized NVIDIA H200-SXM-141GB": (("NVIDIA H200 SXM",), "H200",
                                          "virtualized system (GPUs passed through to a VM)"),
    "NVIDIA H200-NVL-141GB": (("NVIDIA H200 NVL",), "H200", ""),
    "NVIDIA GH200 Grace Hopper Superchip 144GB": (("NVIDIA GH200",), "GH200", ""),
    "NVIDIA L40S": (("NVIDIA L40S",), "L40S", ""),
    "NVIDIA L4-PCIe-24GB": (("NVIDIA L4",), "L4", ""),
    "NVIDIA RTX PRO 6000 Blackwell Server Edition": (
        ("NVIDIA RTX PRO 6000 Blackwell Server Edition", "NVIDIA RTX PRO 6000 Blackwell SE",
         "NVIDIA RTX PRO 6000 Blackwell", "NVIDIA RTX PRO 6000"),
        "RTX PRO 6000", ""),
    "AMD Instinct MI300X 192GB HBM3": (("AMD MI300X",), "MI300X", ""),
    "AMD Instinct MI325X 256GB HBM3e": (("AMD MI325X",), "MI325X", ""),
    "[MAXSUN] MS-Intel Arc Pro B60 Dual 48G Turbo": (
        ("Intel Arc Pro B60",), "Arc Pro B60",
        "dual-GPU card (2 x 24 GB Arc Pro B60): counted as 2 catalog accelerators per submitted card", 2),
}

# Weight precision by (preset, chip token), as the reference benchmark-models.csv column
# typical_precision_by_accelerator states it (v5.x submissions). A pair it does not name
# stays empty (the preset's default precision is then assumed, and the note says so).
PRECISION: dict[str, dict[str, str]] = {
    "llama-2-70b": {"H100": "fp8", "H200": "fp8", "L40S": "fp8", "GH200": "fp8", "B200": "fp4", "GB200": "fp4",
                    "RTX PRO 6000": "fp4", "MI300X": "fp8", "MI325X": "fp8", "Arc Pro B60": "int4"},
    "llama-3.1-8b": {"H100": "fp8", "H200": "fp8", "L40S": "fp8", "B200": "fp4", "RTX PRO 6000": "fp4"},
    "llama-3.1-405b": {"H100": "fp8", "H200": "fp8", "B200": "fp4", "GB200": "fp4", "GB300": "fp4",
                       "RTX PRO 6000": "fp8"},
    "mixtral-8x7b": {"H100": "fp8", "H200": "fp8", "GH200": "fp8", "MI300X": "fp8", "MI325X": "fp8",
                     "RTX PRO 6000": "fp8"},
    "deepseek-r1": {"B200": "fp4", "GB200": "fp4", "GB300": "fp4"},
    "gpt-j-6b": {"H100": "fp8", "H200": "fp8", "L40S": "fp8", "GH200": "fp8"},
    "resnet50": {"H100": "int8", "H200": "int8", "L40S": "int8", "L4": "int8"},
    "bert-large": {"H100": "int8", "L4": "int8"},
}
# Latency bounds per (reference model, scenario): (ttft_ms, tpot_ms, latency_ms) columns
# of the reference benchmark-models.csv; Offline has none.
BOUND_COLUMNS = {"Server": ("server_ttft_ms", "server_tpot_ms", "server_latency_ms"),
                 "Interactive": ("interactive_ttft_ms", "interactive_tpot_ms", "")}


def _number(text: str) -> str:
    """A reference cell as benchmarks.csv writes it: '2000', '0.5', '' for none."""
    if not text:
        return ""
    value = float(text)
    return str(int(value)) if value == int(value) else f"{value:g}"


def read_bounds(path: Path) -> dict[tuple[str, str], tuple[str, str, str]]:
    """(reference model, scenario) -> (ttft_ms, tpot_ms, latency_ms) text from benchmark-models.csv."""
    out = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            for scenario, cols in BOUND_COLUMNS.items():
                out[(row["benchmark_model"], scenario)] = tuple(_number(row.get(c, "")) if c else "" for c in cols)
    return out


def catalog_names(path: Path) -> set[str]:
    with open(path, newline="", encoding="utf-8") as handle:
        return {row["name"] for row in csv.DictReader(handle)}


def usable(results: list[dict[str, str]], names: set[str]) -> tuple[list[dict[str, object]], list[str]]:
    """Result rows that can become benchmark rows, with their preset, scenario, catalog
    name and per-accelerator value; and the sorted lines describing what was skipped."""
    kept, skipped = [], {}
    for row in results:
        bench = BENCHMARKS_MAP.get(row["benchmark"])
        scenario = SCENARIOS.get(row["scenario"].lower())
        if (bench is None or scenario is None or row["valid"] != "VALID"
                or row["status"] not in ("available", "preview") or row["type"] not in ("datacenter", "edge")):
            continue
        chip = ACCELERATORS.get(row["acc"])
        catalog_name = next((n for n in chip[0] if n in names), None) if chip else None
        if catalog_name is None:
            why = ("CPU-only system" if row["acc"] == "N/A" else
                   "not in data/catalog.csv" if chip else "no mapping (mixed or unknown accelerator)")
            key = f"{row['acc']}: {why}"
            skipped[key] = skipped.get(key, 0) + 1
            continue
        per_unit = chip[3] if len(chip) > 3 else 1  # catalog devices per submitted accelerator (dual cards: 2)
        count = int(row["acc_per_node"]) * int(row["nodes"]) * per_unit
        if count <= 0:
            continue
        preset, target, bench_note = bench
        kept.append({**row, "preset": preset, "target": target, "bench_note": bench_note, "scen": scenario,
                     "catalog_name": catalog_name, "chip_token": chip[1], "chip_note": chip[2], "count": count,
                     "per_acc": float(row["value"]) / count})
    lines = [f"skipped {n} result row(s): {k}" for k, n in sorted(skipped.items())]
    return kept, lines


def one_per_system(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """One row per (submitter, system, preset, benchmark variant, scenario): the 99 accuracy
    target where the system submitted both 99 and 99.9 (usually the same run)."""
    best: dict[tuple, dict[str, object]] = {}
    for row in rows:
        variant = str(row["benchmark"]).replace("-99.9", "").replace("-99", "")
        key = (row["submitter"], row["system"], row["preset"], variant, row["scen"])
        have = best.get(key)
        if have is None or (have["target"] == "99.9" and row["target"] == "99"):
            best[key] = row
    return list(best.values())


def select(rows: list[dict[str, object]]) -> list[tuple[dict[str, object], str, int]]:
    """Per (catalog name, preset, scenario) group: the best per-accelerator result, the
    median (lower median) and the best with an MLPerf Power measurement, each once, with
    the reason and the group size. Deterministic order: group, then per-accelerator value
    descending, submitter, system."""
    groups: dict[tuple, list[dict[str, object]]] = {}
    for row in rows:
        groups.setdefault((row["catalog_name"], row["preset"], row["scen"]), []).append(row)
    order = {"Offline": 0, "Server": 1, "Interactive": 2}
    out = []
    for key in sorted(groups, key=lambda k: (k[0], k[1], order[k[2]])):
        members = sorted(groups[key], key=lambda r: (-r["per_acc"], r["submitter"], r["system"]))
        ascending = sorted(members, key=lambda r: (r["per_acc"], r["submitter"], r["system"]))
        reasons: dict[int, list[str]] = {}
        reasons.setdefault(id(members[0]), []).append("best per-accelerator result")
        reasons.setdefault(id(ascending[(len(ascending) - 1) // 2]), []).append("median (typical) result")
        powered = [r for r in members if r["power_w"]]
        if powered:
            reasons.setdefault(id(powered[0]), []).append("has MLPerf Power measurement")
        for row in members:
            if id(row) in reasons:
                out.append((row, " and ".join(reasons[id(row)]), len(members)))
    return out


def benchmark_row(row: dict[str, object], reason: str, group_size: int,
                  bounds: dict[tuple[str, str], tuple[str, str, str]]) -> list[str]:
    """One data/benchmarks.csv row (its column order) for a selected result."""
    preset, scenario = str(row["preset"]), str(row["scen"])
    kind = KIND.get(preset, "llm")
    scale = SAMPLES_TO_TOKENS.get(preset, 1.0)
    per_acc = float(row["per_acc"]) * scale
    ttft, tpot, latency = bounds.get((REFERENCE_MODEL[preset], scenario), ("", "", ""))
    if kind == "fixed":
        ttft = tpot = ""
    elif preset != "gpt-j-6b":
        latency = ""
    precision = PRECISION.get(preset, {}).get(str(row["chip_token"]), "")
    kind_label = "Datacenter" if row["type"] == "datacenter" else "Edge"
    notes = []
    if scale != 1.0:
        notes.append(f"MLPerf {row['benchmark']} reports samples/s ({float(row['per_acc']):.4g} per accelerator); "
                     f"converted to tokens/s x {scale:g} tokens/sample (loadgen token_latency_scaling_factor)")
    notes.append(f"selected: {reason} in its group (of {group_size} distinct results)")
    per_unit = int(row["count"]) // (int(row["acc_per_node"]) * int(row["nodes"]))
    notes.append(f"per-accelerator = {float(row['value']):g} / ({row['acc_per_node']} x {row['nodes']} nodes"
                 + (f" x {per_unit} devices per card)" if per_unit != 1 else ")"))
    if row["target"] == "99.9":
        notes.append("accuracy target 99.9 (the system submitted no 99 result)")
    if str(row["system"]).lower().find("maxq") >= 0:
        notes.append("MaxQ = power-capped efficiency configuration")
    if row["status"] == "preview":
        notes.append("MLPerf category: preview")
    if row["type"] == "edge":
        notes.append("edge system category")
    for extra in (row["bench_note"], row["chip_note"]):
        if extra:
            notes.append(str(extra))
    notes.append("precision per reference benchmark-models.csv typical_precision_by_accelerator" if precision
                 else "precision not named by the reference for this chip: the preset's default is assumed")
    notes.append(f"from inferchip reference mlperf-v5.1-results.csv; {IMPORT_MARK}")
    return [
        str(row["catalog_name"]), preset, scenario, precision, str(row["count"]), f"{per_acc:.1f}", UNIT[kind],
        ttft, tpot, latency, f"{float(row['power_w']):.1f}" if row["power_w"] else "",
        f"{row['system_name']} ({row['system']})", "mlperf",
        f"MLPerf Inference {ROUND} {kind_label}, Closed, submitter {row['submitter']}, system {row['system']}",
        PUBLISHED, RESULTS_URL + str(row["path"]), "; ".join(notes),
    ]


def render(existing_text: str, new_rows: list[list[str]]) -> str:
    """benchmarks.csv text: the existing rows minus earlier imports (unchanged, in place),
    then the imported rows."""
    rows = list(csv.reader(io.StringIO(existing_text)))
    header, body = rows[0], rows[1:]
    notes_at = header.index("notes")
    kept = [r for r in body if not (len(r) > notes_at and r[notes_at].endswith(IMPORT_MARK))]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows([header, *kept, *new_rows])
    return buffer.getvalue()


def build(results_path: Path, reference_dir: Path, benchmarks_path: Path, catalog_path: Path) -> tuple[str, list[str]]:
    """The new benchmarks.csv text and the report lines (counts, skipped chips)."""
    with open(results_path, newline="", encoding="utf-8") as handle:
        results = [r for r in csv.DictReader(handle) if r["tag"] == ROUND]
    bounds = read_bounds(reference_dir / "benchmark-models.csv")
    kept, skipped = usable(results, catalog_names(catalog_path))
    chosen = select(one_per_system(kept))
    new_rows = [benchmark_row(row, reason, size, bounds) for row, reason, size in chosen]
    text = render(benchmarks_path.read_text(encoding="utf-8"), new_rows)
    report = [f"{len(results)} {ROUND} result rows read; {len(kept)} usable; {len(new_rows)} benchmark rows imported",
              *skipped]
    return text, report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=REFERENCE, help="MLPerf v5.1 results CSV (reference file)")
    parser.add_argument("--benchmarks", type=Path, default=BENCHMARKS, help="benchmarks.csv to update")
    parser.add_argument("--catalog", type=Path, default=CATALOG, help="catalog.csv whose names rows must match")
    parser.add_argument("--check", action="store_true", help="exit 1 if the benchmarks file is not current")
    args = parser.parse_args(argv)
    try:
        text, report = build(args.results, args.results.parent, args.benchmarks, args.catalog)
    except (OSError, KeyError, ValueError) as exc:
        print(f"import_mlperf: {exc}", file=sys.stderr)
        return 2
    for line in report:
        print(line, file=sys.stderr)
    current = args.benchmarks.read_text(encoding="utf-8")
    if args.check:
        if text != current:
            print(f"{args.benchmarks}: not current; run python scripts/import_mlperf.py", file=sys.stderr)
            return 1
        return 0
    if text != current:
        fd, tmp = tempfile.mkstemp(dir=args.benchmarks.parent, prefix=".benchmarks.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, args.benchmarks)
        print(f"{args.benchmarks}: written", file=sys.stderr)
    else:
        print(f"{args.benchmarks}: already current", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
