"""Calibration support ("trust") of a modeled result: how much measured data stands behind it.

Every `compare` row takes its efficiency factors from its chip family's calibration, else its
kind's (calibration.attach_factors). This module says, per row, for the workload's class
(llm or fixed work), from the committed held-out predictions (data/heldout.csv, written by
`make validate-splits`):

- calibration_scope: family | kind | all — where the factors come from ("all": the chip's
  kind has fewer than MIN_KIND_ROWS fitted rows, so calibrate gave it the fit over all rows);
- calibration_rows: fitted benchmark rows of the chip's own family (scope family) or kind
  (scope kind / all) in the workload's class [count];
- heldout_median_abs_error: median |predicted / measured - 1| of those rows when each is
  predicted by a fit that did not see it [fraction]: the time split (fit on MLPerf
  v4.x, predict v5.1) where the group has v5.1 rows, else leave-one-out; a group with no
  rows takes the time-split error of every row of the class (a new chip is like a new round);
- heldout_split: which of these the error is (time | loo | time, all rows of the class);
- measured_anchor: the throughput is a measured benchmark row (throughput_source measured);
- thin_data: not measured_anchor and (calibration_rows < THIN_ROWS or the held-out error is
  above THIN_ERROR or unknown).

Only MLPerf rows count for the error (vendor claims are reported apart, never pooled).
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from inferchip.runcache import persistent

THIN_ROWS = 4  # fewer fitted rows than this: thin (calibrate fits both factors from 4 rows)
THIN_ERROR = 0.25  # held-out median |error| above this: thin
MIN_KIND_ROWS = 4  # calibrate.MIN_ROWS_TWO_FACTORS: a kind with fewer rows takes the fit over all rows
TRUST_FIELDS = ("calibration_scope", "calibration_rows", "heldout_median_abs_error", "heldout_split",
                "measured_anchor", "thin_data")


def group_support(heldout: pd.DataFrame, workload_kind: str) -> pd.DataFrame:
    """Per calibration group ('family X' / 'kind Y') of the workload's class: fitted rows,
    held-out median |error| and the split it comes from; plus the class-wide row 'class'.
    Vectorized: one pass of numpy masks per group over a few hundred rows (cheaper
    than groupby at this size)."""
    mine = (heldout["kind"] == workload_kind).to_numpy()
    column = lambda name: heldout[name].to_numpy()[mine]  # noqa: E731
    split_of, fitted = column("split"), column("fitted").astype(bool)
    errors = np.abs(column("ratio").astype(float) - 1.0)
    counted = column("held_out").astype(bool) & (column("measurement_kind") == "mlperf") & ~np.isnan(errors)
    loo, time = split_of == "loo", (split_of == "time") & counted
    loo_held = loo & counted
    median = lambda mask: float(np.median(errors[mask])) if mask.any() else np.nan  # noqa: E731
    groups, fitted_rows, error, split = [], [], [], []
    for scope, name in (("family", "family"), ("kind", "chip_kind")):
        values = column(name).astype(str)
        for key in sorted(set(values[loo].tolist())):
            at = values == key
            by_time, by_loo = median(at & time), median(at & loo_held)
            groups.append(scope + " " + key)
            fitted_rows.append(int((at & loo & fitted).sum()))
            error.append(by_time if not np.isnan(by_time) else by_loo)
            split.append("time" if not np.isnan(by_time) else "loo" if not np.isnan(by_loo) else "")
    groups.append("class")
    fitted_rows.append(int(fitted[loo].sum()))
    error.append(median(time))
    split.append("time, all rows of the class")
    return pd.DataFrame({"group": groups, "rows": np.array(fitted_rows, dtype=np.int64),
                         "error": np.array(error, dtype=float), "split": split})


@functools.lru_cache(maxsize=4)
@persistent({"heldout.csv": "held-out"})
def _bundled_support(workload_kind: str) -> pd.DataFrame:
    """group_support of the bundled data/heldout.csv, once per process and class."""
    from inferchip.validate_split import read_heldout

    return group_support(read_heldout(), workload_kind)


def annotate(results: pd.DataFrame, chips: pd.DataFrame, workload_kind: str,
             heldout: pd.DataFrame | None = None) -> pd.DataFrame:
    """The result rows with the TRUST_FIELDS columns (rules in the module docstring);
    `chips` are the catalog rows with calibration factors attached (any order). Lookups
    by plain dicts: a run annotates tens of rows, where each pandas call costs more."""
    support = _bundled_support(workload_kind) if heldout is None else group_support(heldout, workload_kind)
    sources = dict(zip(chips["name"].str.lower().tolist(), chips["calibration_source"].tolist(), strict=True))
    # the group named before the first ':' of calibration_source ('family x: ...' / 'kind y: ...')
    head = [(s if isinstance(s, str) else "").split(":")[0].strip()
            for s in (sources.get(name, "") for name in results["accelerator"].str.lower().tolist())]
    fitted = dict(zip(support["group"].tolist(), support["rows"].tolist(), strict=True))
    errors = dict(zip(support["group"].tolist(), support["error"].tolist(), strict=True))
    splits = dict(zip(support["group"].tolist(), support["split"].tolist(), strict=True))
    rows = np.array([fitted.get(h, 0) for h in head], dtype=float)
    scope = np.array([h.split(" ", 1)[0] if " " in h else "" for h in head], dtype=object)
    # a kind with fewer fitted rows than MIN_KIND_ROWS takes the fit over all rows
    scope = np.where((scope == "kind") & (rows < MIN_KIND_ROWS), "all", scope)
    error = np.array([errors.get(h, np.nan) for h in head], dtype=float)
    split = np.array([splits.get(h, "") for h in head], dtype=object)
    no_error = ~np.isfinite(error)
    if "class" in errors:
        error = np.where(no_error, errors["class"], error)
        split = np.where(no_error, splits["class"], split)
    anchor = (results["throughput_source"].to_numpy(dtype=object) == "measured") if "throughput_source" in results \
        else np.zeros(len(results), dtype=bool)
    thin = ~anchor & ((rows < THIN_ROWS) | ~(error <= THIN_ERROR))
    return results.assign(calibration_scope=scope, calibration_rows=rows.astype(int),
                          heldout_median_abs_error=np.where(np.isfinite(error), error, np.nan),
                          heldout_split=split, measured_anchor=anchor, thin_data=thin)


def not_modelled(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows whose cost comes from a price list, not from the throughput model (per-token
    API options): no calibration behind them, and nothing for it to be thin about."""
    return rows.assign(calibration_scope="", calibration_rows=0, heldout_median_abs_error=np.nan,
                       heldout_split="", measured_anchor=False, thin_data=False)
