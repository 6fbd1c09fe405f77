"""Disaggregated serving: separate prefill and decode pools of the same chip.

In aggregated serving (the default) every decode step also carries the prompts of
arriving queries (in-flight batching, perf.llm_decode_coefficients' D term), so a tight
TPOT bound shrinks the batch twice: once for the prompts' work and once for their p99
tail. Disaggregated serving runs prompts on a prefill pool and ships each prompt's KV
cache to a decode pool whose steps carry decoding only. It costs a KV transfer per query
and chips that only prefill; it pays where prompts are long and the TPOT bound is tight.

Per replica of n chips (every function vectorized, units in the names):

- decode pool: TPOT_d(b) = A + (B + C + E_d) b + O with E_d = collective time per
  decoded token (no prompt tokens) and no prefill tail; b is the largest batch whose
  TPOT_d meets the TPOT bound and whose KV fits;
- prefill pool: prompts batched until compute-bound, one query's prompt costing
  t_p = prefill FLOPs / FLOPS + collective time of its input tokens [ms];
- the two pools share the fleet in proportion to their work: per query, n x t_p chip-ms
  of prefill and n x output / decode rate chip-ms of decoding, so the replica-equivalent
  rate is qps = 1 / (t_p / 1000 + output / decode tokens/s) [queries/s per n chips] and
  the prefill pool's share of the chips is (t_p / 1000) x qps;
- TTFT = one prompt's prefill alone + KV transfer (KV bytes of the prompt over the
  replica's chip-to-chip link) + one decode step, which must meet the TTFT bound.

Not validated against measurements: the MLPerf rows in data/benchmarks.csv are
aggregated submissions, so `validate` and `calibrate` always predict aggregated serving.
"""

from __future__ import annotations

import numpy as np

from inferchip import perf
from inferchip.units import MS_PER_S

MODES = ("aggregated", "disaggregated", "auto")


def decode_batch(budget_ms, a_of_batch, b_ms, c_ms, e_decode_ms, overhead_ms, b_mem, max_batch, steps):
    """Largest decode-pool batch [sequences]: TPOT_d(b) <= the TPOT bound, KV within b_mem,
    at most max_batch; A may fall with the batch (MoE), hence bisection."""
    zero = np.zeros_like(np.asarray(b_ms, dtype=float))
    high = perf.max_batch_for_step_budget(budget_ms, a_of_batch(1.0), b_ms, c_ms, zero, e_decode_ms, overhead_ms)
    bound = perf.max_batch_p99(budget_ms, a_of_batch, high, b_ms, c_ms, zero, e_decode_ms, overhead_ms,
                               zero, steps)
    return np.floor(np.minimum(np.minimum(bound, b_mem), max_batch))


def kv_transfer_ms(kv_bytes_per_token, input_tokens, link_bps):
    """Moving one prompt's KV cache to the decode pool [ms] = KV bytes per token x input
    tokens / link bandwidth; 0 when the link is unknown (not modelled)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.asarray(kv_bytes_per_token * input_tokens, dtype=float) / np.asarray(link_bps, dtype=float) * MS_PER_S
    return np.where(np.isfinite(t), t, 0.0)


def combined_qps(prefill_ms_per_query, output_tokens, decode_tokens_per_s):
    """Replica-equivalent query rate of the two pools [queries/s per n chips]
    = 1 / (t_p / 1000 + output / decode rate)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return 1.0 / (prefill_ms_per_query / MS_PER_S + output_tokens / decode_tokens_per_s)


def prefill_pool_share(prefill_ms_per_query, qps):
    """Share of the fleet's chips in the prefill pool [fraction] = (t_p / 1000) x qps."""
    return prefill_ms_per_query / MS_PER_S * qps


def choose(mode, feasible_disaggregated, qps_disaggregated, qps_aggregated, ok_aggregated):
    """Where disaggregated serving is used: mode 'disaggregated' wherever it is feasible;
    'auto' where it is feasible and serves more queries per chip than aggregated (or
    aggregated meets no bound at all)."""
    mode = np.asarray(mode, dtype=object)
    better = ~ok_aggregated | (np.nan_to_num(qps_disaggregated, nan=-1.0) > np.nan_to_num(qps_aggregated, nan=-1.0))
    return feasible_disaggregated & ((mode == "disaggregated") | ((mode == "auto") & better))
