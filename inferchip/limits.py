"""Memory ceilings, checked from the size of the requested work before it starts.

A run whose estimated peak memory is above the ceiling is refused up front with
the estimate and the largest request that fits, instead of growing past the
machine's memory. The estimates are upper bounds fitted to peak RSS measured in
a process of its own (tests/test_hostile.py runs the largest accepted request
under a lowered ceiling and checks its peak stays below it):

    uncertainty [bytes] = BASE + UNCERTAINTY_BATCHES + PER_CHIP x chips
                          + samples x (PER_DRAW x (sampled keys + groups)
                                       + PER_SAMPLE_CHIP x chips
                                       + PER_RANGED_VALUE x live chips x ranged catalog columns)
    sweep [bytes]       = BASE + SWEEP_CHUNKS + PER_CHIP x chips
                          + chart points x chips x PER_CHART_ROW (with --chart)

Measured 2026-12-01 on this machine (2 cores), peak RSS:
- start-up and bundled data: 86-108 MB for any command at the smallest request;
- uncertainty, 2-chip catalog without ranged values: 390 MB at 100,000 samples,
  430 MB at 300,000, 517 MB at 600,000; bundled 43-chip catalog (32 ranged
  catalog values drawn per sample): 547 MB at 20,000 samples, 528 MB at 60,000,
  591 MB at 100,000, 689 MB at 200,000
  (the two batch threads take 270-420 MB whatever the sample count; the ranged
  draws are kept for the ranged chips only, estimates.DrawnColumn);
- sweep, 43 chips in 32,768-row chunks, two in flight: 322-327 MB for a cost grid
  of 860,000 or 1,006,200 rows, 413 MB for a performance grid of 172,000 rows
  (65,536-row chunks peaked at 440-472 MB, 262,144-row ones at 1.28 GB);
  with --chart on a 2-chip catalog (65,536-row chunks): 319 MB at 50,000 chart
  points, 417 MB at 200,000, 460 MB at 400,000, 952 MB at 1,500,000 (~220 bytes
  per kept row: the slice, its concatenation and the pivot); 329 MB at 200,000
  in 32,768-row chunks.
The constants below sit 10-50 % above every measurement.

The ceiling is 2 GB (MEMORY_CEILING_BYTES); the environment variable
INFERCHIP_MEMORY_CEILING_MB lowers (or raises) it, e.g. on a small shared machine."""

from __future__ import annotations

import os

from inferchip.errors import UsageError

MEMORY_CEILING_BYTES = 2_000_000_000
CEILING_ENV = "INFERCHIP_MEMORY_CEILING_MB"
BASE_BYTES = 150_000_000  # interpreter, pandas, numpy and the bundled data (measured 86-108 MB)
UNCERTAINTY_BATCH_BYTES = 450_000_000  # batch frames and model intermediates of two threads (270-420 MB measured)
SWEEP_CHUNK_BYTES = 350_000_000  # two 32,768-row chunks in flight (~4 KB of intermediates per row)
PER_CHIP_BYTES = 20_000  # catalog row, its results and frames per accelerator
PER_DRAW_BYTES = 8  # one float64 per sample and sampled key (or efficiency group)
PER_SAMPLE_CHIP_BYTES = 48  # cost, its finite mask, the masked and percentile copies per sample and chip
PER_RANGED_VALUE_BYTES = 10  # one float64 draw per sample and ranged (chip, column) value (+25 %)
PER_CHART_ROW_BYTES = 300  # a kept (x, accelerator, cost) row of the --chart slice, concatenated and pivoted


def ceiling_bytes() -> int:
    """The memory ceiling in force [bytes]: 2 GB, or INFERCHIP_MEMORY_CEILING_MB."""
    text = os.environ.get(CEILING_ENV, "").strip()
    if not text:
        return MEMORY_CEILING_BYTES
    try:
        megabytes = float(text)
    except ValueError:
        megabytes = float("nan")
    if not 1 <= megabytes <= 1e9:
        raise UsageError(f"{CEILING_ENV}={text[:40]}: must be a number of megabytes from 1 to 1e9")
    return int(megabytes * 1_000_000)


def _per_sample_bytes(chips: int, sampled: int, ranged_values: int) -> int:
    return PER_DRAW_BYTES * sampled + PER_SAMPLE_CHIP_BYTES * chips + PER_RANGED_VALUE_BYTES * ranged_values


def uncertainty_bytes(samples: int, chips: int, sampled: int, ranged_values: int = 0) -> int:
    """Estimated peak memory of `uncertainty` [bytes] for `samples` draws over `chips`
    accelerators with `sampled` drawn columns (assumptions + efficiency groups) and
    `ranged_values` estimated catalog values drawn per sample (live chips x ranged columns)."""
    fixed = BASE_BYTES + UNCERTAINTY_BATCH_BYTES + PER_CHIP_BYTES * chips
    return fixed + samples * _per_sample_bytes(chips, sampled, ranged_values)


def check_uncertainty(samples: int, chips: int, sampled: int, ranged_values: int = 0) -> None:
    """Refuse a sample count whose estimated memory is above the ceiling, naming the
    estimate and the largest --samples that fits."""
    need, limit = uncertainty_bytes(samples, chips, sampled, ranged_values), ceiling_bytes()
    if need <= limit:
        return
    fixed = uncertainty_bytes(0, chips, sampled, ranged_values)
    fits = max(0, (limit - fixed) // _per_sample_bytes(chips, sampled, ranged_values))
    fix = f"use --samples {fits:,} or fewer" if fits >= 1 else "use a smaller catalog"
    raise UsageError(f"--samples {samples:,}: needs about {_gb(need)} of memory for {chips:,} accelerators,"
                     f" above the {_gb(limit)} ceiling; {fix}")


def sweep_bytes(chips: int, chart_points: int = 0) -> int:
    """Estimated peak memory of `sweep` [bytes]: fixed, two chunks in flight, and the
    --chart slice (`chart_points` values of the charted key x chips rows)."""
    return BASE_BYTES + PER_CHIP_BYTES * chips + SWEEP_CHUNK_BYTES + chart_points * chips * PER_CHART_ROW_BYTES


def check_sweep(chips: int, chart_key: str | None = None, chart_points: int = 0) -> None:
    """Refuse a sweep whose estimated memory is above the ceiling."""
    need, limit = sweep_bytes(chips, chart_points), ceiling_bytes()
    if need <= limit:
        return
    if chart_key:
        raise UsageError(f"--chart: {chart_points:,} points of {chart_key} x {chips:,} accelerators need about"
                         f" {_gb(need)} of memory, above the {_gb(limit)} ceiling; vary {chart_key} over fewer"
                         " points or drop --chart")
    raise UsageError(f"sweep over {chips:,} accelerators needs about {_gb(need)} of memory, above the"
                     f" {_gb(limit)} ceiling; use a smaller catalog")


def _gb(count: int) -> str:
    return f"{count / 1e9:.2f} GB"
