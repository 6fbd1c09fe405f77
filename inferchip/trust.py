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

THIN_ROWS = 4  # fewer fitted rows than this: thin (calibrate fits both factors from 4 rows)
THIN_ERROR = 0.25  # held-out median |error| above this: thin
MIN_KIND_ROWS = 4  # calibrate.MIN_ROWS_TWO_FACTORS: a kind with fewer rows takes the fit over all rows
TRUST_FIELDS = ("calibration_scope", "calibration_rows", "heldout_median_abs_error", "heldout_split",
                "measured_anchor", "thin_data")


def group_support(heldout: pd.DataFrame, workload_kind: str) -> pd.DataFrame:
    """Per calibration group ('family X' / 'kind Y') of the workload's class: fitted rows,
    held-out median |error| and the split it comes from; plus the class-wide row 'class'.
    Vectorized: one groupby per (scope, split)."""
    rows = heldout[heldout["kind"] == workload_kind]
    mlperf = rows["measurement_kind"] == "mlperf"
    loo = rows[rows["split"] == "loo"]
    errors = (rows["ratio"] - 1.0).abs()
    time = rows.assign(e=errors)[(rows["split"] == "time") & rows["held_out"] & mlperf & errors.notna()]
    loo_held = rows.assign(e=errors)[(rows["split"] == "loo") & rows["held_out"] & mlperf & errors.notna()]
    parts = []
    for scope, column in (("family", "family"), ("kind", "chip_kind")):
        keys = pd.Index(sorted(set(loo[column].astype(str))))
        fitted = loo[loo["fitted"]].groupby(column).size().reindex(keys).fillna(0).astype(int)
        by_time = time.groupby(column)["e"].median().reindex(keys)
        by_loo = loo_held.groupby(column)["e"].median().reindex(keys)
        error = by_time.fillna(by_loo)
        split = np.where(by_time.notna(), "time", np.where(by_loo.notna(), "loo", ""))
        parts.append(pd.DataFrame({"group": scope + " " + keys.to_numpy(dtype=object), "rows": fitted.to_numpy(),
                                   "error": error.to_numpy(float), "split": split}))
    whole = pd.DataFrame([{"group": "class", "rows": int(loo["fitted"].sum()),
                           "error": float(time["e"].median()) if len(time) else float("nan"),
                           "split": "time, all rows of the class"}])
    return pd.concat([*parts, whole], ignore_index=True)[["group", "rows", "error", "split"]]


@functools.lru_cache(maxsize=4)
def _bundled_support(workload_kind: str) -> pd.DataFrame:
    """group_support of the bundled data/heldout.csv, once per process and class."""
    from inferchip.validate_split import read_heldout

    return group_support(read_heldout(), workload_kind)


def _scope(chips: pd.DataFrame, support: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(scope, group name) per chip from its calibration_source ('family x: ...' / 'kind y: ...')."""
    source = chips["calibration_source"].fillna("").astype(str)
    head = source.str.split(":").str[0].str.strip().to_numpy(dtype=object)
    scope = np.array([h.split(" ", 1)[0] if " " in h else "" for h in head], dtype=object)
    kind_rows = support.set_index("group")["rows"]
    kind_fitted = pd.Series(head).map(kind_rows).fillna(0).to_numpy(float)
    scope = np.where((scope == "kind") & (kind_fitted < MIN_KIND_ROWS), "all", scope)
    return scope, head


def annotate(results: pd.DataFrame, chips: pd.DataFrame, workload_kind: str,
             heldout: pd.DataFrame | None = None) -> pd.DataFrame:
    """The result rows with the TRUST_FIELDS columns (rules in the module docstring);
    `chips` are the catalog rows with calibration factors attached (any order)."""
    support = _bundled_support(workload_kind) if heldout is None else group_support(heldout, workload_kind)
    by_name = chips.assign(_key=chips["name"].str.lower()).drop_duplicates("_key", keep="last").set_index("_key")
    at = by_name.reindex(results["accelerator"].str.lower().to_numpy())
    scope, group = _scope(at.reset_index(drop=True), support)
    table = support.set_index("group")
    rows = pd.Series(group).map(table["rows"]).fillna(0).to_numpy(float)
    error = pd.Series(group).map(table["error"]).to_numpy(float)
    split = pd.Series(group).map(table["split"]).fillna("").to_numpy(dtype=object)
    class_row = table.loc["class"] if "class" in table.index else None
    no_error = ~np.isfinite(error)
    if class_row is not None:
        error = np.where(no_error, float(class_row["error"]), error)
        split = np.where(no_error, class_row["split"], split)
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
