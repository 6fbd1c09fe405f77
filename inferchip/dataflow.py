"""Dataflow and on-chip-SRAM machines (Groq LPU, Cerebras wafers): a layer pipeline.

A catalog row with `layout = pipeline` spreads the model's layers over its n chips
as a pipeline: each layer is one stage held by n / layers chips (or, with fewer
chips than layers, several layers per chip), the weights stay where they are
(SRAM), and a token walks through every stage in turn. Compared with the tensor-
parallel GPU model (inferchip.perf), the same chips give the same aggregate rate
but each token waits for every stage:

    TPOT_pipe(b) [ms] = s x (A + (B + C + D + E) b) + O_pipe
    O_pipe [ms]       = pipeline_overhead_ms + s x layer_latency_us / 1000
                        + (servers per replica - 1) x server_hop_us / 1000

with s = layers (stages), A..E the tensor-parallel coefficients of the whole
replica (perf.llm_decode_coefficients on n chips), `layer_latency_us` the fixed
time a token spends per stage (on-chip and chip-to-chip hops, synchronisation)
and `server_hop_us` the extra time per boundary between systems (a wafer-to-wafer
link for Cerebras; 0 for Groq's flat chip-to-chip network). b is the microbatch
of one stage; up to s microbatches are in flight, so the replica holds
in_flight = min(s x b_slo, b_mem, s x max_batch) sequences and generates

    tokens/s = in_flight / TPOT_pipe(max(in_flight / s, 1)).

Prefill streams the prompt through the stages in chunks: its tensor-parallel time
plus the pipeline latency, prefill_pipe = prefill_tp - O_tp + O_pipe.

The per-row factors (`pipeline_overhead_ms`, `layer_latency_us`, `server_hop_us`) are not fitted to MLPerf (no such results exist for these chips):
they are anchored on the vendors' published per-user speeds
(data/vendor_speeds.csv, measurement kind vendor-claim), and `explain` says so.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from inferchip import perf, server
from inferchip.data_files import data_path
from inferchip.errors import InputError
from inferchip.runcache import persistent

LAYOUTS = ("", "tensor", "pipeline")
US_PER_MS = 1000.0


def pipeline_overhead_ms(layers, n_chips, devices_per_server, overhead_ms, layer_latency_us, server_hop_us):
    """Fixed time per token through the pipeline [ms] = pipeline overhead + s x layer latency [us] / 1000
    + (ceil(n / devices per server) - 1) x server hop [us] / 1000; s = layers."""
    dps = server.devices_per_server(devices_per_server)
    boundaries = np.maximum(np.ceil(np.asarray(n_chips, dtype=float) / dps) - 1.0, 0.0)
    with np.errstate(invalid="ignore"):  # a candidate of inf chips (nothing fits) x a zero hop: NaN, never chosen
        return (np.nan_to_num(np.asarray(overhead_ms, dtype=float)) + layers * np.nan_to_num(layer_latency_us) / US_PER_MS
                + boundaries * np.nan_to_num(server_hop_us) / US_PER_MS)


def pipeline_step_ms(batch, stages, a_ms, b_ms, c_ms, d_ms, e_ms, overhead_ms):
    """TPOT_pipe(b) [ms] = s x (A + (B + C + D + E) b) + O_pipe."""
    return stages * perf.step_time_ms(batch, a_ms, b_ms, c_ms, d_ms, e_ms, 0.0) + overhead_ms


def pipeline_operating_point(*, stages, budget_ms, b_mem, max_batch, a_ms, b_ms, c_ms, d_ms, e_ms, overhead_ms):
    """The pipeline's operating point: (b_slo [sequences per microbatch], in_flight
    [sequences per replica], tpot [ms], tokens per second per replica, tpot at batch 1 [ms])."""
    s = np.asarray(stages, dtype=float)
    b_slo = perf.max_batch_for_step_budget(budget_ms, s * a_ms, s * b_ms, s * c_ms, s * d_ms, s * e_ms, overhead_ms)
    in_flight = np.floor(np.minimum(np.minimum(s * b_slo, b_mem), s * max_batch))
    micro = np.maximum(in_flight / s, 1.0)
    tpot = pipeline_step_ms(micro, s, a_ms, b_ms, c_ms, d_ms, e_ms, overhead_ms)
    tokens = np.maximum(in_flight, 1.0) / tpot * 1000.0
    tpot_b1 = pipeline_step_ms(1.0, s, a_ms, b_ms, c_ms, d_ms, e_ms, overhead_ms)
    return b_slo, in_flight, tpot, tokens, tpot_b1


def is_pipeline(chips: pd.DataFrame) -> np.ndarray:
    """Rows laid out as a layer pipeline (catalog `layout` = pipeline)."""
    if "layout" not in chips:
        return np.zeros(len(chips), dtype=bool)
    return (chips["layout"].astype(str).str.lower() == "pipeline").to_numpy()


@lru_cache(maxsize=2)
@persistent({"vendor_speeds.csv": "vendor speed"}, paths=(0,))
def _read_speeds(path: str) -> pd.DataFrame:
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    needed = ("accelerator", "model", "precision", "tokens_per_s_per_user", "measurement_kind", "source", "date")
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise InputError(f"{path}: line 1: missing column(s) {', '.join(missing)}; see data/README.md")
    speed = pd.to_numeric(table["tokens_per_s_per_user"], errors="coerce")
    bad = [f"{path}: line {i + 2}: tokens_per_s_per_user {table['tokens_per_s_per_user'].iat[i]!r} must be a"
           " positive number" for i in np.flatnonzero(~(speed > 0).to_numpy())]
    bad += [f"{path}: line {i + 2}: measurement_kind must be vendor-claim"
            for i in np.flatnonzero((table["measurement_kind"] != "vendor-claim").to_numpy())]
    if bad:
        raise InputError("\n".join(bad))
    return table.assign(tokens_per_s_per_user=speed, _key=table["accelerator"].str.lower())


def read_vendor_speeds(path: Path | None = None) -> pd.DataFrame:
    """Vendor-published per-user speeds (data/vendor_speeds.csv)."""
    return _read_speeds(str(path or data_path("vendor_speeds.csv")))


def vendor_reference(names, preset: str | None) -> np.ndarray:
    """Per chip name: the vendor claims that anchor its pipeline factors, as text
    ('vendor-claim: <model> <speed> tokens/s per user (<source>, <date>)'), the
    workload's own model first; '' where none."""
    text = _claim_texts(str(data_path("vendor_speeds.csv")), preset or "")
    return np.array([text.get(str(name).lower(), "") for name in np.asarray(names, dtype=object)], dtype=object)


@lru_cache(maxsize=8)
def _claim_texts(path: str, preset: str) -> dict[str, str]:
    """vendor_reference's text per lower-case chip name: the claims in file order, the
    preset's first (a stable partition); built once per file and preset in a run."""
    table = _read_speeds(path)
    claims: dict[str, list[tuple[bool, str]]] = {}
    for key, m, p, s, src, d in zip(table["_key"], table["model"], table["precision"], table["tokens_per_s_per_user"],
                                    table["source"], table["date"], strict=True):
        claims.setdefault(key, []).append((m != preset if preset else False,
                                           f"vendor-claim: {m} {p} {s:g} tokens/s per user ({src}, {d})"))
    return {key: "; ".join(text for _, text in sorted(found, key=lambda item: item[0]))
            for key, found in claims.items()}
