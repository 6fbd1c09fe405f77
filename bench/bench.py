"""`make bench`: wall times, rates and memory of the CLI and the vectorized pipeline,
each beside the target it is held to (issue 15).

Prints, with its target:
- `inferchip --help` (<= 0.12 s), `python -c "import pandas"` and `inferchip
  compare` on the default workload (<= 1.3 x that pandas import, measured in the
  same run): medians of several runs, each a fresh process, the commands taking
  turns so that both sides of a ratio see the same load; as on a user's machine,
  after the first run the parsed bundled data comes from the cache between runs
  (inferchip.runcache; `INFERCHIP_CACHE_DIR=` turns it off);
- evaluation of a >= 1,000,000-row sweep in process: a cost-varying grid
  (>= 2,000,000 rows/s) and a performance-varying grid (reported);
- the same cost grid through the CLI to a file: CSV (<= 3 s) and Parquet
  (<= 1.5 s; needs `pip install 'inferchip[parquet]'`), medians of three runs (one with
  --quick), each with the peak memory
  of its process (<= 400 MB; for CSV summed over the process and its row-formatting
  workers, measured in a second run);
- ten workloads in one `compare` call against one (<= 2 x, same run);
- `inferchip uncertainty` with 100,000 samples over the whole catalog;
- the vectorized pipeline against a straightforward Python loop that evaluates
  the same model one scenario at a time, on a sample of the same grid (the
  numbers must agree; the rates give the speedup).

Timings are wall clock on this machine; other work on it slows them down (the
load average is printed before and after).
Usage: .venv/bin/python bench/bench.py [--quick]
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
INFERCHIP = str(BIN / "inferchip")
RESULTS: list[tuple[str, str, str, bool | None]] = []
# The children run as on a user's machine: Python may cache bytecode (__pycache__), so the
# warm-up run of each command compiles inferchip once; with PYTHONDONTWRITEBYTECODE set (some
# sandboxes set it) every run would compile every module again.
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_child(argv: list[str]) -> tuple[float, float, int]:
    """Run a command; return (wall seconds, peak RSS in MB, exit code) of that process alone.
    It is started by a small launcher process: a child started from this one would report
    this process's own peak as its peak (Linux records the old memory's high-water mark at
    exec, and subprocess shares this process's memory until then)."""
    out = subprocess.run([sys.executable, "-c", _LAUNCHER, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         cwd=ROOT, env=CHILD_ENV, check=False)
    if out.returncode != 0 or not out.stdout.strip():
        sys.stderr.write(out.stderr.decode(errors="replace"))
        return math.nan, math.nan, out.returncode or 1
    wall, rss_kb, code = out.stdout.split()
    if int(code) != 0:
        sys.stderr.write(out.stderr.decode(errors="replace"))
    return float(wall), int(rss_kb) / 1024.0, int(code)


# Runs argv[1:], prints its wall seconds, peak RSS [KB] and exit code; its stderr passes through.
_LAUNCHER = """
import os, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)
print(time.perf_counter() - start, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


# Runs argv[1:] and prints the peak, over its run, of the proportional set size (PSS) summed
# over it and its descendants [KB] (sampled every 50 ms; Linux /proc only, else nan): with
# worker processes the peak RSS of one process leaves the workers out, and a sum of RSS
# would count the pages they share with their parent (a fork) several times.
_TREE_MEMORY = """
import os, subprocess, sys, time
def tree(pid):
    found = [pid]
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [p for child in handle.read().split() for p in tree(int(child))]
    except OSError:
        pass
    return found
def pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            return sum(int(line.split()[1]) for line in handle if line.startswith("Pss:"))
    except OSError:
        return 0
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
peak = 0
while proc.poll() is None:
    peak = max(peak, sum(pss_kb(pid) for pid in tree(proc.pid)))
    time.sleep(0.05)
print(peak if os.path.exists("/proc/self/smaps_rollup") else "nan")
"""


def tree_peak_mb(argv: list[str]) -> float:
    """Peak memory of a command with its worker processes (PSS summed over them) [MB]."""
    out = subprocess.run([sys.executable, "-c", _TREE_MEMORY, *argv], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         cwd=ROOT, env=CHILD_ENV, check=False)
    try:
        return float(out.stdout.split()[-1]) / 1024.0
    except (IndexError, ValueError):
        return math.nan


def median_wall(argv: list[str], runs: int) -> float:
    run_child(argv)  # warm the file cache
    return statistics.median(run_child(argv)[0] for _ in range(runs))


def median_walls(commands: list[list[str]], runs: int) -> list[float]:
    """median_wall of each command, run in turn (A B C A B C ...): a ratio between them is
    measured under the same load, where one block of runs after another would let the
    load of other work on the machine drift in between."""
    for argv in commands:
        run_child(argv)  # warm the file cache
    walls: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for wall, argv in zip(walls, commands, strict=True):
            wall.append(run_child(argv)[0])
    return [statistics.median(w) for w in walls]


def record(name: str, value: str, target: str = "", ok: bool | None = None) -> None:
    RESULTS.append((name, value, target, ok))
    mark = "" if ok is None else ("  ok" if ok else "  MISSED")
    print(f"{name:<58} {value:>22}  {target}{mark}", flush=True)


def bench_startup(runs: int) -> float:
    help_s, pandas_s, compare_s = median_walls([[INFERCHIP, "--help"], [sys.executable, "-c", "import pandas"],
                                                [INFERCHIP, "compare", "--format", "json"]], runs)
    record("inferchip --help", f"{help_s:.3f} s", "<= 0.12 s", help_s <= 0.12)
    record('python -c "import pandas"', f"{pandas_s:.3f} s")
    record("inferchip compare (default workload, JSON)", f"{compare_s:.3f} s",
           f"<= 1.3 x pandas import = {1.3 * pandas_s:.3f} s", compare_s <= 1.3 * pandas_s)
    record("  ratio to the pandas import", f"{compare_s / pandas_s:.2f} x", "<= 1.3 x", compare_s <= 1.3 * pandas_s)
    return compare_s


def bench_many_workloads(runs: int, folder: Path) -> None:
    """Ten workload profiles in one `compare` call against one profile (both measured here)."""
    bundled = sorted((ROOT / "data" / "workloads").glob("*.toml"))
    paths = []
    for i in range(10):
        text = bundled[i % len(bundled)].read_text(encoding="utf-8")
        name = f"bench-{i:02d}"
        text = "\n".join(f'name = "{name}"' if line.startswith("name = ") else line for line in text.splitlines())
        path = folder / f"{name}.toml"
        path.write_text(text + "\n", encoding="utf-8")
        paths.append(str(path))
    one_s, ten_s = median_walls([[INFERCHIP, "compare", paths[0], "--format", "json"],
                                 [INFERCHIP, "compare", *paths, "--format", "json"]], runs)
    record("inferchip compare, one workload (JSON)", f"{one_s:.3f} s")
    record("inferchip compare, ten workloads in one call (JSON)", f"{ten_s:.3f} s",
           f"<= 2 x one = {2 * one_s:.3f} s", ten_s <= 2 * one_s)
    record("  ratio to one workload", f"{ten_s / one_s:.2f} x", "<= 2 x", ten_s <= 2 * one_s)


def sweep_specs(chips: int) -> tuple[list[str], list[str]]:
    """A procurement grid (cost keys x one performance key) and a performance-only grid,
    each sized to >= 1,000,000 rows for a catalog of `chips` accelerators."""
    others = 6 * 4 * 5 * 5  # pue x server life x cost of capital x utilisation
    electricity = math.ceil(1_000_000 / (others * chips))
    cost = [f"electricity_usd_per_kwh=0.04:0.20:{electricity}", "pue=1.1:1.6:6", "server_life_years=3:6:4",
            "cost_of_capital=0.05:0.15:5", "utilisation_target=0.5:0.9:5"]
    tokens = math.ceil(1_000_000 / (200 * chips))
    perf = ["tpot_ms=20:200:200", f"queries_per_day=1e4:1e8:{tokens}:log"]
    return cost, perf


def bench_sweep_eval(label: str, specs: list[str], target_rate: float | None = None, runs: int = 1) -> tuple[float, int]:
    """Wall time of evaluating the whole grid in process (a fresh plan each run, as a CLI
    call makes one); the median of `runs` (the first run in a process also pays its
    first-touch memory and lazy imports)."""
    from inferchip import sweep as sw
    from inferchip.inputs import load_inputs

    inputs = load_inputs(None)
    times = []
    for _ in range(runs):
        plan = sw.plan(inputs.workload, inputs.assumptions, inputs.chips, [sw.parse_vary(s) for s in specs])
        start = time.perf_counter()
        rows = sum(len(chunk) for chunk in sw.iter_chunks(plan))
        times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    record(f"sweep evaluation, {label}: {rows:,} rows" + (f" (median of {runs})" if runs > 1 else ""),
           f"{seconds:.2f} s", "")
    rate = rows / seconds
    if target_rate is None:
        record(f"  rows per second ({label})", f"{rate:,.0f}", "reported")
    else:
        record(f"  rows per second ({label})", f"{rate:,.0f}", f">= {target_rate:,.0f}", rate >= target_rate)
    return seconds, rows


def bench_sweep_cli(specs: list[str], folder: Path, fmt: str, target_s: float, runs: int = 3) -> None:
    """The median wall time of `runs` runs (each a fresh process, as a script calls it;
    one run on a shared machine can be 30 % off) and the largest peak memory among them."""
    target = folder / f"sweep.{fmt}"
    argv = [INFERCHIP, "sweep", *sum((["--vary", s] for s in specs), []), "--format", fmt, "--output", str(target)]
    if fmt == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            record("inferchip sweep ... --format parquet", "not installed", "pip install 'inferchip[parquet]'", False)
            return
    measured = [run_child(argv) for _ in range(runs)]
    if any(code != 0 for _, _, code in measured):
        code = next(code for _, _, code in measured if code != 0)
        record(f"inferchip sweep ... --format {fmt} -o FILE", f"exit {code}", f"<= {target_s} s", False)
        return
    walls = sorted(wall for wall, _, _ in measured)
    wall, rss_mb = statistics.median(walls), max(rss for _, rss, _ in measured)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        rows = pq.ParquetFile(target).metadata.num_rows
    else:
        rows = sum(1 for _ in target.open()) - 1
    size_mb = target.stat().st_size / 1e6
    record(f"inferchip sweep ... --format {fmt} -o FILE: {rows:,} rows", f"{wall:.2f} s", f"<= {target_s} s",
           rows >= 1_000_000 and wall <= target_s)
    if runs > 1:
        record(f"  that is the median of {runs} runs; fastest and slowest", f"{walls[0]:.2f}-{walls[-1]:.2f} s")
    record(f"  rows per second, evaluation + {fmt} (CLI)", f"{rows / wall:,.0f}")
    if fmt == "parquet":
        record("  peak memory of that process", f"{rss_mb:,.0f} MB", "<= 400 MB", rss_mb <= 400)
    else:  # the CSV writer formats rows in worker processes (report.row_workers): their memory counts
        tree_mb = tree_peak_mb(argv)
        record("  peak memory of the largest of its processes", f"{rss_mb:,.0f} MB")
        record("  peak memory of it and its workers (summed PSS, another run)", f"{tree_mb:,.0f} MB", "<= 400 MB",
               tree_mb <= 400)
    record(f"  {fmt} size", f"{size_mb:,.0f} MB")


def bench_uncertainty(folder: Path, samples: int) -> None:
    target = folder / "u.json"
    argv = [INFERCHIP, "uncertainty", "--samples", str(samples), "--seed", "1", "--format", "json",
            "--output", str(target)]
    wall, rss_mb, code = run_child(argv)
    record(f"inferchip uncertainty --samples {samples:,} (whole catalog)", f"{wall:.2f} s", "< 5 s",
           code == 0 and wall < 5)
    record("  peak memory of that process", f"{rss_mb:,.0f} MB")

    from inferchip import uncertainty as unc
    from inferchip.inputs import load_inputs

    inputs = load_inputs(None)
    unc.run(inputs.workload, inputs.assumptions, inputs.chips, 1000, 0)  # warm up
    start = time.perf_counter()
    unc.run(inputs.workload, inputs.assumptions, inputs.chips, samples, 1)
    seconds = time.perf_counter() - start
    record("  in process (no start-up)", f"{seconds:.2f} s")
    record("  samples x accelerators per second", f"{samples * len(inputs.chips) / seconds:,.0f}")


def bench_loop_vs_vectorized(specs: list[str], label: str, sample_points: int) -> None:
    """The same model one scenario at a time (a Python loop over grid points, each a
    `compare`-style evaluation of the whole catalog) against the chunked pipeline."""
    import numpy as np
    import pandas as pd

    from inferchip import sweep as sw
    from inferchip.compare import evaluate, scenario_frame
    from inferchip.inputs import load_inputs

    inputs = load_inputs(None)
    plan = sw.plan(inputs.workload, inputs.assumptions, inputs.chips, [sw.parse_vary(s) for s in specs],
                   ["cost_per_query_usd"])
    picks = np.linspace(0, plan.grid_points - 1, sample_points).astype(int)
    w = inputs.workload
    start = time.perf_counter()
    looped = []
    for g in picks.tolist():  # the straightforward way: one scenario, one evaluation
        index = np.unravel_index(g, plan.shape)
        scen = scenario_frame(w, inputs.assumptions, 1)
        for vary, i in zip(plan.varies, index, strict=True):
            scen[vary.key] = [vary.values[int(i)]]
            if vary.key == "params_b" and w.active_params_b == w.params_b:
                scen["active_params_b"] = [vary.values[int(i)]]
        looped.append(evaluate(w.kind, plan.chips, scen, w.precision, w.kv_precision,
                               measured=plan.measured)["cost_per_query_usd"].to_numpy())
    loop_s = time.perf_counter() - start
    loop_rate = len(picks) * len(plan.chips) / loop_s
    start = time.perf_counter()
    frames = [chunk for chunk in sw.iter_chunks(plan)]
    vector_s = time.perf_counter() - start
    vector_rate = plan.rows / vector_s
    whole = pd.concat(frames, ignore_index=True)["cost_per_query_usd"].to_numpy().reshape(plan.grid_points, -1)
    same = np.allclose(np.vstack(looped), whole[picks], rtol=1e-12, equal_nan=True)
    record(f"per-scenario loop, {label} ({len(picks)} grid points)", f"{loop_rate:,.0f} rows/s")
    record(f"vectorized pipeline, {label} ({plan.rows:,} rows)", f"{vector_rate:,.0f} rows/s")
    record(f"  speedup, {label} (same numbers: {'yes' if same else 'NO'})", f"{vector_rate / loop_rate:,.0f} x",
           ">= 100 x", same and vector_rate / loop_rate >= 100)


def bench_plan(runs: int) -> None:
    """`inferchip plan`: the whole catalog over 5 years, growing traffic, a facility that binds (issue 14)."""
    argv = [INFERCHIP, "plan", "--years", "5", "--traffic-growth-per-year", "0.6", "--set", "queries_per_day=5e7",
            "--it-kw", "600", "--racks", "20", "--kw-per-rack", "40", "--refresh-to", "B200", "--format", "json"]
    wall = median_wall(argv, runs)
    record("inferchip plan (whole catalog, 5 years, facility, JSON)", f"{wall:.2f} s", "<= 2 s", wall <= 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")
    args = parser.parse_args()
    runs = 3 if args.quick else 7
    sys.path.insert(0, str(ROOT))
    from inferchip.inputs import load_inputs

    chips = len(load_inputs(None).chips)
    cost_grid, perf_grid = sweep_specs(chips)
    print(f"inferchip bench on {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; catalog of {chips} "
          f"accelerators" + ("; PYTHONDONTWRITEBYTECODE is set here and dropped for the measured commands"
                             if "PYTHONDONTWRITEBYTECODE" in os.environ else ""))
    from inferchip.runcache import cache_folder

    folder = cache_folder(CHILD_ENV)
    print("parsed bundled data kept between runs in " + (f"{folder} (inferchip.runcache; each command's warm-up run"
          " fills it)" if folder else "no folder: INFERCHIP_CACHE_DIR is empty, every run parses the data"))
    print(f"cost grid: {' x '.join(cost_grid)}")
    print(f"performance grid: {' x '.join(perf_grid)}\n")
    bench_startup(runs)
    bench_plan(runs)
    bench_sweep_eval("cost grid", cost_grid, 2_000_000, runs=3)
    bench_sweep_eval("performance grid", perf_grid)
    with tempfile.TemporaryDirectory(prefix="inferchip-bench-") as tmp:
        bench_sweep_cli(cost_grid, Path(tmp), "csv", 3.0, runs=1 if args.quick else 3)
        bench_sweep_cli(cost_grid, Path(tmp), "parquet", 1.5, runs=1 if args.quick else 3)
        bench_many_workloads(runs, Path(tmp))
        bench_uncertainty(Path(tmp), 100_000)
    bench_loop_vs_vectorized(cost_grid, "cost grid", 60 if args.quick else 200)
    bench_loop_vs_vectorized(perf_grid, "performance grid", 60 if args.quick else 200)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    record("peak memory of this bench process", f"{peak:,.0f} MB")
    missed = [name for name, _, _, ok in RESULTS if ok is False]
    print(f"\nload average now {os.getloadavg()[0]:.2f}; "
          + ("every target met" if not missed else f"missed: {'; '.join(n.strip() for n in missed)}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
