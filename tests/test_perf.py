"""Performance formulas against hand-computed scalar cases."""

import numpy as np
import pytest

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
    a, b, c, d, o = 10.0, 0.02, 0.05, 0.03, 2.0
    # memory side at b=100: 10 + 2 = 12; compute side: 5 -> max 12, + D b 3 + O 2 = 17
    assert perf.step_time_ms(100, a, b, c, d, o) == pytest.approx(17.0)
    bmax = perf.max_batch_for_step_budget(17.0, a, b, c, d, o)
    assert bmax == pytest.approx(100.0)
    assert perf.step_time_ms(bmax, a, b, c, d, o) == pytest.approx(17.0)


def test_budget_below_fixed_cost_gives_negative_batch():
    assert perf.max_batch_for_step_budget(5.0, 10.0, 0.01, 0.01, 0.0, 2.0) < 1


def test_infinite_budget_is_unbounded():
    assert np.isinf(perf.max_batch_for_step_budget(np.inf, 10.0, 0.01, 0.01, 0.01, 1.0))


def test_decode_coefficients_hand_computed():
    # 1 chip, 1 TB/s and 100 TFLOP/s effective; 10 GB weights, 1 MB/token KV over 500 tokens
    a, b, c, d = perf.llm_decode_coefficients(
        weight_bytes=10e9, kv_bytes_token=1e6, ctx_decode_tokens=500, flops_per_token=20e9,
        attn_flops_per_token_decode=0.0, prefill_flops_per_query=20e9 * 1000, output_tokens=200,
        bandwidth_bps=1e12, flops_per_s=100e12)
    assert a == pytest.approx(10.0)       # 10 GB / 1 TB/s = 10 ms
    assert b == pytest.approx(0.5)        # 0.5 GB / 1 TB/s
    assert c == pytest.approx(0.2)        # 20 GFLOP / 100 TFLOP/s
    assert d == pytest.approx(1.0)        # 200 ms prefill / 200 tokens


def test_fixed_batch_latency():
    # ResNet-50-like: 25.6 MB weights, 7.6 GFLOP/query on 100 TFLOP/s, 1 TB/s
    t = perf.fixed_batch_time_ms(100, 25.6e6, 0.0, 7.6e9, 1e12, 100e12, 0.5)
    assert t == pytest.approx(max(0.0256, 7.6) + 0.5)
    bmax = perf.fixed_max_batch_for_latency(2 * t, 25.6e6, 0.0, 7.6e9, 1e12, 100e12, 0.5)
    assert bmax == pytest.approx(100.0)
