"""Commented workload templates written by `inferchip workloads init`."""

from __future__ import annotations

_LLM = '''# inferchip workload profile (schema_version 1). Edit, then: inferchip compare THIS_FILE
schema_version = 1
name = "my-llm-service"
kind = "llm"                      # "llm" (token generation) or "fixed" (fixed work per query)
description = "What this service does"

[model]
preset = "llama-3.1-70b"          # fills the architecture from data/models.csv (llama-2-70b, llama-3.1-8b/70b/405b,
                                  # mixtral-8x7b, deepseek-r1/v3, gpt-j-6b, gpt-oss-120b/20b, qwen3-30b-a3b/235b-a22b)
# params_b = 70.0                 # total parameters, billions (overrides the preset)
# active_params_b = 70.0          # parameters used per token (MoE); default params_b
# layers = 80
# kv_heads = 8
# head_dim = 128
# experts = 128                   # MoE: routed experts per layer (0 or absent: dense)
# experts_per_token = 8           # MoE: experts each token uses
# attention = "gqa"               # "gqa" (standard/grouped-query) or "mla" (latent, DeepSeek; KV = latent width)
# attention_heads = 64            # query heads (needed for "mla")
# sliding_window_tokens = 128     # window of the sliding-window layers (their KV stops growing there)
# sliding_window_layers = 18      # how many layers use the window (gpt-oss: every other one)
precision = "fp8"                 # weights: fp16 | bf16 | fp8 | int8 | int4 | fp4
kv_precision = "fp8"              # KV cache; default fp16

[traffic]
queries_per_day = 100000          # or peak_queries_per_s = 2.3 (not both)
peak_to_average = 2.0             # peak load / average load, >= 1
input_tokens = 1000               # mean prompt tokens per query
output_tokens = 300               # mean generated tokens per query
# output_tokens_cv = 0.6          # spread of output tokens (std / mean); long tails raise KV and attention
# output_tokens_min = 300         # shortest output of any query, if known (fixed-length generation): smaller p99 tail

[slo]
ttft_ms = 2000                    # time to first token
tpot_ms = 50                      # time per output token (50 ms = 20 tokens/s per user)

[economics]                       # optional: any key of `inferchip assumptions`
# electricity_usd_per_kwh = 0.08
# pue = 1.3
'''

_FIXED = '''# inferchip workload profile (schema_version 1). Edit, then: inferchip compare THIS_FILE
schema_version = 1
name = "my-vision-service"
kind = "fixed"                    # fixed work per query (vision, scoring, speech)
description = "What this service does"

[model]
preset = "resnet50"               # fills gflops_per_query and weights from data/models.csv
# gflops_per_query = 7.6          # work per query, GFLOP (2 x multiply-adds)
# weights_mb = 25.6               # weights at the chosen precision, MB
# activation_mb_per_query = 0     # memory per in-flight query, MB
precision = "int8"

[traffic]
queries_per_day = 10000000        # or peak_queries_per_s (not both)
peak_to_average = 1.5

[slo]
latency_ms = 20                   # end-to-end latency per query

[economics]                       # optional: any key of `inferchip assumptions`
# electricity_usd_per_kwh = 0.08
'''


def template(kind: str) -> str:
    return _LLM if kind == "llm" else _FIXED
