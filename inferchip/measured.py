"""Measured results (data/benchmarks.csv) and the measured-beats-modeled rule.

A benchmark row is a measured per-accelerator throughput for one chip, model,
weight precision and MLPerf scenario. `benchmark_workloads` turns each row into
the workload it measured (dataset token means or work per sample, and the
scenario's latency bounds); `validate` predicts those workloads, and `compare`
uses a measured throughput instead of the model when the user's workload is the
measured one or an easier one:

    same accelerator, same model preset, same weight precision (requested and used),
    the same work per query (mean input and output tokens, or GFLOP per query,
    within SHAPE_TOLERANCE), and an SLO at least as loose as the measured bound
    (TTFT >= bound, TPOT >= bound, latency >= bound; an Offline row has no bound,
    so it only stands for a workload with no SLO).

Among several matching rows the highest throughput wins (the best configuration
demonstrated under bounds at least as tight as the user's). Without such a row,
the best rate measured for the same chip, preset, precision and shape under any
bound is a ceiling on the modeled rate (compare._prefer_measured).
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from inferchip.csvfile import read_csv_rows
from inferchip.data_files import data_path
from inferchip.errors import InputError
from inferchip.models import load_presets
from inferchip.runcache import persistent
from inferchip.units import PRECISIONS

SCENARIOS = ("Offline", "Server", "Interactive")
# Where a measurement comes from: an audited MLPerf result, or a vendor's own published
# figure (tokens/s per user or per system), kept apart in validation and labelled as such.
MEASUREMENT_KINDS = ("mlperf", "vendor-claim")
UNITS = {"llm": "tokens_per_s", "fixed": "samples_per_s"}
REQUIRED = ("accelerator", "model", "scenario", "precision", "accelerator_count",
            "throughput_per_accelerator", "throughput_unit", "measurement_kind", "source")
NUMBERS = ("accelerator_count", "throughput_per_accelerator", "ttft_ms", "tpot_ms", "latency_ms",
           "system_power_w")
# Relative difference in mean tokens (or GFLOP) per query still counted as "the same work".
SHAPE_TOLERANCE = 0.10
# KV-cache precision of the measured runs, by weight precision: the reference
# (benchmark-models.csv, typical_precision_by_accelerator) lists FP8 KV beside
# FP8 and FP4 weights; other submissions keep a 16-bit cache.
KV_PRECISION_FOR_WEIGHTS = {"fp8": "fp8", "fp4": "fp8"}
# Model architecture columns of models.csv a measured workload carries (empty = dense, standard attention).
ARCHITECTURE_KEYS = ("experts", "experts_per_token", "attention_heads", "mla", "sliding_window_tokens",
                     "sliding_window_layers")


def read_benchmarks(path: Path | None = None) -> pd.DataFrame:
    """Read and check a benchmarks CSV (schema in data/README.md). Every problem is
    listed with its line; numbers as floats (empty bounds = no bound = inf)."""
    path = Path(path) if path is not None else data_path("benchmarks.csv")
    header, rows = read_csv_rows(path, "benchmarks")
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError(f"{path}: line 1: missing column(s) {', '.join(missing)}; see data/README.md")
    problems: list[str] = []
    records = []
    for line, row in rows:
        rec: dict[str, object] = {k: row.get(k, "") for k in header}
        for key in NUMBERS:
            text = row.get(key, "")
            try:
                value = float(text) if text else math.nan
            except ValueError:
                problems.append(f"{path}: line {line}: {key} = {text!r} is not a number")
                value = math.nan
            if text and not (math.isfinite(value) and value > 0):
                problems.append(f"{path}: line {line}: {key} must be > 0 (got {text!r})")
            rec[key] = value
        for key in ("accelerator_count", "throughput_per_accelerator"):
            if not row.get(key):
                problems.append(f"{path}: line {line}: {key} is empty; give the measured value")
        if row.get("scenario") not in SCENARIOS:
            problems.append(f"{path}: line {line}: scenario {row.get('scenario')!r} must be one of {', '.join(SCENARIOS)}")
        precision = row.get("precision", "").lower()
        if precision and precision not in PRECISIONS:
            problems.append(f"{path}: line {line}: precision {precision!r} must be one of {', '.join(PRECISIONS)} or empty")
        kind = row.get("measurement_kind", "")
        if kind not in MEASUREMENT_KINDS:
            problems.append(f"{path}: line {line}: measurement_kind {kind!r} must be one of {', '.join(MEASUREMENT_KINDS)}")
        if row.get("throughput_unit") not in UNITS.values():
            problems.append(f"{path}: line {line}: throughput_unit must be tokens_per_s or samples_per_s")
        rec["precision"] = precision
        rec["model"] = row.get("model", "").lower()
        rec["benchmark_line"] = line
        records.append(rec)
    if problems:
        raise InputError("\n".join(problems))
    if not records:
        raise InputError(f"{path}: no benchmark rows below the header; add one row per measured result "
                         "(see data/README.md)")
    # by column: every record has the same keys (cheaper than a frame from dicts)
    columns = {k: [rec[k] for rec in records] for k in records[0]}
    for key in ("ttft_ms", "tpot_ms", "latency_ms"):  # an empty bound is no bound
        columns[key] = [np.inf if math.isnan(v) else v for v in columns[key]]
    frame = pd.DataFrame(columns)
    frame["benchmark_file"] = str(path)
    return frame


def read_benchmark_workloads(path: Path | None = None) -> pd.DataFrame:
    """Per-model corrections to the dataset shape (data/benchmark_workloads.csv):
    input/output tokens or GFLOP per query the benchmark really runs; empty = models.csv."""
    path = Path(path) if path is not None else data_path("benchmark_workloads.csv")
    _, rows = read_csv_rows(path, "benchmark workloads")
    out = []
    first: dict[str, int] = {}
    for line, row in rows:
        rec: dict[str, object] = {"model": row["model"].lower(), "shape_source": row.get("source", "")}
        if rec["model"] in first:
            raise InputError(f"{path}: line {line}: model {row['model']!r} already has a row (line "
                             f"{first[rec['model']]}); keep one row per model")
        first[str(rec["model"])] = line
        for key in ("input_tokens", "output_tokens", "gflops_per_query", "output_tokens_cv", "beam_width"):
            try:
                rec[key] = float(row[key]) if row.get(key) else math.nan
            except ValueError:
                raise InputError(f"{path}: line {line}: {key} = {row[key]!r} is not a number") from None
        if not (math.isnan(rec["beam_width"]) or (rec["beam_width"] >= 1 and float(rec["beam_width"]).is_integer())):
            raise InputError(f"{path}: line {line}: beam_width = {row['beam_width']!r} must be a whole number >= 1 "
                             "(blank = 1, greedy decoding)")
        out.append(rec)
    return pd.DataFrame(out, columns=["model", "input_tokens", "output_tokens", "gflops_per_query", "output_tokens_cv",
                                      "beam_width", "shape_source"])


def benchmark_workloads(benchmarks: pd.DataFrame, shapes: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each benchmark row with the workload it measured: kind, the preset's
    architecture, dataset mean input/output tokens (or GFLOP and weights per
    sample), weight and KV precision, and latency bounds (inf = none).

    Sources, in order: data/benchmark_workloads.csv, then models.csv dataset_*
    columns and architecture. A blank precision takes the preset's default.
    An LLM row bounded only by end-to-end latency (MLPerf GPT-J Server, 20 s)
    becomes TTFT <= latency and TPOT <= latency / output tokens."""
    shapes = read_benchmark_workloads() if shapes is None else shapes
    presets = load_presets()
    unknown = sorted(set(benchmarks["model"]) - set(presets))
    if unknown:
        raise InputError(f"{benchmarks['benchmark_file'].iloc[0]}: model(s) {', '.join(unknown)} not in models.csv;"
                         " use a preset name from `inferchip workloads` presets (data/models.csv)")
    # plain lookups per row, not Series.map: a run builds this for a few dozen rows, where
    # each pandas call costs more than the arithmetic
    models = benchmarks["model"].tolist()
    by_model = {model: i for i, model in enumerate(shapes["model"].tolist())}
    at = [by_model.get(model, -1) for model in models]
    p = lambda key: np.array([presets[m].get(key) for m in models], dtype=float)  # noqa: E731
    p_text = lambda key: np.array([presets[m].get(key) for m in models], dtype=object)  # noqa: E731

    def s(key: str) -> np.ndarray:
        column = np.append(shapes[key].to_numpy(dtype=float), np.nan)  # -1: a model without a shape row
        return column[at]

    fill = lambda first, then: np.where(np.isnan(first), then, first)  # noqa: E731
    kind = p_text("kind")
    given = benchmarks["precision"].to_numpy(dtype=object)
    precision = np.where(given != "", given, p_text("default_precision"))
    output_tokens = fill(s("output_tokens"), p("dataset_output_tokens"))
    from inferchip.units import BYTES_PER_PRECISION

    weights_mb = p("weights_mparams") * np.array([BYTES_PER_PRECISION.get(x, np.nan) for x in precision], dtype=float)
    llm = kind == "llm"
    ttft_bound, latency = benchmarks["ttft_ms"].to_numpy(dtype=float), benchmarks["latency_ms"].to_numpy(dtype=float)
    latency_only = llm & np.isinf(ttft_bound) & np.isfinite(latency)
    source = np.append(shapes["shape_source"].to_numpy(dtype=object), "")[at]
    columns = {
        "kind": kind, "precision_run": precision,
        "kv_precision": np.array([KV_PRECISION_FOR_WEIGHTS.get(x, "fp16") for x in precision], dtype=object),
        "params_b": p("params_b"), "active_params_b": p("active_params_b"), "layers": p("layers"),
        "kv_elems_per_token_per_layer": p("kv_elems_per_token_per_layer"), "hidden": p("hidden"),
        "input_tokens": fill(s("input_tokens"), p("dataset_input_tokens")), "output_tokens": output_tokens,
        "gflops_per_query": fill(s("gflops_per_query"), p("gflops_per_query")), "weights_mb": weights_mb,
        "activation_mb_per_query": np.nan_to_num(p("activation_mb_per_query"), nan=0.0),
        "bound_ttft_ms": np.where(latency_only, latency, ttft_bound),
        "bound_tpot_ms": np.where(latency_only, latency / output_tokens, benchmarks["tpot_ms"].to_numpy(dtype=float)),
        "bound_latency_ms": np.where(llm, np.inf, latency),
        "shape_source": np.where(pd.isna(source), "", source).astype(object),
        **{k: np.nan_to_num(p(k), nan=0.0) for k in ARCHITECTURE_KEYS},
        "output_tokens_cv": np.nan_to_num(fill(s("output_tokens_cv"), p("dataset_output_tokens_cv")), nan=0.0),
        "beam_width": np.nan_to_num(s("beam_width"), nan=1.0),
        "output_tokens_min": np.nan_to_num(p("dataset_output_tokens_min"), nan=0.0),
        # the longest output: the queries that finish an MLPerf run last (mlperf_run.py); NaN = not known
        "output_tokens_max": p("dataset_output_tokens_max"),
    }
    return benchmarks.assign(**{k: pd.Series(v, index=benchmarks.index) for k, v in columns.items()})


def candidates(preset: str | None, precision: str, benchmarks: pd.DataFrame | None = None) -> pd.DataFrame:
    """Benchmark rows (with their workloads) that could stand for a workload of this
    preset and weight precision; empty for a custom model."""
    if benchmarks is None:  # the bundled file: built once per (preset, precision) and file version in a run
        path = data_path("benchmarks.csv")
        stat = path.stat()
        return _bundled_candidates((preset or "").lower(), precision, str(path), stat.st_mtime_ns,
                                   stat.st_size).copy()
    rows = benchmarks[benchmarks["model"] == (preset or "").lower()]  # only this preset's rows need workloads
    table = benchmark_workloads(rows)
    return table[table["precision_run"] == precision].reset_index(drop=True)


@lru_cache(maxsize=32)
@persistent({"benchmarks.csv": "benchmarks", "benchmark_workloads.csv": "benchmark workloads",
             "models.csv": "model preset"}, paths=(2,))
def _bundled_candidates(preset: str, precision: str, path: str, mtime_ns: int, size: int) -> pd.DataFrame:
    return candidates(preset, precision, _bundled_benchmarks(path, mtime_ns, size))


@lru_cache(maxsize=2)
@persistent({"benchmarks.csv": "benchmarks"}, paths=(0,))
def _bundled_benchmarks(path: str, mtime_ns: int, size: int) -> pd.DataFrame:
    """The bundled benchmarks, read and checked once per run and file version (several
    workloads of different presets share it); callers only filter it, never change it."""
    return read_benchmarks(Path(path))


def _close(value: np.ndarray, reference: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.abs(value / reference - 1.0) <= SHAPE_TOLERANCE + 1e-12


def match(kind: str, rows: pd.DataFrame, accelerator: np.ndarray, precision_used: np.ndarray,
          scen: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per result row: the best measured throughput per accelerator [tokens/s or
    samples/s] that stands for this (accelerator, workload), NaN if none, and the
    index into `rows` of the row used (-1 if none). Vectorized: (result rows x
    benchmark rows) boolean matrix; the rule is in the module docstring."""
    count = len(accelerator)
    if rows is None or len(rows) == 0 or count == 0:
        return np.full(count, np.nan), np.full(count, -1)
    lower = lambda names: np.array([str(n).lower() for n in names], dtype=str)  # noqa: E731  (numpy.char costs an import)
    name = lower(accelerator)[:, None]
    same_chip = name == lower(rows["accelerator"].to_numpy())[None, :]
    same_precision = np.asarray(precision_used, dtype=str)[:, None] == rows["precision_run"].to_numpy(dtype=str)[None, :]
    col = lambda key: np.asarray(scen[key], dtype=float)[:, None]  # noqa: E731
    ref = lambda key: rows[key].to_numpy(dtype=float)[None, :]  # noqa: E731
    if kind == "llm":
        shape = _close(col("input_tokens"), ref("input_tokens")) & _close(col("output_tokens"), ref("output_tokens"))
        # a row measured with beam search did 4x the decoding of a greedy workload: never stands for one
        beams = np.asarray(scen.get("beam_width", np.ones(count)), dtype=float)[:, None]
        shape &= beams == (rows["beam_width"].to_numpy(dtype=float)[None, :] if "beam_width" in rows else 1.0)
        slo = (col("ttft_ms") >= ref("bound_ttft_ms")) & (col("tpot_ms") >= ref("bound_tpot_ms"))
    else:
        shape = _close(col("gflops_per_query"), ref("gflops_per_query"))
        slo = col("latency_ms") >= ref("bound_latency_ms")
    ok = same_chip & same_precision & shape & slo
    if "_preset_code" in scen and "_preset_code" in rows:  # rows of several presets (compare.run_compare_many)
        ok &= col("_preset_code") == ref("_preset_code")
    value = np.where(ok, ref("throughput_per_accelerator"), -np.inf)
    best = np.argmax(value, axis=1)
    found = ok.any(axis=1)
    return (np.where(found, value[np.arange(count), best], np.nan), np.where(found, best, -1))


def reference_text(rows: pd.DataFrame, index: np.ndarray) -> np.ndarray:
    """'<system>, <scenario>, <source> (<date>)' of the benchmark row used, '' where none."""
    if rows is None or len(rows) == 0:
        return np.full(len(index), "", dtype=object)
    text = (rows["system"].astype(str) + ", " + rows["scenario"].astype(str) + ", " + rows["source"].astype(str)
            + " (" + rows["date"].astype(str) + ")").to_numpy(dtype=object)
    return np.where(index >= 0, text[np.maximum(index, 0)], "").astype(object)
