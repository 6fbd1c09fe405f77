"""How an MLPerf Inference run counts throughput, for predicting its measured rows.

MLPerf LoadGen divides the tokens of a run by the time until its LAST query completes
(loadgen/results.cc: Server "Completed tokens per second" = tokens /
final_query_all_samples_done_time; Offline "Tokens per second" = tokens / max_latency),
and a run lasts at least `min_duration` = 600 s (loadgen/mlperf.conf, Server and Offline).
The queries still running when the work runs out finish at a small batch while the
accelerators idle; for long outputs (DeepSeek-R1: up to 20,000 tokens) that drain is a
large share of the run. The throughput `compare` sizes a fleet with is the steady state
of continuous traffic, which has no such drain: only `validate` and `calibrate` apply
this to predict what the benchmark measured.
"""

from __future__ import annotations

import numpy as np

# loadgen/mlperf.conf (github.com/mlcommons/inference): *.Server.min_duration = 600000 and
# *.Offline.min_duration = 600000 [ms]
MIN_DURATION_S = 600.0
MS_PER_S = 1000.0


def drain_s(offline, output_tokens, output_tokens_max, output_tokens_cv, tpot_ms, tpot_b1_ms):
    """Time the last queries add to a run [s].

    When the work runs out, the queries in flight have on average o_res = o x (1 + cv^2) / 2
    tokens left (a sequence in flight is length-biased), and the last one to finish is a
    longest-output query started at the end (o_max, the dataset's longest output; the mean
    residual where unknown). It runs o_res steps beside the others at the operating TPOT,
    then alone at the one-sequence TPOT:
    - Server: drain = min(o_max, o_res) x TPOT + max(o_max - o_res, 0) x TPOT(b = 1);
    - Offline: only the idle part counts against the run, as the residual work would take
      o_res x TPOT at full speed anyway: drain = max(o_max - o_res, 0) x TPOT(b = 1)."""
    o = np.asarray(output_tokens, dtype=float)
    residual = o * (1.0 + np.asarray(output_tokens_cv, dtype=float) ** 2) / 2.0
    o_max = np.asarray(output_tokens_max, dtype=float)
    o_max = np.where(np.isfinite(o_max) & (o_max > 0), o_max, residual)
    alone_ms = np.maximum(o_max - residual, 0.0) * np.asarray(tpot_b1_ms, dtype=float)
    shared_ms = np.minimum(o_max, residual) * np.asarray(tpot_ms, dtype=float)
    return np.where(np.asarray(offline, dtype=bool), alone_ms, shared_ms + alone_ms) / MS_PER_S


def run_length_factor(offline, output_tokens, output_tokens_max, output_tokens_cv, tpot_ms, tpot_b1_ms,
                      min_duration_s=MIN_DURATION_S):
    """Measured / steady-state throughput of an MLPerf LLM run [fraction]
    = T / (T + drain), T = the 600 s minimum run: see `drain_s`. An assumption: a submitter
    may run longer, which dilutes the drain; the run lengths are not in the published
    results. 1 where the drain is not a number (no operating point)."""
    drain = drain_s(offline, output_tokens, output_tokens_max, output_tokens_cv, tpot_ms, tpot_b1_ms)
    factor = min_duration_s / (min_duration_s + drain)
    return np.where(np.isfinite(factor), factor, 1.0)
