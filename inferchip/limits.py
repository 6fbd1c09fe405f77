"""Memory ceilings, checked from the size of the requested work before it starts.

A run whose estimated peak memory is above the ceiling is refused up front with
the estimate and the largest request that fits, instead of growing past the
machine's memory. The estimates are deliberately generous upper bounds, fitted
to peak RSS measured with the bundled catalog (27 accelerators) and a 2-chip
catalog (tests/test_hostile.py checks a run at the ceiling stays below it):

    uncertainty [bytes] = FIXED + PER_CHIP x chips
                          + samples x (PER_DRAW x (sampled keys + groups) + PER_SAMPLE_CHIP x chips)
    sweep [bytes]       = FIXED + PER_CHIP x chips + SWEEP_CHUNKS
                          + chart points x chips x PER_CHART_ROW (with --chart)

Measured (2026-11, this machine): uncertainty peaks at 308 MB for 100,000 samples
x 27 chips, 451 MB for 400,000 x 27, 469 MB for 1,000,000 x 2; the formula gives
443 MB, 719 MB and 582 MB. The largest request the 2 GB ceiling accepted for that
27-chip catalog, 1,792,891 samples (estimate 2.00 GB), peaked at 1,629 MB. A sweep streams its grid in chunks, so its memory does
not grow with the number of grid points, only with what --chart keeps.

The ceiling is 2 GB (MEMORY_CEILING_BYTES); the environment variable
INFERCHIP_MEMORY_CEILING_MB lowers (or raises) it, e.g. on a small shared machine."""

from __future__ import annotations

import os

from inferchip.errors import UsageError

MEMORY_CEILING_BYTES = 2_000_000_000
CEILING_ENV = "INFERCHIP_MEMORY_CEILING_MB"
FIXED_BYTES = 350_000_000  # interpreter, pandas, bundled data, the batch frames of two threads
PER_CHIP_BYTES = 20_000  # catalog row, its results and frames per accelerator
PER_DRAW_BYTES = 8  # one float64 per sample and sampled key (or efficiency group)
PER_SAMPLE_CHIP_BYTES = 24  # costs, their finite mask and the percentile copy per sample and chip
SWEEP_CHUNK_BYTES = 450_000_000  # two chunks in flight (the largest chunk is ~200 MB of arrays)
PER_CHART_ROW_BYTES = 120  # a kept (x, accelerator, cost) row of the --chart slice


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


def uncertainty_bytes(samples: int, chips: int, sampled: int) -> int:
    """Estimated peak memory of `uncertainty` [bytes] for `samples` draws over `chips`
    accelerators with `sampled` drawn columns (assumptions + efficiency groups)."""
    per_sample = PER_DRAW_BYTES * sampled + PER_SAMPLE_CHIP_BYTES * chips
    return FIXED_BYTES + PER_CHIP_BYTES * chips + samples * per_sample


def check_uncertainty(samples: int, chips: int, sampled: int) -> None:
    """Refuse a sample count whose estimated memory is above the ceiling, naming the
    estimate and the largest --samples that fits."""
    need, limit = uncertainty_bytes(samples, chips, sampled), ceiling_bytes()
    if need <= limit:
        return
    per_sample = PER_DRAW_BYTES * sampled + PER_SAMPLE_CHIP_BYTES * chips
    fits = max(0, (limit - FIXED_BYTES - PER_CHIP_BYTES * chips) // per_sample)
    fix = f"use --samples {fits:,} or fewer" if fits >= 1 else "use a smaller catalog"
    raise UsageError(f"--samples {samples:,}: needs about {_gb(need)} of memory for {chips:,} accelerators,"
                     f" above the {_gb(limit)} ceiling; {fix}")


def sweep_bytes(chips: int, chart_points: int = 0) -> int:
    """Estimated peak memory of `sweep` [bytes]: fixed, two chunks in flight, and the
    --chart slice (`chart_points` values of the charted key x chips rows)."""
    return FIXED_BYTES + PER_CHIP_BYTES * chips + SWEEP_CHUNK_BYTES + chart_points * chips * PER_CHART_ROW_BYTES


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
