"""Performance model: memory fit, roofline decode and prefill, SLO-bounded batch.

Every function is pure and vectorized: arguments may be scalars, numpy arrays
or pandas Series (aligned), and the result has the same shape. Quantities
carry their unit in the name; formulas are in brackets.
"""

from __future__ import annotations

import numpy as np

from inferchip import server
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
    at or above n_min when it fits inside one server, else n_min rounded up to whole
    servers (a blank devices per server follows server.devices_per_server, as costing does)."""
    n_min = np.asarray(n_min, dtype=float)
    dps = server.devices_per_server(devices_per_server)
    with np.errstate(divide="ignore", invalid="ignore"):
        pow2 = 2.0 ** np.ceil(np.log2(np.maximum(n_min, 1.0)))
        whole_servers = np.ceil(n_min / dps) * dps
    return np.where(pow2 <= dps, pow2, whole_servers)


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
                            bandwidth_bps, flops_per_s, comm_ms_token=0.0, kv_bandwidth_bps=None,
                            attn_flops_per_s=None):
    """Coefficients of the decode step, all [ms] (per sequence where noted):

    TPOT(b) = A + (B + C + D + E) b + O, where
    A = weights / BW: the matrix multiplies stream every weight once per step;
    C = 2 x active params per token / FLOPS: their work per decoding sequence;
    D = prefill FLOPs per query / FLOPS / output tokens: in-flight batching feeds prompt
        tokens through the same matrix multiplies, a 1/output share per step (prefill/decode
        interference: prompts slow every decode step);
    B = max(KV bytes per sequence / BW_kv, attention FLOPs / FLOPS_attn): attention reads each
        sequence's cache in its own kernels, between the matrix multiplies, so it adds
        (FLOPS_attn at the KV-cache precision: attention never runs in 4-bit);
    E = collective time per token x (1 + input / output tokens): tensor-parallel
        all-reduces of every decoded and prompt token, serialized with the layers.
    The step is affine in the batch (a fixed weight stream plus a cost per sequence), as
    measured decode steps are: the weight stream is not hidden behind the matrix work at the
    batches serving runs at. Returns (A, B, C, D, E).
    """
    a = weight_bytes / bandwidth_bps * MS_PER_S
    kv_bw = bandwidth_bps if kv_bandwidth_bps is None else kv_bandwidth_bps
    attn_flops = flops_per_s if attn_flops_per_s is None else attn_flops_per_s
    b = np.maximum(kv_bytes_token * ctx_decode_tokens / kv_bw, attn_flops_per_token_decode / attn_flops) * MS_PER_S
    c = flops_per_token / flops_per_s * MS_PER_S
    d = prefill_flops_per_query / flops_per_s * MS_PER_S / output_tokens
    e = comm_ms_token * (1.0 + input_tokens / output_tokens)
    return a, b, c, d, e


def step_time_ms(batch, a_ms, b_ms, c_ms, d_ms, e_ms, overhead_ms):
    """TPOT(b) [ms] = A + (B + C + D + E) b + O."""
    return a_ms + (b_ms + c_ms + d_ms + e_ms) * batch + overhead_ms


def prefill_time_share(batch, a_ms, b_ms, c_ms, d_ms, e_ms, overhead_ms):
    """Share of a decode step's work that is the prompts' prefill [fraction]
    = D b / TPOT(b): the prefill FLOPs the step carries (D, in-flight batching) over the
    whole step. Splits a query's cost between its input and its output tokens."""
    return d_ms * batch / step_time_ms(batch, a_ms, b_ms, c_ms, d_ms, e_ms, overhead_ms)


def max_batch_for_step_budget(budget_ms, a_ms, b_ms, c_ms, d_ms, e_ms, overhead_ms):
    """Largest real b with TPOT(b) <= budget [sequences] = (budget - O - A) / (B + C + D + E);
    inf for an infinite budget (or no per-sequence cost), -inf when the weight stream and
    overhead alone exceed the budget."""
    per_sequence = np.asarray(b_ms + c_ms + d_ms + e_ms, dtype=float)
    room = np.asarray(budget_ms, dtype=float) - overhead_ms - a_ms
    with np.errstate(divide="ignore", invalid="ignore"):
        out = room / per_sequence
    out = np.where(np.isnan(out), np.inf, out)  # no per-sequence cost with room left
    out = np.where(room < 0, -np.inf, out)
    return np.where(np.isnan(room), -np.inf, out)


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


# --- Model architecture: mixture of experts, MLA attention, sliding-window layers ------------


def expert_params_b(params_b, active_params_b, experts, experts_per_token):
    """Parameters held in routed experts [1e9] = (params - active) x E / (E - k): the
    routed experts hold all but the always-active part, and a token uses k of E;
    0 for a dense model (E = 0) or when k >= E."""
    e = np.asarray(experts, dtype=float)
    k = np.asarray(experts_per_token, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        routed = (params_b - active_params_b) * e / (e - k)
    return np.where((e > 0) & (e > k) & np.isfinite(routed), np.maximum(routed, 0.0), 0.0)


def experts_read_fraction(tokens, experts, experts_per_token):
    """Expected fraction of routed experts a step touches [0..1] = 1 - (1 - k/E)^tokens
    (each of `tokens` tokens picks k of E experts uniformly; distinct experts read
    = E x this, between k and E for tokens >= 1); 1 for a dense model (E = 0)."""
    e = np.asarray(experts, dtype=float)
    k = np.asarray(experts_per_token, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        miss = np.clip(1.0 - k / e, 0.0, 1.0)
        frac = 1.0 - miss ** np.maximum(np.asarray(tokens, dtype=float), 1.0)
    return np.where(e > 0, frac, 1.0)


def step_weight_bytes(weight_bytes, params_b, expert_b, read_fraction):
    """Weights one decode step streams [bytes] = weights x (1 - expert share x (1 - read
    fraction)), expert share = expert params / params: the always-active part is read
    whole, routed experts only where a token in the step chose them."""
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(np.asarray(params_b) > 0, expert_b / params_b, 0.0)
    return weight_bytes * (1.0 - share * (1.0 - read_fraction))


def attention_flops_per_ctx_token(layers, hidden, attention_heads, kv_elems_per_token_per_layer, mla):
    """Decode attention FLOPs per generated token per context token [FLOP]:
    standard (GQA/MHA) = 4 x layers x hidden (QK^T and AV over the query width);
    MLA (latent attention, weights absorbed) = 4 x layers x heads x latent width, each
    query head scoring and reading the cached latent (kv_elems_per_token_per_layer
    elements, DeepSeek: 512 latent + 64 RoPE = 576) directly."""
    return np.where(np.asarray(mla) > 0, 4.0 * layers * attention_heads * kv_elems_per_token_per_layer,
                    4.0 * layers * hidden)


def windowed_layer_ctx(ctx_tokens, layers, window_tokens, window_layers):
    """Layer-weighted context of a sequence [layer-tokens] = (layers - Lw) x ctx
    + Lw x min(ctx, window): sliding-window layers keep (and attend over) at most the
    window; with no window (0) every layer holds the whole context."""
    w = np.asarray(window_tokens, dtype=float)
    lw = np.where(w > 0, np.minimum(np.asarray(window_layers, dtype=float), layers), 0.0)
    capped = np.where(w > 0, np.minimum(ctx_tokens, w), ctx_tokens)
    return (layers - lw) * ctx_tokens + lw * capped


def mean_decode_context(input_tokens, output_tokens, output_cv):
    """Context of a decoding sequence averaged over the sequences in flight [tokens]
    = input + output x (1 + cv^2) / 2: a sequence stays in the batch for as many steps
    as it has output tokens, so long outputs are over-represented (E[o^2] / 2E[o]);
    cv = 0 gives the midpoint input + output / 2."""
    return input_tokens + output_tokens * (1.0 + np.asarray(output_cv, dtype=float) ** 2) / 2.0


def moe_dispatch_bytes_per_token(layers, hidden, experts_per_token, n_chips, experts,
                                 activation_bytes=ALLREDUCE_BYTES_PER_VALUE):
    """Expert-parallel all-to-all traffic each chip sends per token [bytes]
    = layers x 2 (dispatch and combine) x k x hidden x bytes x (n - 1) / n: each token's
    activations go to the chips of its k experts and come back; 0 for a dense model
    or on one chip (replaces the MLP's all-reduce of tensor parallelism)."""
    n = np.asarray(n_chips, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = layers * 2.0 * experts_per_token * hidden * activation_bytes * (n - 1.0) / n
    return np.where(np.asarray(experts) > 0, out, 0.0)


# Sustained power per dense bf16 TFLOP at which a chip holds its rated clocks [W/TFLOPS]:
# H100/H200 SXM, 700 W / 989 TFLOPS = 0.71. Chips rated with less power per peak FLOP
# (H100 NVL 400 W / 836 = 0.48, H100 PCIe 0.46, MI300X 750 W / 1307 = 0.57, B200 0.44)
# throttle under sustained matrix work. Evidence: MLPerf v4.1 H100 NVL llama-2-70b and
# gpt-j were over-predicted 1.2-1.4x against H100 SXM without this; an assumption, not fitted.
SUSTAINED_W_PER_BF16_TFLOPS = 0.7
Z_P99 = 2.326  # standard normal quantile of the 99th percentile
# Prompt headroom H of a chunked-prefill scheduler: a step carries at most (1 + H) x the mean
# prompt work per step (the token budget, e.g. TensorRT-LLM max_num_tokens, vLLM
# max_num_batched_tokens, Sarathi-Serve's stall-free batching, is set to keep up with arrivals
# with room for bursts). An assumption judged by the time split (fit MLPerf v4.x, predict the
# 120 v5.1 LLM rows; docs/accuracy.md): H = 0.5 / 1 / 2 / 3 / 4 / 6 / 8 / none gave a median
# |error| of 13.3 / 13.1 / 12.9 / 12.8 / 12.6 / 12.5 / 12.8 / 13.1 % and a worst ratio of
# 1.92 / 1.85 / 1.80 / 1.75 / 1.75 / 1.75 / 1.75 / 0.44x; 6 sits inside the flat 4-8 range.
PROMPT_HEADROOM = 6.0


def sustained_compute_fraction(tdp_w, bf16_tflops, w_per_tflops=SUSTAINED_W_PER_BF16_TFLOPS):
    """Fraction of peak compute a chip sustains under its power limit [0..1]
    = min(1, (TDP / dense bf16 peak) / W per TFLOPS needed): matrix work draws power in
    proportion to its rate, so a chip rated below the needed power per FLOP runs at
    reduced clocks; 1 where TDP or the bf16 peak is unknown. Multiplies compute_efficiency."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.asarray(tdp_w, dtype=float) / np.asarray(bf16_tflops, dtype=float) / w_per_tflops
    return np.where(np.isfinite(ratio) & (ratio > 0), np.minimum(ratio, 1.0), 1.0)


def prefill_tail_ms(batch, d_ms, tail_spread, headroom=PROMPT_HEADROOM):
    """p99 minus mean time per output token [ms]
    = min(z99 x sqrt(h x (b - 1)), H x (b - 1)) x D.
    Prompts arrive at random (Poisson): a query that decodes o tokens while b - 1 others are
    in flight sees N ~ Poisson((b - 1) o / mean o) of their prefills carried inside its steps
    (its own prompt is its time to first token, not its TPOT), each adding its prompt's work;
    its mean TPOT is the batch's (the D x b term), its spread relative to that
    sqrt((1 + cv_in^2) mean o / ((b - 1) o)). The p99 query sets the bound, so the tail is
    z99 x sqrt(h / (b - 1)) x D x (b - 1) with h = (1 + cv_in^2) x mean o / o of the
    short-output queries that make the tail: the tail spread, fitted (calibration.csv,
    shared). A chunked-prefill scheduler (a token budget per step) never lets a step carry
    more than (1 + H) times the mean prompt work, H the prompt headroom: the rest of a burst
    waits for the next steps (time to first token), so the tail is at most H x (b - 1) x D.
    A lone sequence (b = 1) has no tail; small batches (tight bounds) and prompt-heavy work
    (large D) widen it."""
    others = np.maximum(np.asarray(batch, dtype=float) - 1.0, 0.0)
    spread = Z_P99 * np.sqrt(np.maximum(tail_spread, 0.0) * others)
    return np.minimum(spread, headroom * others) * d_ms


def bounded_tail_spread(tail_spread, output_tokens, output_tokens_min):
    """Tail spread a workload's output lengths allow [ratio] = min(h, mean o / shortest o):
    h = (1 + cv_in^2) x mean o / o of the short-output queries that make the p99
    (prefill_tail_ms), and no query is shorter than the shortest output, so a workload whose
    outputs all have one length (shortest = mean) keeps only the Poisson spread of the
    prompts arriving (h = 1). `output_tokens_min` 0 (unknown) keeps the fitted h."""
    h = np.asarray(tail_spread, dtype=float)
    o_min = np.asarray(output_tokens_min, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        cap = np.where(o_min > 0, np.asarray(output_tokens, dtype=float) / o_min, np.inf)
    return np.minimum(h, np.maximum(cap, 1.0))


def max_batch_p99_affine(budget_ms, a_ms, b_ms, c_ms, d_ms, e_ms, overhead_ms, tail_spread,
                         headroom=PROMPT_HEADROOM):
    """Largest real b whose p99 step time meets the budget, for a weight term A that does not
    depend on the batch (dense models) [sequences], in closed form:
    A + S b + O + min(z99 sqrt(h (b - 1)), H (b - 1)) D <= budget, S = B + C + D + E.
    The p99 time is the smaller of two increasing curves, so b is the larger of their roots:
    linear cap:  b = (budget - O - A + H D) / (S + H D);
    Poisson:     b = 1 + x^2, x = (-q + sqrt(q^2 + 4 S (budget - O - A - S))) / (2 S), q = z99 sqrt(h) D.
    Below one sequence there is no tail: b = (budget - O - A) / S when that is under 1
    (-inf when the weight stream and overhead alone exceed the budget, as max_batch_for_step_budget)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        s_ms = np.asarray(b_ms + c_ms + d_ms + e_ms, dtype=float)
        d = np.asarray(d_ms, dtype=float)
        room = np.asarray(budget_ms, dtype=float) - overhead_ms - a_ms
        q = Z_P99 * np.sqrt(np.maximum(tail_spread, 0.0)) * d
        alone = room / s_ms  # the step without a tail
        linear = (room + headroom * d) / (s_ms + headroom * d)
        x = (-q + np.sqrt(q * q + 4.0 * s_ms * np.maximum(room - s_ms, 0.0))) / (2.0 * s_ms)
        poisson = 1.0 + x * x
    tailed = np.fmax(linear, poisson)
    out = np.where(alone < 1.0, alone, tailed)
    out = np.where(s_ms > 0, out, np.where(room >= 0, np.inf, -np.inf))
    return np.where(room < 0, -np.inf, out)


def max_batch_p99(budget_ms, a_of_batch, high, b_ms, c_ms, d_ms, e_ms, overhead_ms, tail_spread, steps):
    """Largest b whose p99 step time meets the budget [sequences]:
    TPOT(b, A(b)) + prefill_tail_ms(b) <= budget (the capped tail, min(z99 sqrt(h (b - 1)),
    H (b - 1)) D), where A(b) may depend on the batch (MoE:
    fewer tokens touch fewer experts). Both terms grow with b, so bisection between 0 and
    `high` (the bound solved with the smallest weight term and no tail: no larger b fits)."""
    hi = np.asarray(high, dtype=float)
    finite = np.isfinite(hi) & (hi >= 0)
    lo_f = np.zeros_like(hi)
    hi_f = np.where(finite, hi, 0.0)
    for _ in range(steps):
        mid = (lo_f + hi_f) / 2.0
        at = np.maximum(mid, 1.0)
        p99 = step_time_ms(mid, a_of_batch(at), b_ms, c_ms, d_ms, e_ms, overhead_ms) + prefill_tail_ms(mid, d_ms, tail_spread)
        ok = p99 <= budget_ms
        lo_f, hi_f = np.where(ok, mid, lo_f), np.where(ok, hi_f, mid)
    return np.where(finite, lo_f, hi)
