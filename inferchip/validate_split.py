"""Held-out validation: predict benchmark rows with factors fitted without them.

`inferchip validate --split S` refits the efficiency factors (calibrate.run, the same fit
`inferchip calibrate` makes) on a training subset of data/benchmarks.csv and predicts the
rows left out, then reports the held-out error:

- none: in-sample, the committed data/calibration.csv (what plain `validate` shows);
- loo: leave-one-out, each fitted row predicted by a fit without it (calibrate's own LOO);
- time: fit on rows dated before TIME_SPLIT_DATE (MLPerf v4.0/v4.1), predict the later
  rows (MLPerf v5.1): the error to expect on hardware and software the fit has not seen;
- family: leave one chip family out (a new architecture: its rows take their kind's factors);
- benchmark: leave one benchmark model out (a model the fit has not seen).

    held-out log ratio = ln(predicted_heldout / measured);  error = ratio - 1

Statistics (summarize_groups) per measurement kind (MLPerf and vendor-claim rows are never
pooled) and per class, benchmark model, scenario and chip family: rows, median |error|,
geometric-mean ratio exp(mean log ratio), worst ratio (largest |log ratio|) and the share
of rows within +-25 %.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable

import numpy as np
import pandas as pd

from inferchip.runcache import persistent
from inferchip.validate import WITHIN

SPLITS = ("none", "loo", "time", "family", "benchmark")
TIME_SPLIT_DATE = "2025-01-01"  # rows dated before: MLPerf v4.0/v4.1 (2024); on or after: v5.1 (2025-09)
GROUP_COLUMNS = (("class", "kind"), ("model", "model"), ("scenario", "scenario"), ("family", "family"))
ROW_COLUMNS = ("accelerator", "model", "kind", "scenario", "family", "chip_kind", "measurement_kind", "fitted", "date",
               "precision",
               "accelerator_count", "throughput_unit", "measured_per_accelerator", "predicted_per_accelerator",
               "ratio", "error", "held_out", "fold", "note", "benchmark_line")


def folds(frame: pd.DataFrame, split: str) -> list[tuple[str, np.ndarray]]:
    """(fold label, held-out mask) of every fold of a split; a fold trains on ~mask."""
    if split == "time":
        return [(f"fit before {TIME_SPLIT_DATE}, predict after", frame["date"].astype(str).to_numpy() >= TIME_SPLIT_DATE)]
    column = {"family": "family", "benchmark": "model"}[split]
    values = frame[column].fillna("").astype(str).to_numpy()
    label = "family" if split == "family" else "model"
    return [(f"without {label} {v}", values == v) for v in sorted(set(values))]


def _base(bench: pd.DataFrame, chips: pd.DataFrame, calibration: pd.DataFrame,
          assumptions: dict[str, object]) -> tuple[pd.DataFrame, pd.DataFrame]:
    from inferchip import validate

    table = validate.run(bench, chips, calibration, assumptions)
    frame = validate.validation_frame(bench, chips)
    table = table.assign(family=frame["family"].fillna("").astype(str).to_numpy(),
                         chip_kind=frame["chip_kind"].fillna("").astype(str).to_numpy(),
                         measurement_kind=frame["measurement_kind"].astype(str).to_numpy(),
                         date=frame["date"].astype(str).to_numpy(),
                         fitted=np.isfinite(table["ratio"].to_numpy(float)) & ~table["power_capped"].to_numpy(bool))
    return table, frame


def run_split(bench: pd.DataFrame, chips: pd.DataFrame, calibration: pd.DataFrame, assumptions: dict[str, object],
              split: str, progress: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Per benchmark row (in order): the held-out prediction under `split`, with `held_out`
    (the row was predicted by a fit that did not see it; `none`: every predicted row) and
    `fold`. Training-only rows of the time split carry no prediction."""
    from inferchip import calibrate, validate

    table, frame = _base(bench, chips, calibration, assumptions)
    measured = table["measured_per_accelerator"].to_numpy(float)
    if split == "none":
        held = np.isfinite(table["ratio"].to_numpy(float))
        return _finish(table, table["predicted_per_accelerator"].to_numpy(float), held,
                       np.where(held, "in-sample (data/calibration.csv)", ""), table["note"].to_numpy(object))
    predicted = np.full(len(table), np.nan)
    fold = np.full(len(table), "", dtype=object)
    note = np.full(len(table), "", dtype=object)
    if split == "loo":
        if progress:
            progress(f"leave-one-out: {len(frame)} rows, one fit per fitted row")
        result = calibrate.run(frame, assumptions, leave_one_out=True)
        predicted = measured * np.exp(result.rows["loo_log_ratio"].to_numpy(float))
        held = np.isfinite(predicted)
        fold = np.where(result.rows["fitted"].to_numpy(bool), "leave-one-out", "not fitted (power-capped): factors of all rows")
        note = np.where(held, "", table["note"].to_numpy(object))
        return _finish(table, predicted, held, np.where(held, fold, ""), note)
    held = np.zeros(len(table), dtype=bool)
    for label, mask in folds(frame, split):
        train = ~mask
        if not mask.any():
            continue
        if progress:
            progress(f"{split} split: {label} ({int(train.sum())} training rows, {int(mask.sum())} held out)")
        if not train.any():
            note[mask] = "no training rows"
            continue
        fit = calibrate.run(frame[train].reset_index(drop=True), assumptions, leave_one_out=False)
        part = validate.run(bench[mask].reset_index(drop=True), chips, fit.factors, assumptions)
        predicted[mask] = part["predicted_per_accelerator"].to_numpy(float)
        held[mask] = True
        fold[mask] = label
        note[mask] = part["note"].to_numpy(object)
    note = np.where(held, note, "training row of this split")
    return _finish(table, predicted, held & np.isfinite(predicted), fold, note)


def _finish(table: pd.DataFrame, predicted: np.ndarray, held: np.ndarray, fold: np.ndarray,
            note: np.ndarray) -> pd.DataFrame:
    measured = table["measured_per_accelerator"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = predicted / measured
    out = table.assign(predicted_per_accelerator=predicted, ratio=ratio, error=ratio - 1.0, held_out=held,
                       fold=fold, note=note)
    return out[list(ROW_COLUMNS)].assign(log_ratio=np.log(ratio))


def _stats(logs: np.ndarray) -> dict[str, object]:
    abs_err = np.abs(np.expm1(logs))
    worst = int(np.argmax(np.abs(logs)))
    return {"rows": int(len(logs)), "median_abs_error": float(np.median(abs_err)),
            "geomean_ratio": float(np.exp(np.mean(logs))), "worst_ratio": float(np.exp(logs[worst])),
            "within_25_percent_share": float(np.mean(abs_err <= WITHIN + 1e-12)), "_worst": worst}


def summarize_groups(table: pd.DataFrame) -> list[dict[str, object]]:
    """Error statistics of the held-out rows, one record per (measurement kind, group by,
    group): group by class (llm, fixed, all), model, scenario and family. Measurement
    kinds are never pooled."""
    part = table[table["held_out"].to_numpy(bool) & np.isfinite(table["log_ratio"].to_numpy(float))]
    out: list[dict[str, object]] = []
    for kind in sorted(set(part["measurement_kind"])):
        rows = part[part["measurement_kind"] == kind]
        views = [("class", "all", np.ones(len(rows), dtype=bool))]
        for by, column in GROUP_COLUMNS:
            values = rows[column].astype(str).to_numpy()
            views += [(by, v, values == v) for v in sorted(set(values))]
        for by, value, mask in views:
            sub = rows[mask]
            stats = _stats(sub["log_ratio"].to_numpy(float))
            worst = sub.iloc[stats.pop("_worst")]
            out.append({"measurement_kind": kind, "group_by": by, "group": value, **stats,
                        "worst_case": f"{worst['accelerator']} {worst['model']} {worst['scenario']}"})
    return out


def split_document(table: pd.DataFrame, split: str, sources: dict[str, str]) -> dict[str, object]:
    """The `validate --split` result: the split, statistics per group and one record per row."""
    from inferchip import __version__
    from inferchip.document import clean_number, records

    return {
        "schema_version": 1, "inferchip_version": __version__, "command": "validate --split", "split": split,
        "time_split_date": TIME_SPLIT_DATE if split == "time" else None, "sources": sources,
        "summary": [{k: clean_number(v) for k, v in s.items()} for s in summarize_groups(table)],
        "rows": records(table.drop(columns=["log_ratio"])),
    }


# --- the committed held-out predictions (data/heldout.csv) ----------------------------------
# LOO and time-split predictions take minutes to fit, so the README table, `compare`'s
# trust fields and `uncertainty` read them from data/heldout.csv, written by
# `make validate-splits` and stamped with a digest of the inputs it was computed from.
CACHED_SPLITS = ("loo", "time")
DIGEST_FILES = ("benchmarks.csv", "calibration.csv", "catalog.csv", "models.csv", "benchmark_workloads.csv")
HELDOUT_COLUMNS = ("benchmark_line", "accelerator", "model", "scenario", "kind", "family", "chip_kind",
                   "measurement_kind", "fitted", "split", "held_out", "ratio", "inputs_digest")


def inputs_digest() -> str:
    """sha256 (first 16 hex digits) over the bundled data files the held-out fits depend on."""
    from inferchip.data_files import data_path

    digest = hashlib.sha256()
    for name in DIGEST_FILES:
        digest.update(name.encode())
        digest.update(data_path(name).read_bytes())
    return digest.hexdigest()[:16]


def heldout_csv_text(tables: dict[str, pd.DataFrame], digest: str) -> str:
    """data/heldout.csv text: one row per (benchmark row, cached split), ratio at 4 significant digits."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HELDOUT_COLUMNS)
    flag = lambda value: "true" if value else "false"  # noqa: E731
    for split in CACHED_SPLITS:
        t = tables[split]
        for row in zip(t["benchmark_line"], t["accelerator"], t["model"], t["scenario"], t["kind"], t["family"],
                       t["chip_kind"], t["measurement_kind"], t["fitted"], t["held_out"], t["ratio"], strict=True):
            line, acc, model, scen, kind, family, chip_kind, measurement, fitted, held, ratio = row
            writer.writerow([int(line), acc, model, scen, kind, family, chip_kind, measurement, flag(fitted), split,
                             flag(held), f"{float(ratio):.4g}" if np.isfinite(ratio) else "", digest])
    return buffer.getvalue()


def read_heldout(path=None) -> pd.DataFrame:
    """The committed held-out predictions (empty frame when the file is absent); the
    bundled file is read once per process (callers must not modify the frame)."""
    from inferchip.data_files import data_path

    if path is None:
        return _bundled_heldout(str(data_path("heldout.csv")))
    return _read_heldout(path)


@functools.lru_cache(maxsize=2)
@persistent({"heldout.csv": "held-out"}, paths=(0,))
def _bundled_heldout(path: str) -> pd.DataFrame:
    return _read_heldout(path)


def _read_heldout(path) -> pd.DataFrame:
    text = {c: str for c in ("split", "accelerator", "model", "scenario", "kind", "family", "chip_kind",
                             "measurement_kind", "held_out", "fitted", "inputs_digest")}
    try:
        frame = pd.read_csv(path, dtype=text, keep_default_na=False, na_values={"ratio": [""]})
    except FileNotFoundError:
        return pd.DataFrame(columns=list(HELDOUT_COLUMNS))
    return frame.assign(held_out=frame["held_out"].str.lower() == "true", fitted=frame["fitted"].str.lower() == "true",
                        ratio=pd.to_numeric(frame["ratio"], errors="coerce"))


def cached_table(bundled: pd.DataFrame, heldout: pd.DataFrame, split: str) -> pd.DataFrame:
    """A split table rebuilt from the in-sample table of the bundled data (run_split 'none')
    and the committed held-out ratios of `split`, matched on the benchmark line."""
    part = heldout[heldout["split"] == split].set_index("benchmark_line")
    line = bundled["benchmark_line"].astype(int)
    ratio = line.map(part["ratio"]).astype(float).to_numpy()
    held = line.map(part["held_out"]).fillna(False).astype(bool).to_numpy() & np.isfinite(ratio)
    measured = bundled["measured_per_accelerator"].to_numpy(float)
    return bundled.assign(predicted_per_accelerator=measured * ratio, ratio=ratio, error=ratio - 1.0,
                          held_out=held, fold=np.where(held, split, ""), log_ratio=np.log(ratio))


def bundled_none_table() -> pd.DataFrame:
    """The in-sample split table of the bundled data, calibration and default assumptions."""
    from inferchip.assumptions import resolve
    from inferchip.calibration import read_calibration
    from inferchip.catalog import load_catalog
    from inferchip.measured import read_benchmarks

    return run_split(read_benchmarks(), load_catalog(), read_calibration(), dict(resolve([]).values), "none")


def accuracy_summaries(none_table: pd.DataFrame, heldout: pd.DataFrame | None = None) -> dict[str, list[dict]]:
    """The README's side-by-side statistics: in-sample (computed), leave-one-out and time
    split (from the committed held-out ratios)."""
    heldout = read_heldout() if heldout is None else heldout
    return {"in-sample": summarize_groups(none_table),
            "leave-one-out": summarize_groups(cached_table(none_table, heldout, "loo")),
            "time split": summarize_groups(cached_table(none_table, heldout, "time"))}


ROW_FIELDS = {
    "accelerator": ("string", "catalog name of the measured chip"),
    "model": ("string", "models.csv preset of the benchmark"),
    "kind": ("string", "llm or fixed"),
    "scenario": ("string", "MLPerf scenario: Offline, Server or Interactive"),
    "family": ("string", "chip family (catalog) the factors belong to"),
    "chip_kind": ("string", "chip kind (catalog): gpu, asic, npu, ..."),
    "fitted": ("boolean", "the full fit uses the row (predictable, not a power-capped MaxQ system)"),
    "measurement_kind": ("string", "mlperf or vendor-claim (reported apart, never pooled)"),
    "date": ("string", "date of the measurement (YYYY-MM-DD); the time split cuts at time_split_date"),
    "precision": ("string", "weight precision of the run"),
    "accelerator_count": ("number", "accelerators in the measured system [count]"),
    "throughput_unit": ("string", "tokens_per_s or samples_per_s"),
    "measured_per_accelerator": ("number", "measured throughput per accelerator [tokens/s or samples/s]"),
    "predicted_per_accelerator": ("number", "held-out prediction (null: training row or not predictable) [tokens/s or samples/s]"),
    "ratio": ("number", "predicted / measured [ratio]"),
    "error": ("number", "ratio - 1 [fraction]"),
    "held_out": ("boolean", "predicted by a fit that did not see the row (split none: every predicted row)"),
    "fold": ("string", "the fold that held the row out"),
    "note": ("string", "why a row has no prediction, or caveats"),
    "benchmark_line": ("integer", "line of the row in the benchmarks CSV"),
}
SUMMARY_FIELDS = {
    "measurement_kind": ("string", "mlperf or vendor-claim"),
    "group_by": ("string", "class, model, scenario or family"),
    "group": ("string", "the group's value (class: llm, fixed, all)"),
    "rows": ("integer", "held-out rows in the group [count]"),
    "median_abs_error": ("number", "median |predicted / measured - 1| [fraction]"),
    "geomean_ratio": ("number", "exp(mean ln(predicted / measured)) [ratio]"),
    "worst_ratio": ("number", "predicted / measured of the row with the largest |ln ratio| [ratio]"),
    "within_25_percent_share": ("number", "share of rows with |error| <= 25 % [fraction]"),
    "worst_case": ("string", "accelerator, model and scenario of the worst row"),
}


def json_schema() -> dict[str, object]:
    """JSON Schema (draft 2020-12) of `validate --split --format json`."""
    from inferchip.schema import DRAFT

    def obj(fields: dict[str, tuple[str, str]]) -> dict[str, object]:
        props = {k: {"type": [t, "null"] if t in ("number", "integer") else t, "description": d}
                 for k, (t, d) in fields.items()}
        return {"type": "object", "required": list(fields), "properties": props}

    return {
        "$schema": DRAFT, "title": "inferchip validate --split SPLIT --format json", "type": "object",
        "required": ["schema_version", "inferchip_version", "command", "split", "time_split_date", "sources",
                     "summary", "rows"],
        "properties": {
            "schema_version": {"const": 1}, "inferchip_version": {"type": "string"},
            "command": {"const": "validate --split"}, "split": {"enum": list(SPLITS)},
            "time_split_date": {"type": ["string", "null"]},
            "sources": {"type": "object", "additionalProperties": {"type": "string"}},
            "summary": {"type": "array", "items": obj(SUMMARY_FIELDS)},
            "rows": {"type": "array", "items": obj(ROW_FIELDS)},
        },
    }
