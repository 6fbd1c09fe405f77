"""Predicted vs measured: every benchmark row through the same model `compare` uses.

For each row of data/benchmarks.csv the measured workload (measured.benchmark_workloads)
runs on the measured chip with the same operating-point physics as `compare`
(compare._operating_points), restricted to what the submission could do: tensor/
pipeline-parallel sizes n that fit inside the measured system of `accelerator_count`
chips, each replica filling its batch up to the memory and the scenario's bounds.
Like a submitter, the prediction takes the size with the highest throughput:

    predicted per accelerator = max over n <= count of floor(count / n) x replica rate(n) / count

    error = predicted / measured - 1;  log ratio = ln(predicted / measured)

Summary statistics per class (llm, fixed, all): median absolute error, geometric-mean
ratio exp(mean log ratio), worst case (largest |log ratio|) and rows within +-25 %.

Power: the predicted mean wall power of the measured system is what `compare`
charges at full load (a benchmark run keeps the system busy), servers x server max
power x busy_power_fraction [W] (inferchip.power), set against MLPerf Power's
measured mean system power where the row has one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from inferchip import mlperf_run, server
from inferchip.units import W_PER_KW

WITHIN = 0.25  # "within +-25 %" in the summary
# The targets: median |error| per class, the worst ratio, LOO minus in-sample median.
TARGET_MEDIAN = {"llm": 0.15, "fixed": 0.25}
MAX_RATIO = 2.0
LOO_GAP = 0.05
SHARED_FACTORS = ("attention_efficiency", "link_efficiency", "host_link_efficiency", "step_overhead_ms", "tail_spread",
                  "comm_overhead_ms_per_layer")
CLASSES = ("llm", "fixed")
# Columns a validation frame carries from the catalog row of the measured chip.
CHIP_COLUMNS = ("name", "vendor", "kind", "family", "memory_gb", "memory_bw_tbps", "sram_mb", "fp16_tflops",
                "bf16_tflops", "fp8_tflops", "fp4_tflops", "int8_tops", "int4_tops", "tdp_w",
                "devices_per_server", "server_power_kw")


def validation_frame(benchmarks: pd.DataFrame, chips: pd.DataFrame) -> pd.DataFrame:
    """One row per benchmark row: the measured workload (measured.benchmark_workloads)
    beside the catalog row of its accelerator (`chip_found` false when the catalog
    has no such name: those rows are reported, not predicted)."""
    from inferchip.measured import benchmark_workloads

    rows = benchmark_workloads(benchmarks).reset_index(drop=True)
    catalog = chips.assign(_key=chips["name"].str.lower()).drop_duplicates("_key", keep="last").set_index("_key")
    key = rows["accelerator"].str.lower()
    found = key.isin(catalog.index)
    chip_part = catalog.reindex(key.to_numpy())[[c for c in CHIP_COLUMNS if c in catalog.columns]]
    chip_part = chip_part.reset_index(drop=True).rename(columns={"name": "catalog_name", "kind": "chip_kind"})
    return pd.concat([rows, chip_part], axis=1).assign(chip_found=found.to_numpy(), row_id=np.arange(len(rows)))


def _scenarios(frame: pd.DataFrame, assumptions: dict[str, object]) -> pd.DataFrame:
    """Scenario columns for the paired operating-point call: the measured workload and its bounds."""
    values = {k: v for k, v in assumptions.items()}
    data = {k: np.full(len(frame), v, dtype=object if isinstance(v, str) else float) for k, v in values.items()}
    data.update(
        params_b=frame["params_b"].to_numpy(float), active_params_b=frame["active_params_b"].to_numpy(float),
        layers=frame["layers"].to_numpy(float),
        kv_elems_per_token_per_layer=frame["kv_elems_per_token_per_layer"].to_numpy(float),
        hidden=frame["hidden"].to_numpy(float), input_tokens=frame["input_tokens"].to_numpy(float),
        output_tokens=frame["output_tokens"].to_numpy(float), ttft_ms=frame["bound_ttft_ms"].to_numpy(float),
        tpot_ms=frame["bound_tpot_ms"].to_numpy(float), latency_ms=frame["bound_latency_ms"].to_numpy(float),
        gflops_per_query=frame["gflops_per_query"].to_numpy(float), weights_mb=frame["weights_mb"].to_numpy(float),
        activation_mb_per_query=frame["activation_mb_per_query"].to_numpy(float),
        queries_per_day=np.full(len(frame), 86_400.0), peak_to_average=np.ones(len(frame)),
        # MLPerf submissions in data/benchmarks.csv serve aggregated: predict them so
        serving_mode=np.full(len(frame), "aggregated", dtype=object),
    )
    from inferchip.compare import ARCHITECTURE_DEFAULTS

    data.update({k: frame[k].to_numpy(float) for k in ARCHITECTURE_DEFAULTS if k in frame})
    return pd.DataFrame(data)


def predict(frame: pd.DataFrame, assumptions: dict[str, object]) -> pd.DataFrame:
    """Predicted per-accelerator throughput of every row of a validation frame whose
    chip columns carry efficiency factors (calibration.attach_factors, or trial
    values while fitting). Vectorized: one paired operating-point call per
    (kind, weight precision, KV precision) group. Returns, aligned with `frame`:
    predicted_per_accelerator [tokens/s or samples/s], chips_per_replica, batch_size,
    precision_used, predicted_note ('' when predicted)."""
    from inferchip.compare import CANDIDATE_SLOTS, _operating_points, resolve_precision

    frame = at_measured_power(frame, assumptions)
    n_rows = len(frame)
    predicted = np.full(n_rows, np.nan)
    size = np.full(n_rows, np.nan)
    batch = np.full(n_rows, np.nan)
    used = np.full(n_rows, "", dtype=object)
    note = np.where(frame["chip_found"].to_numpy(bool), "", "accelerator not in the catalog").astype(object)
    present = frame[frame["chip_found"].to_numpy(bool)]
    groups = present.groupby(["kind", "precision_run", "kv_precision"], sort=True).indices
    for (kind, precision, kv_precision), where in groups.items():
        part = present.iloc[where]
        at = part.index.to_numpy()
        chips = part.rename(columns={"catalog_name": "name", "chip_kind": "kind_chip"}).reset_index(drop=True)
        chips = resolve_precision(chips, precision)
        scenarios = _scenarios(part, assumptions)
        scenarios.attrs["precision"] = precision
        pts = _operating_points(kind, chips, scenarios, kv_precision, paired=True)
        k = CANDIDATE_SLOTS
        count = np.repeat(part["accelerator_count"].to_numpy(float), k)
        rate = pts["tokens_per_s_replica"] if kind == "llm" else pts["qps_replica"]
        n = pts["n"]
        usable = pts["ok"] & (n <= count) & np.isfinite(rate)
        per_acc = np.where(usable, np.floor(count / n) * rate / count, -np.inf).reshape(-1, k)
        best = np.argmax(per_acc, axis=1)
        rows = np.arange(len(part))
        value = per_acc[rows, best]
        mlperf = (part["measurement_kind"].to_numpy() == "mlperf") if "measurement_kind" in part else True
        if kind == "llm":  # MLPerf counts until its last query completes (mlperf_run.py); a vendor claim does not
            pick = rows * k + best
            value = value * np.where(mlperf, mlperf_run.run_length_factor(
                part["scenario"].to_numpy() == "Offline", scenarios["output_tokens"].to_numpy(float),
                part["output_tokens_max"].to_numpy(float) if "output_tokens_max" in part else np.nan,
                scenarios["output_tokens_cv"].to_numpy(float) if "output_tokens_cv" in scenarios else 0.0,
                pts["tpot_ms"][pick], pts["tpot_b1"][pick]), 1.0)
        good = np.isfinite(value)
        predicted[at] = np.where(good, value, np.nan)
        size[at] = np.where(good, n.reshape(-1, k)[rows, best], np.nan)
        batch[at] = np.where(good, pts["batch"].reshape(-1, k)[rows, best], np.nan)
        used[at] = chips["precision_used"].to_numpy(dtype=object)
        fits = (pts["b_mem"].reshape(-1, k) >= 1) & (n.reshape(-1, k) <= count.reshape(-1, k))
        why = np.where(~fits.any(axis=1), "model does not fit in the measured system's memory",
                       "no batch meets the scenario's bounds in the model")
        note[at] = np.where(good, "", why)
    return pd.DataFrame({"predicted_per_accelerator": predicted, "chips_per_replica": size, "batch_size": batch,
                         "precision_used": used, "predicted_note": note}, index=frame.index)


def at_measured_power(frame: pd.DataFrame, assumptions: dict[str, object]) -> pd.DataFrame:
    """Power-capped (MLPerf MaxQ) rows with a measured system power run at that power, not
    the catalog TDP: tdp_w = system power / accelerators / (1 + host_power_fraction) [W],
    which the power-limited clock model (perf.sustained_compute_fraction) turns into the
    capped chip's sustained compute. Other rows are returned unchanged."""
    from inferchip.calibrate import power_capped

    if "system_power_w" not in frame or "tdp_w" not in frame:
        return frame
    power = frame["system_power_w"].to_numpy(float)
    capped = power_capped(frame) & np.isfinite(power)
    if not capped.any():
        return frame
    per_chip = power / frame["accelerator_count"].to_numpy(float) / (1.0 + float(assumptions["host_power_fraction"]))
    return frame.assign(tdp_w=np.where(capped, per_chip, frame["tdp_w"].to_numpy(float)))


def predicted_power_w(frame: pd.DataFrame, assumptions: dict[str, object]) -> np.ndarray:
    """Mean wall power of the measured system as `compare` charges it at full load [W]
    = ceil(count / devices per server) x server max power [kW] x busy fraction x 1000, the
    busy fraction from data/power_profiles.csv for the chip, else busy_power_fraction;
    server max power = catalog server_power_kw, else devices x TDP x (1 + host_power_fraction)."""
    dps = server.devices_per_server(frame["devices_per_server"].to_numpy(float))
    server_kw = server.server_power_kw(frame["server_power_kw"].to_numpy(float), dps, frame["tdp_w"].to_numpy(float),
                                       float(assumptions["host_power_fraction"]))
    servers = np.ceil(frame["accelerator_count"].to_numpy(float) / dps)
    from inferchip import power

    name = frame["catalog_name"] if "catalog_name" in frame else frame["accelerator"]
    chip = power.attach_profiles(pd.DataFrame({"name": name.fillna("").astype(str).to_numpy()}))
    busy = power.fraction(chip["chip_busy_power_fraction"].to_numpy(float), float(assumptions["busy_power_fraction"]))
    return servers * server_kw * busy * W_PER_KW


def summarize(table: pd.DataFrame, column: str = "log_ratio") -> dict[str, object]:
    """Error statistics of the predicted rows, per class and overall: rows, median
    absolute error [fraction], geometric-mean ratio, worst case and rows within +-25 %."""
    out: dict[str, object] = {}
    for name in (*CLASSES, "all"):
        part = table if name == "all" else table[table["kind"] == name]
        logs = part[column].dropna().to_numpy(float)
        if len(logs) == 0:
            out[name] = {"rows": 0}
            continue
        abs_err = np.abs(np.expm1(logs))
        worst = int(np.argmax(np.abs(logs)))
        worst_row = part.dropna(subset=[column]).iloc[worst]
        out[name] = {
            "rows": int(len(logs)),
            "median_abs_error": float(np.median(abs_err)),
            "geomean_ratio": float(np.exp(np.mean(logs))),
            "worst_ratio": float(np.exp(logs[worst])),
            "worst_case": f"{worst_row['accelerator']} {worst_row['model']} {worst_row['scenario']}",
            "within_25_percent": int(np.sum(abs_err <= WITHIN + 1e-12)),
        }
    return out


def with_factors(frame: pd.DataFrame, calibration: pd.DataFrame | None = None) -> pd.DataFrame:
    """The validation frame with each chip's efficiency factors and their source
    (calibration.attach_factors on the chip's family and kind)."""
    from inferchip.calibration import FACTORS, attach_factors

    chips = frame[["family"]].assign(kind=frame["chip_kind"].fillna("").astype(str),
                                     family=frame["family"].fillna("").astype(str))
    if calibration is None:
        from inferchip.calibration import read_calibration

        calibration = read_calibration()
    # factors are fitted per workload class: each row takes its own class's
    workload = frame["kind"].astype(str).to_numpy()
    out = {f: np.full(len(frame), np.nan) for f in FACTORS}
    out["calibration_source"] = np.full(len(frame), "", dtype=object)
    for klass in np.unique(workload):
        at = workload == klass
        fac = attach_factors(chips[at], calibration, klass)
        for f in FACTORS:
            out[f][at] = fac[f].to_numpy(float)
        out["calibration_source"][at] = fac["calibration_source"].to_numpy(object)
    return frame.assign(**out)


def scenario_factors(calibration: pd.DataFrame) -> dict[str, float]:
    """Throughput factor per MLPerf scenario from the calibration's scope=scenario rows
    (1.0 for a scenario without one)."""
    if "scenario_throughput_factor" not in calibration:
        return {}
    rows = calibration[calibration["scope"] == "scenario"]
    return {str(k): float(v) for k, v in zip(rows["key"], rows["scenario_throughput_factor"], strict=True)
            if np.isfinite(v)}


def run(benchmarks: pd.DataFrame, chips: pd.DataFrame, calibration: pd.DataFrame,
        assumptions: dict[str, object]) -> pd.DataFrame:
    """Predicted vs measured for every benchmark row, in benchmark order.

    predicted = model at the chip's calibrated factors x the scenario's throughput
    factor; ratio = predicted / measured; error = ratio - 1. Power columns where the
    row has an MLPerf Power measurement."""
    from inferchip.calibrate import power_capped

    frame = with_factors(validation_frame(benchmarks, chips), calibration)
    model = predict(frame, assumptions)
    factor = frame["scenario"].map(scenario_factors(calibration)).fillna(1.0).to_numpy(float)
    predicted = model["predicted_per_accelerator"].to_numpy(float) * factor
    measured = frame["throughput_per_accelerator"].to_numpy(float)
    power_pred = predicted_power_w(frame, assumptions)
    power_meas = frame["system_power_w"].to_numpy(float)
    capped = power_capped(frame)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = predicted / measured
        power_ratio = np.where(np.isfinite(power_meas), power_pred / power_meas, np.nan)
    notes = model["predicted_note"].to_numpy(dtype=object)
    flags = np.where(capped, "power-capped (MaxQ) system: not fitted", "")
    flags = np.where(frame["shape_source"].str.startswith("estimate").to_numpy(),
                     np.where(flags == "", "", flags + "; ") + "dataset input length estimated", flags)
    return pd.DataFrame({
        "accelerator": frame["accelerator"], "model": frame["model"], "kind": frame["kind"],
        "scenario": frame["scenario"], "precision": frame["precision_run"],
        "accelerator_count": frame["accelerator_count"], "throughput_unit": frame["throughput_unit"],
        "measured_per_accelerator": measured, "predicted_per_accelerator": predicted,
        "ratio": ratio, "error": ratio - 1.0, "log_ratio": np.log(ratio),
        "chips_per_replica": model["chips_per_replica"], "batch_size": model["batch_size"],
        "precision_used": model["precision_used"], "scenario_factor": factor,
        "calibration_source": frame["calibration_source"].str.split(":").str[0],
        "power_capped": capped, "measured_power_w": power_meas,
        "predicted_power_w": np.where(np.isfinite(power_meas), power_pred, np.nan), "power_ratio": power_ratio,
        "power_error": power_ratio - 1.0, "note": np.where(notes == "", flags, notes),
        "system": frame["system"], "source": frame["source"], "date": frame["date"],
        "benchmark_line": frame["benchmark_line"],
    })


def power_summary(table: pd.DataFrame) -> dict[str, object]:
    """Error statistics of the predicted mean wall power over rows with MLPerf Power data."""
    part = table[np.isfinite(table["power_ratio"].to_numpy(float))]
    if part.empty:
        return {"rows": 0}
    logs = np.log(part["power_ratio"].to_numpy(float))
    return {"rows": int(len(part)), "median_abs_error": float(np.median(np.abs(np.expm1(logs)))),
            "geomean_ratio": float(np.exp(np.mean(logs))), "worst_ratio": float(np.exp(logs[np.argmax(np.abs(logs))])),
            "all_power_capped": bool(part["power_capped"].all())}


def fit_statistics(calibration: pd.DataFrame) -> dict[str, dict[str, float]]:
    """In-sample and leave-one-out median absolute error per class, as published with
    the calibration (scope=fit rows)."""
    rows = calibration[calibration["scope"] == "fit"]
    return {str(key): {"fitted_rows": int(count), "median_abs_error": float(fit), "loo_median_abs_error": float(loo)}
            for key, count, fit, loo in zip(rows["key"], rows["fit_rows"], rows["fit_median_abs_error"],
                                            rows["loo_median_abs_error"], strict=True)}


def targets(summary: dict[str, object], published: dict[str, dict[str, float]]) -> dict[str, dict[str, object]]:
    """The issue's accuracy targets, each with the value reached and whether it holds."""
    out: dict[str, dict[str, object]] = {}
    for name, limit in TARGET_MEDIAN.items():
        value = summary[name].get("median_abs_error") if isinstance(summary.get(name), dict) else None
        out[f"{name}_median_abs_error"] = {"limit": limit, "value": value, "met": value is not None and value <= limit}
    worst = max((abs(np.log(summary[n]["worst_ratio"])) for n in CLASSES if summary[n].get("rows")), default=0.0)
    out["worst_ratio"] = {"limit": MAX_RATIO, "value": float(np.exp(worst)), "met": bool(np.exp(worst) <= MAX_RATIO)}
    for name in CLASSES:
        if name in published:
            gap = published[name]["loo_median_abs_error"] - published[name]["median_abs_error"]
            out[f"{name}_loo_gap"] = {"limit": LOO_GAP, "value": gap, "met": bool(gap <= LOO_GAP)}
    return out


def validate_document(table: pd.DataFrame, calibration: pd.DataFrame, sources: dict[str, str]) -> dict[str, object]:
    """The canonical `validate` result: summary statistics, targets and one record per row."""
    from inferchip import __version__
    from inferchip.document import clean_number, records

    summary = summarize(table)
    published = fit_statistics(calibration)
    from inferchip.calibration import for_workload

    def first_kind_row(klass: str) -> pd.DataFrame:
        rows = for_workload(calibration, klass)
        return rows[rows["scope"] == "kind"].head(1)

    shared = first_kind_row("llm")
    shared_factors = {k: clean_number(shared[k].iloc[0]) if k in shared and len(shared) else None
                      for k in SHARED_FACTORS}
    fixed = first_kind_row("fixed")
    fixed_overhead = clean_number(fixed["step_overhead_ms"].iloc[0]) if len(fixed) else None
    clean = lambda d: {k: (clean(v) if isinstance(v, dict) else clean_number(v)) for k, v in d.items()}  # noqa: E731
    return {
        "schema_version": 1,
        "inferchip_version": __version__,
        "command": "validate",
        "sources": sources,
        "calibration": {"shared_factors": shared_factors, "fixed_work_step_overhead_ms": fixed_overhead,
                        "scenario_throughput_factor": scenario_factors(calibration)},
        "summary": {"throughput": clean(summary), "throughput_published_fit": clean(published),
                    "power": clean(power_summary(table)), "targets": clean(targets(summary, published))},
        "rows": records(table.drop(columns=["log_ratio"])),
    }


def bundled_document() -> dict[str, object]:
    """The `validate` document for the bundled catalog, benchmarks, calibration and
    default assumptions (what docs/accuracy.md shows)."""
    from inferchip.assumptions import resolve
    from inferchip.calibration import read_calibration
    from inferchip.catalog import load_catalog
    from inferchip.measured import read_benchmarks

    calibration = read_calibration()
    table = run(read_benchmarks(), load_catalog(), calibration, dict(resolve([]).values))
    return validate_document(table, calibration, {"benchmarks": "data/benchmarks.csv",
                                                  "calibration": "data/calibration.csv", "catalog": "data/catalog.csv"})
