"""Performance model: memory fit, roofline decode and prefill, SLO-bounded batch.

Every function is pure and vectorized: arguments may be scalars, numpy arrays
or pandas Series (aligned), and the result has the same shape. Quantities
carry their unit in the name; formulas are in brackets.
"""

from __future__ import annotations

import numpy as np

from inferchip.units import BYTES_PER_GB, FLOPS_PER_TFLOPS, MS_PER_S, PARAMS_PER_BILLION

# Tensor-parallel all-reduces carry 16-bit activations (TensorRT-LLM and vLLM reduce in
# fp16/bf16 whatever the weight format) [bytes per value].
ALLREDUCE_BYTES_PER_VALUE = 2.0


def weights_bytes(params_b, bytes_per_weight):
    """Model weights [bytes] = params [1e9] x bytes per weight."""
    return params_b * PARAMS_PER_BILLION * bytes_per_weight


def kv_bytes_per_token(layers, kv_elems_per_token_per_layer, bytes_per_kv):
    """KV cache per token [bytes] = layers x (2 x kv_heads x head_dim) x bytes."""
    return layers * kv_elems_per_token_per_layer * bytes_per_kv


def min_chips_for_weights(weight_bytes, capacity_gb_per_chip, usable_fraction):
    """Fewest chips whose usable memory holds the weights [count]
    = ceil(weights / (capacity x usable fraction)); inf when capacity is 0 or unknown."""
    usable_bytes = np.asarray(capacity_gb_per_chip * BYTES_PER_GB * usable_fraction, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        n = np.ceil(np.asarray(weight_bytes, dtype=float) / usable_bytes)
    return np.where(np.isfinite(n) & (n >= 1), n, np.where(np.isfinite(n), 1.0, np.inf))


def candidate_base(n_min, devices_per_server):
    """First tensor/pipeline-parallel size tried [count]: the next power of two
    at or above n_min inside one server, else n_min rounded up to whole servers."""
    n_min = np.asarray(n_min, dtype=float)
    dps = np.asarray(devices_per_server, dtype=float)
    dps = np.where(np.isfinite(dps) & (dps >= 1), dps, 8.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        pow2 = 2.0 ** np.ceil(np.log2(np.maximum(n_min, 1.0)))
        whole_servers = np.ceil(n_min / dps) * dps
    return np.where(n_min <= dps, pow2, whole_servers)


def max_batch_for_memory(n_chips, capacity_gb_per_chip, usable_fraction, weight_bytes, bytes_per_sequence):
    """Sequences that fit beside the weights [count]
    = floor((n x capacity x usable - weights) / bytes per sequence); inf when a sequence needs no memory."""
    free = n_chips * capacity_gb_per_chip * BYTES_PER_GB * usable_fraction - weight_bytes
    with np.errstate(divide="ignore", invalid="ignore"):
        b = np.floor(np.asarray(free, dtype=float) / np.asarray(bytes_per_sequence, dtype=float))
    b = np.where(np.asarray(free) < 0, -1.0, b)
    return np.where(np.isnan(b), -1.0, b)


def effective_bandwidth_bps(n_chips, memory_bw_tbps, memory_efficiency):
    """Achieved memory bandwidth of the replica [bytes/s] = n x peak x efficiency."""
    return n_chips * memory_bw_tbps * 1e12 * memory_efficiency


def effective_flops(n_chips, peak_tflops, compute_efficiency):
    """Achieved compute of the replica [FLOP/s] = n x peak x efficiency."""
    return n_chips * peak_tflops * FLOPS_PER_TFLOPS * compute_efficiency


def step_overhead_ms(n_chips, layers, step_overhead_ms_base, comm_overhead_ms_per_layer):
    """Fixed time per forward step [ms] = base + (n > 1) x layers x per-layer collective latency."""
    return step_overhead_ms_base + np.where(np.asarray(n_chips) > 1, 1.0, 0.0) * layers * comm_overhead_ms_per_layer


def tp_comm_bytes_per_token(layers, hidden, n_chips, activation_bytes=ALLREDUCE_BYTES_PER_VALUE):
    """Tensor-parallel collective traffic each chip sends per token [bytes]
    = layers x 2 all-reduces (after attention, after the MLP) x hidden x bytes per value
      x 2 (n - 1) / n (a ring all-reduce = reduce-scatter + all-gather); 0 on one chip."""
    n = np.asarray(n_chips, dtype=float)
    with np.errstate(invalid="ignore"):
        return layers * 2.0 * hidden * activation_bytes * 2.0 * (n - 1.0) / n


def link_bandwidth_bps(n_chips, scaleup_gbps, scaleup_domain, host_link_gbps, link_efficiency,
                       host_link_efficiency=None):
    """Achieved per-direction chip-to-chip bandwidth of the replica's collectives [bytes/s]
    = scale-up link x link efficiency if n <= scale-up domain, else host link (PCIe) x
      host-link efficiency; [GB/s, bidirectional] / 2 x 1e9. PCIe peer traffic crosses
    host bridges and reaches a smaller fraction of its peak than NVLink-class fabrics,
    hence two efficiencies (host-link efficiency defaults to the link efficiency). Each
    link stands in for the other when unknown; NaN when both are unknown (the collective
    traffic is then not modelled)."""
    n = np.asarray(n_chips, dtype=float)
    host_eff = link_efficiency if host_link_efficiency is None else host_link_efficiency
    scaleup = np.asarray(scaleup_gbps, dtype=float) * link_efficiency
    host = np.asarray(host_link_gbps, dtype=float) * host_eff
    domain = np.nan_to_num(np.asarray(scaleup_domain, dtype=float), nan=1.0)
    beyond = np.where(np.isfinite(host), host, scaleup)
    within = np.where(np.isfinite(scaleup), scaleup, host)
    return np.where(n <= domain, within, beyond) / 2.0 * BYTES_PER_GB


def comm_ms_per_token(comm_bytes_per_token, link_bps):
    """Collective time per token on the replica [ms] = bytes / achieved link bandwidth;
    0 on one chip or when the link is unknown."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.asarray(comm_bytes_per_token, dtype=float) / np.asarray(link_bps, dtype=float) * MS_PER_S
    return np.where(np.isfinite(t) & (np.asarray(comm_bytes_per_token) > 0), t, 0.0)


def llm_decode_coefficients(*, weight_bytes, kv_bytes_token, ctx_decode_tokens, flops_per_token,
                            attn_flops_per_token_decode, prefill_flops_per_query, input_tokens, output_tokens,
                            bandwidth_bps, flops_per_s, comm_ms_token=0.0, kv_bandwidth_bps=None):
    """Coefficients of the decode step, all [ms] (per sequence where noted):

    TPOT(b) = max(A, (C + D) b) + (B + E) b + O, where
    A = weights / BW: the matrix multiplies stream every weight once per step;
    C = 2 x active params per token / FLOPS: their work per decoding sequence;
    D = prefill FLOPs per query / FLOPS / output tokens: in-flight batching feeds prompt
        tokens through the same matrix multiplies, a 1/output share per step (prefill/decode
        interference: prompts slow every decode step);
    B = max(KV bytes per sequence / BW, attention FLOPs / FLOPS): attention reads each
        sequence's cache in its own kernels, between the matrix multiplies, so it adds;
    E = collective time per token x (1 + input / output tokens): tensor-parallel
        all-reduces of every decoded and prompt token, serialized with the layers.
    The max is the per-kernel roofline of the matrix multiplies: memory-bound (A) at small
    batch, compute-bound ((C + D) b) at large batch. Returns (A, B, C, D, E).
    """
    a = weight_bytes / bandwidth_bps * MS_PER_S
    kv_bw = bandwidth_bps if kv_bandwidth_bps is None else kv_bandwidth_bps
    b = np.maximum(kv_bytes_token * ctx_decode_tokens / kv_bw, attn_flops_per_token_decode / flops_per_s) * MS_PER_S
    c = flops_per_token / flops_per_s * MS_PER_S
    d = prefill_flops_per_query / flops_per_s * MS_PER_S / output_tokens
    e = comm_ms_token * (1.0 + input_tokens / output_tokens)
    return a, b, c, d, e


def step_time_ms(batch, a_ms, b_ms, c_ms, d_ms, e_ms, overhead_ms):
    """TPOT(b) [ms] = max(A, (C + D) b) + (B + E) b + O."""
    return np.maximum(a_ms, (c_ms + d_ms) * batch) + (b_ms + e_ms) * batch + overhead_ms


def prefill_time_share(batch, a_ms, b_ms, c_ms, d_ms, e_ms, overhead_ms):
    """Share of a decode step's work that is the prompts' prefill [fraction]
    = D b / (D b + max(A, C b) + (B + E) b + O): the prefill FLOPs the step carries
    (D, in-flight batching) over that plus the time the decode part would take alone.
    Splits a query's cost between its input and its output tokens."""
    prefill = d_ms * batch
    return prefill / (prefill + np.maximum(a_ms, c_ms * batch) + (b_ms + e_ms) * batch + overhead_ms)


def max_batch_for_step_budget(budget_ms, a_ms, b_ms, c_ms, d_ms, e_ms, overhead_ms):
    """Largest real b with TPOT(b) <= budget [sequences]: both branches of the max are
    increasing lines, so b = min((budget - O - A) / (B + E), (budget - O) / (B + C + D + E));
    inf for an infinite budget."""
    serial = np.asarray(b_ms + e_ms, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mem_bound = (budget_ms - overhead_ms - a_ms) / serial
        compute_bound = (budget_ms - overhead_ms) / (serial + c_ms + d_ms)
    mem_bound = np.where(np.isnan(mem_bound), np.inf, mem_bound)  # B + E = 0 with room left
    out = np.minimum(mem_bound, compute_bound)
    out = np.where(np.asarray(budget_ms) - overhead_ms - a_ms < 0, -np.inf, out)
    return np.where(np.isnan(out), -np.inf, out)


def prefill_time_ms(prefill_flops_per_query, weight_bytes, flops_per_s, bandwidth_bps, overhead_ms,
                    comm_ms=0.0):
    """Prefill of one query alone [ms] = max(FLOPs / FLOPS, weights / BW) + collectives + O
    (compute-bound for long prompts; collectives = input tokens x collective time per token)."""
    return (np.maximum(prefill_flops_per_query / flops_per_s, weight_bytes / bandwidth_bps) * MS_PER_S
            + comm_ms + overhead_ms)


def fixed_batch_time_ms(batch, weight_bytes, activation_bytes_per_query, flops_per_query,
                        bandwidth_bps, flops_per_s, overhead_ms):
    """One batch of fixed work [ms] = max((weights + b x activations) / BW, b x FLOPs / FLOPS) + O."""
    mem = (weight_bytes + batch * activation_bytes_per_query) / bandwidth_bps
    compute = batch * flops_per_query / flops_per_s
    return np.maximum(mem, compute) * MS_PER_S + overhead_ms


def fixed_max_batch_for_latency(latency_budget_ms, weight_bytes, activation_bytes_per_query,
                                flops_per_query, bandwidth_bps, flops_per_s, overhead_ms):
    """Largest b whose latency 2 x t(b) fits the budget (a query waits up to one batch, then runs one)
    [queries] = min((L/2 - O - W/BW) / (act/BW), (L/2 - O) / (FLOPs/FLOPS))."""
    half_ms = latency_budget_ms / 2.0 - overhead_ms
    a = weight_bytes / bandwidth_bps * MS_PER_S
    b = activation_bytes_per_query / bandwidth_bps * MS_PER_S
    c = flops_per_query / flops_per_s * MS_PER_S
    with np.errstate(divide="ignore", invalid="ignore"):
        mem_bound = np.where(b > 0, (half_ms - a) / b, np.where(half_ms - a >= 0, np.inf, -np.inf))
        compute_bound = (half_ms) / c
    out = np.minimum(mem_bound, compute_bound)
    return np.where(np.isnan(out), -np.inf, out)
