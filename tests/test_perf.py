"""Performance formulas against hand-computed scalar cases."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from inferchip import perf


def test_weights_and_kv_sizes():
    # Llama-2-70B at fp8: 68.98e9 bytes; KV per token fp8 = 80 layers x 2048 elems x 1 B
    assert perf.weights_bytes(68.98, 1.0) == pytest.approx(68.98e9)
    assert perf.kv_bytes_per_token(80, 2048, 1.0) == 163_840


def test_min_chips_for_weights():
    # 70B fp16 = 140 GB on 80 GB cards at 90 %: 140 / 72 -> 2
    assert perf.min_chips_for_weights(140e9, 80.0, 0.9) == 2
    # Groq: 230 MB SRAM, 69 GB int8 -> ceil(69e9 / 207e6) = 334
    assert perf.min_chips_for_weights(69e9, 0.23, 0.9) == 334
    # no memory -> inf
    assert np.isinf(perf.min_chips_for_weights(1e9, np.nan, 0.9))


def test_candidate_base():
    assert perf.candidate_base(3, 8) == 4
    assert perf.candidate_base(1, 8) == 1
    assert perf.candidate_base(334, 8) == 336


def test_max_batch_for_memory():
    # 2 x 80 GB x 0.9 = 144 GB; weights 69 GB -> 75 GB free / 0.1 GB per sequence = 750
    assert perf.max_batch_for_memory(2, 80.0, 0.9, 69e9, 0.1e9) == 750
    assert perf.max_batch_for_memory(1, 80.0, 0.9, 100e9, 0.1e9) == -1


def test_step_time_and_budget_are_consistent():
    a, b, c, d, e, o = 10.0, 0.02, 0.05, 0.03, 0.01, 2.0
    # b=100: weight stream 10 + per sequence (0.02 + 0.05 + 0.03 + 0.01) x 100 = 11 + O 2 -> 23
    assert perf.step_time_ms(100, a, b, c, d, e, o) == pytest.approx(23.0)
    bmax = perf.max_batch_for_step_budget(23.0, a, b, c, d, e, o)
    assert bmax == pytest.approx(100.0)
    assert perf.step_time_ms(bmax, a, b, c, d, e, o) == pytest.approx(23.0)
    # b=400: 10 + 0.11 x 400 + 2 = 56 (affine in the batch: the weight stream is never hidden)
    assert perf.step_time_ms(400, a, b, c, d, e, o) == pytest.approx(56.0)
    assert perf.max_batch_for_step_budget(56.0, a, b, c, d, e, o) == pytest.approx(400.0)


def test_budget_below_fixed_cost_gives_negative_batch():
    assert perf.max_batch_for_step_budget(5.0, 10.0, 0.01, 0.01, 0.0, 0.0, 2.0) < 1


def test_infinite_budget_is_unbounded():
    assert np.isinf(perf.max_batch_for_step_budget(np.inf, 10.0, 0.01, 0.01, 0.01, 0.0, 1.0))


def test_budget_with_no_per_sequence_serial_cost():
    # B + E = 0: (20 - 2 - 5) / (0.1 + 0.05) = 86.7; no per-sequence cost at all: unbounded
    assert perf.max_batch_for_step_budget(20.0, 5.0, 0.0, 0.1, 0.05, 0.0, 2.0) == pytest.approx(13.0 / 0.15)
    assert np.isinf(perf.max_batch_for_step_budget(20.0, 5.0, 0.0, 0.0, 0.0, 0.0, 2.0))


def test_decode_coefficients_hand_computed():
    # 1 chip, 1 TB/s and 100 TFLOP/s effective; 10 GB weights, 1 MB/token KV over 500 tokens
    a, b, c, d, e = perf.llm_decode_coefficients(
        weight_bytes=10e9, kv_bytes_token=1e6, ctx_decode_tokens=500, flops_per_token=20e9,
        attn_flops_per_token_decode=0.0, prefill_flops_per_query=20e9 * 1000, input_tokens=1000,
        output_tokens=200, bandwidth_bps=1e12, flops_per_s=100e12, comm_ms_token=0.002)
    assert a == pytest.approx(10.0)       # 10 GB / 1 TB/s = 10 ms
    assert b == pytest.approx(0.5)        # 0.5 GB / 1 TB/s
    assert c == pytest.approx(0.2)        # 20 GFLOP / 100 TFLOP/s
    assert d == pytest.approx(1.0)        # 200 ms prefill / 200 tokens
    assert e == pytest.approx(0.012)      # 0.002 ms x (1 + 1000 / 200) tokens per step


def test_attention_term_takes_the_slower_of_memory_and_compute():
    # 1 KB of KV per sequence on 1 TB/s = 1e-6 ms, but 1 GFLOP of attention on 1 TFLOP/s = 1 ms
    _, b, _, _, _ = perf.llm_decode_coefficients(
        weight_bytes=1e9, kv_bytes_token=1.0, ctx_decode_tokens=1000, flops_per_token=1e9,
        attn_flops_per_token_decode=1e9, prefill_flops_per_query=0.0, input_tokens=1, output_tokens=1,
        bandwidth_bps=1e12, flops_per_s=1e12)
    assert b == pytest.approx(1.0)


def test_tensor_parallel_traffic_and_links():
    # Llama-2-70B on 4 chips: 80 layers x 2 x 8192 x 2 B x 2 x 3/4 = 3.93 MB per token
    assert perf.tp_comm_bytes_per_token(80, 8192, 4) == pytest.approx(80 * 2 * 8192 * 2 * 1.5)
    assert perf.tp_comm_bytes_per_token(80, 8192, 1) == 0
    # NVLink 900 GB/s bidirectional inside an 8-chip domain, at 50 % efficiency: 225 GB/s per direction
    assert perf.link_bandwidth_bps(4, 900.0, 8, 128.0, 0.5) == pytest.approx(225e9)
    # beyond the domain the host link (PCIe Gen5 128 GB/s) carries it
    assert perf.link_bandwidth_bps(4, 600.0, 2, 128.0, 1.0) == pytest.approx(64e9)
    # PCIe-only card (no scale-up link): the host link everywhere
    assert perf.link_bandwidth_bps(2, np.nan, 1, 64.0, 1.0) == pytest.approx(32e9)
    # PCIe at its own efficiency: 64 GB/s / 2 x 0.25 = 8 GB/s; NVLink pairs keep theirs: 600 / 2 x 0.8
    assert perf.link_bandwidth_bps(4, 600.0, 2, 64.0, 0.8, 0.25) == pytest.approx(8e9)
    assert perf.link_bandwidth_bps(2, 600.0, 2, 64.0, 0.8, 0.25) == pytest.approx(240e9)
    assert np.isnan(perf.link_bandwidth_bps(2, np.nan, 1, np.nan, 1.0))
    # 3.2 MB over 32 GB/s = 0.1 ms; unknown link or one chip -> 0
    assert perf.comm_ms_per_token(3.2e6, 32e9) == pytest.approx(0.1)
    assert perf.comm_ms_per_token(3.2e6, np.nan) == 0
    assert perf.comm_ms_per_token(0.0, 32e9) == 0


def test_prefill_adds_collectives():
    # 10 TFLOP on 100 TFLOP/s = 100 ms, weights 10 ms, + 5 ms collectives + 2 ms overhead
    assert perf.prefill_time_ms(10e12, 10e9, 100e12, 1e12, 2.0, 5.0) == pytest.approx(107.0)


def test_fixed_batch_latency():
    # ResNet-50-like: 25.6 MB weights, 7.6 GFLOP/query on 100 TFLOP/s, 1 TB/s
    t = perf.fixed_batch_time_ms(100, 25.6e6, 0.0, 7.6e9, 1e12, 100e12, 0.5)
    assert t == pytest.approx(max(0.0256, 7.6) + 0.5)
    bmax = perf.fixed_max_batch_for_latency(2 * t, 25.6e6, 0.0, 7.6e9, 1e12, 100e12, 0.5)
    assert bmax == pytest.approx(100.0)


def test_expert_params_and_read_fraction():
    # Mixtral 8x7B: 46.7 B total, 12.9 B active, 2 of 8 experts: routed = 33.8 x 8 / 6 = 45.07 B
    assert perf.expert_params_b(46.7, 12.9, 8, 2) == pytest.approx(33.8 * 8 / 6)
    assert perf.expert_params_b(70.0, 70.0, 0, 0) == 0.0  # dense
    # one token reads k/E of the experts; 3 tokens: 1 - (3/4)^3
    assert perf.experts_read_fraction(1, 8, 2) == pytest.approx(0.25)
    assert perf.experts_read_fraction(3, 8, 2) == pytest.approx(1 - 0.75 ** 3)
    assert perf.experts_read_fraction(5, 0, 0) == 1.0
    # a step's weights: 100 GB model, 80 B of 100 B params in experts, a quarter read -> 100 x (1 - 0.8 x 0.75)
    assert perf.step_weight_bytes(100e9, 100.0, 80.0, 0.25) == pytest.approx(40e9)


def test_attention_flops_mla_and_window():
    # GQA: 4 x layers x hidden; MLA: 4 x layers x heads x latent (DeepSeek: 61 x 128 x 576)
    assert perf.attention_flops_per_ctx_token(80, 8192, 64, 2048, 0) == 4 * 80 * 8192
    assert perf.attention_flops_per_ctx_token(61, 7168, 128, 576, 1) == 4 * 61 * 128 * 576
    # gpt-oss-120b: 36 layers, 18 with a 128-token window, 2000-token context
    assert perf.windowed_layer_ctx(2000, 36, 128, 18) == 18 * 2000 + 18 * 128
    assert perf.windowed_layer_ctx(100, 36, 128, 18) == 36 * 100  # inside the window: all layers equal
    assert perf.windowed_layer_ctx(2000, 36, 0, 18) == 36 * 2000  # no window


def test_mean_decode_context_and_dispatch():
    # input 800, output 4000, cv 1: 800 + 4000 x 2 / 2 = 4800; cv 0 is the midpoint
    assert perf.mean_decode_context(800, 4000, 1.0) == 4800
    assert perf.mean_decode_context(800, 4000, 0.0) == 2800
    # all-to-all: 61 layers x 2 x 8 experts x 7168 x 2 B x 7/8 on 8 chips
    assert perf.moe_dispatch_bytes_per_token(61, 7168, 8, 8, 256) == pytest.approx(61 * 2 * 8 * 7168 * 2 * 7 / 8)
    assert perf.moe_dispatch_bytes_per_token(61, 7168, 8, 1, 256) == 0.0
    assert perf.moe_dispatch_bytes_per_token(80, 8192, 0, 8, 0) == 0.0


def test_p99_batch_solve_meets_budget():
    # A(b) = 10 ms x (0.2 + 0.8 x read fraction(b, 64 experts, 4 per token)); B = 0.05, C = 0.02, D = 0.01 ms
    a_of = lambda b: 10.0 * perf.step_weight_bytes(1.0, 1.0, 0.8, perf.experts_read_fraction(b, 64, 4))  # noqa: E731
    low = perf.max_batch_for_step_budget(30.0, 10.0, 0.05, 0.02, 0.01, 0.0, 1.0)
    high = perf.max_batch_for_step_budget(30.0, a_of(1.0), 0.05, 0.02, 0.01, 0.0, 1.0)
    p99 = lambda b, h: (perf.step_time_ms(b, a_of(b), 0.05, 0.02, 0.01, 0.0, 1.0)  # noqa: E731
                        + perf.prefill_tail_ms(b, 0.01, h))
    b = perf.max_batch_p99(30.0, a_of, high, 0.05, 0.02, 0.01, 0.0, 1.0, 0.0, 30)
    assert low - 1e-6 <= b <= high  # fewer experts read at a smaller batch: at least the all-experts batch
    assert p99(b, 0.0) <= 30.0 + 1e-9 and p99(b + 0.01, 0.0) > 30.0 - 1e-3
    tailed = perf.max_batch_p99(30.0, a_of, high, 0.05, 0.02, 0.01, 0.0, 1.0, 20.0, 30)
    assert tailed < b and p99(tailed, 20.0) <= 30.0 + 1e-9


def test_prefill_tail_and_sustained_compute():
    # min(z99 x sqrt(h (b - 1)), H (b - 1)) x D: h = 20, b = 81, D = 0.5 ms -> 2.326 x 40 x 0.5
    assert perf.prefill_tail_ms(81, 0.5, 20.0) == pytest.approx(2.326 * 40 * 0.5)
    assert perf.prefill_tail_ms(81, 0.5, 0.0) == 0.0
    # a chunked-prefill token budget caps it at H x (b - 1) x D: h = 320, b = 5, H = 6 -> 6 x 4 x 0.5
    # (the Poisson spread alone would be 2.326 x sqrt(1280) x 0.5 = 41.6 ms)
    assert perf.prefill_tail_ms(5, 0.5, 320.0) == pytest.approx(perf.PROMPT_HEADROOM * 4 * 0.5)
    assert perf.prefill_tail_ms(5, 0.5, 320.0, headroom=1.0) == pytest.approx(2.0)
    assert perf.prefill_tail_ms(5, 0.5, 320.0, headroom=np.inf) == pytest.approx(2.326 * np.sqrt(1280) * 0.5)
    # a lone sequence sees no other prompt's prefill: no tail at b = 1 (or below)
    assert perf.prefill_tail_ms(1, 0.5, 320.0) == 0.0
    assert perf.prefill_tail_ms(0.5, 0.5, 320.0) == 0.0
    # H100 NVL: 400 W / 835.5 TFLOPS = 0.479 W/TFLOPS -> 0.479 / 0.7; H100 SXM (0.707) holds its clocks
    assert perf.sustained_compute_fraction(400, 835.5) == pytest.approx(400 / 835.5 / 0.7)
    assert perf.sustained_compute_fraction(700, 989.4) == 1.0
    assert perf.sustained_compute_fraction(np.nan, 989.4) == 1.0


@given(st.floats(1, 1000), st.floats(0, 100), st.floats(5, 500))
def test_throughput_never_rises_as_tpot_tightens(budget_cut, spread, budget):
    # tokens/s at the largest batch meeting a budget, for a tighter budget, is never higher
    a, bb, c, d, e, o = 8.0, 0.05, 0.03, 0.02, 0.0, 2.0
    a_of = lambda b: np.full(np.shape(b), a)  # noqa: E731

    def rate(limit):
        high = perf.max_batch_for_step_budget(limit, a, bb, c, d, e, o)
        b = np.floor(perf.max_batch_p99(limit, a_of, high, bb, c, d, e, o, spread, 40))
        return b / perf.step_time_ms(b, a, bb, c, d, e, o) if b >= 1 else 0.0

    assert rate(budget / (1 + budget_cut / 100)) <= rate(budget) + 1e-9




@given(st.integers(1, 512), st.integers(1, 10_000), st.integers(1, 16))
def test_expert_reads_between_k_and_e(experts, tokens, k):
    k = min(k, experts)
    distinct = experts * perf.experts_read_fraction(tokens, experts, k)
    assert k - 1e-9 <= distinct <= experts + 1e-9
    assert perf.experts_read_fraction(tokens + 1, experts, k) >= perf.experts_read_fraction(tokens, experts, k) - 1e-12


@given(st.floats(1, 1e6), st.integers(1, 128), st.integers(0, 100_000), st.integers(0, 128))
def test_window_kv_never_exceeds_full_kv(ctx, layers, window, window_layers):
    assert perf.windowed_layer_ctx(ctx, layers, window, window_layers) <= layers * ctx * (1 + 1e-12)


def test_tail_spread_bounded_by_the_shortest_output():
    # h = min(fitted h, mean / shortest output); unknown shortest (0) keeps the fitted h
    assert perf.bounded_tail_spread(320.0, 128.0, 128.0) == pytest.approx(1.0)  # fixed-length outputs
    assert perf.bounded_tail_spread(320.0, 300.0, 100.0) == pytest.approx(3.0)
    assert perf.bounded_tail_spread(2.0, 300.0, 10.0) == pytest.approx(2.0)  # the fit is already below the cap
    assert perf.bounded_tail_spread(320.0, 300.0, 0.0) == pytest.approx(320.0)
    both = perf.bounded_tail_spread(np.array([320.0, 320.0]), np.array([128.0, 294.0]), np.array([128.0, 0.0]))
    assert both.tolist() == [1.0, 320.0]
    # a smaller spread never needs a smaller batch to meet the same p99 budget
    a_of = lambda b: 5.0  # noqa: E731
    high = perf.max_batch_for_step_budget(30.0, 5.0, 0.05, 0.02, 0.1, 0.0, 1.0)
    wide = perf.max_batch_p99(30.0, a_of, high, 0.05, 0.02, 0.1, 0.0, 1.0, 320.0, 30)
    narrow = perf.max_batch_p99(30.0, a_of, high, 0.05, 0.02, 0.1, 0.0, 1.0, 1.0, 30)
    assert 1 <= wide < narrow <= high


@given(st.floats(0.5, 30), st.floats(0, 0.2), st.floats(1e-3, 0.2), st.floats(0, 2), st.floats(0, 0.1),
       st.floats(0, 5), st.sampled_from([0.0, 1.0, 20.0, 320.0]), st.floats(1, 300))
def test_closed_form_p99_batch_matches_the_bisection(a, bb, c, d, e, o, h, budget):
    # dense models: the closed-form root equals the bisection of the same p99 step time
    high = perf.max_batch_for_step_budget(budget, a, bb, c, d, e, o)
    closed = perf.max_batch_p99_affine(budget, a, bb, c, d, e, o, h)
    if not np.isfinite(high) or high < 0:
        assert closed == -np.inf
        return
    bisected = perf.max_batch_p99(budget, lambda b: a, high, bb, c, d, e, o, h, 60)
    assert closed == pytest.approx(bisected, rel=1e-9, abs=1e-9)
    p99 = perf.step_time_ms(closed, a, bb, c, d, e, o) + perf.prefill_tail_ms(closed, d, h)
    assert p99 <= budget * (1 + 1e-9)


def test_closed_form_p99_batch_hand_case():
    # A 10, S = 0.1 + 0.2 + 0.5 + 0 = 0.8, O 2, D 0.5, H 6, budget 50 (room 38):
    # cap: (38 + 6 x 0.5) / (0.8 + 6 x 0.5) = 10.79; Poisson, h = 320: q = 2.326 sqrt(320) 0.5 = 20.80,
    # x = (-q + sqrt(q^2 + 4 x 0.8 x (38 - 0.8))) / 1.6 = 1.68 -> b = 3.82: the larger root (the cap) wins
    assert perf.max_batch_p99_affine(50.0, 10.0, 0.1, 0.2, 0.5, 0.0, 2.0, 320.0) == pytest.approx(41.0 / 3.8)
    # h = 1: q = 1.163, x = (-1.163 + sqrt(1.163^2 + 119.04)) / 1.6 = 6.13 -> b = 38.6 beats the cap
    q = 2.326 * 0.5
    x = (-q + np.sqrt(q * q + 4 * 0.8 * 37.2)) / 1.6
    assert perf.max_batch_p99_affine(50.0, 10.0, 0.1, 0.2, 0.5, 0.0, 2.0, 1.0) == pytest.approx(1 + x * x)
    # a tighter token budget (H = 1) leaves a smaller tail: (38 + 0.5) / 1.3 = 29.6
    assert perf.max_batch_p99_affine(50.0, 10.0, 0.1, 0.2, 0.5, 0.0, 2.0, 320.0, headroom=1.0) == pytest.approx(38.5 / 1.3)
    # under one sequence there is no tail; nothing fits when the weight stream alone exceeds the budget
    assert perf.max_batch_p99_affine(12.4, 10.0, 0.1, 0.2, 0.5, 0.0, 2.0, 320.0) == pytest.approx(0.5)
    assert perf.max_batch_p99_affine(11.0, 10.0, 0.1, 0.2, 0.5, 0.0, 2.0, 320.0) == -np.inf
