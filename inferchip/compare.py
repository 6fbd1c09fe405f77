"""The pipeline: catalog x workload scenarios -> one tidy result frame.

It knows the order of the steps: precision, memory fit and parallel sizes,
operating point under the SLO, choice of parallel size, fleet, power, cost.
Every step is vectorized over (scenario x accelerator x candidate size);
scenarios let `sweep` and `uncertainty` evaluate many assumption sets at once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from inferchip import cost, dataflow, disagg, fleet, perf, power, purchase, server
from inferchip.assumptions import Assumptions
from inferchip.calibration import attach_factors
from inferchip.interconnect import attach_interconnect
from inferchip.units import (
    BYTES_PER_GB,
    BYTES_PER_MB,
    BYTES_PER_PRECISION,
    COMPUTE_COLUMN,
    DAYS_PER_YEAR,
    FLOPS_PER_GFLOP,
    HOURS_PER_YEAR,
    MS_PER_S,
    PARAMS_PER_BILLION,
    PRECISION_FALLBACK,
    RESULT_FIELDS,
    SECONDS_PER_DAY,
)
from inferchip.workload import Workload

DERIVED_PRICE = "unit price derived from the catalog (accelerator price x accelerators x (1 + host_price_fraction)); unit: "
# the rule purchase.unit_price_usd applies first: a share of the catalog's own server price
DERIVED_SHARE = "unit price derived from the catalog (server price x accelerators / devices_per_server); unit: "
CANDIDATE_SLOTS = 6  # parallel sizes tried per chip: base x 1, 2, 4, ... 32
# Optional model-architecture and traffic-shape quantities and their value when absent
# (a dense model with standard attention and every layer global; no output-length spread).
ARCHITECTURE_DEFAULTS = {"experts": 0.0, "experts_per_token": 0.0, "attention_heads": 0.0, "mla": 0.0,
                         "sliding_window_tokens": 0.0, "sliding_window_layers": 0.0, "output_tokens_cv": 0.0,
                         "output_tokens_min": 0.0, "beam_width": 1.0}
# Bisection steps of the MoE batch solve (weight reads depend on the batch; the bracket shrinks 2^16-fold: under one sequence below 65k).
BATCH_SOLVE_STEPS = 16

# Numeric workload quantities a scenario may vary.
WORKLOAD_NUMBERS = (
    "params_b", "active_params_b", "layers", "kv_elems_per_token_per_layer", "hidden",
    "input_tokens", "output_tokens", "ttft_ms", "tpot_ms", "gflops_per_query", "weights_mb",
    "activation_mb_per_query", "latency_ms", "queries_per_day", "peak_to_average",
    "experts", "experts_per_token", "mla", "attention_heads", "sliding_window_tokens", "sliding_window_layers",
    "output_tokens_cv", "output_tokens_min",
)


def scenario_frame(workload: Workload, assumptions: Assumptions, n: int = 1) -> pd.DataFrame:
    """`n` identical scenario rows: every numeric workload quantity and assumption as a column."""
    values: dict[str, object] = {k: getattr(workload, k) for k in WORKLOAD_NUMBERS}
    values.update(assumptions.values)
    return pd.DataFrame({k: [v] * n for k, v in values.items()})


def resolve_precision(chips: pd.DataFrame, requested: str) -> pd.DataFrame:
    """Per chip: the precision used (the requested one, else the first fallback the
    chip has a dense peak for), its peak [TFLOPS or TOPS] and a note when it differs."""
    used = np.full(len(chips), "", dtype=object)
    peak = np.full(len(chips), np.nan)
    for precision in PRECISION_FALLBACK[requested]:  # numpy, not Series.mask: sweeps call this per batch
        column = chips[COMPUTE_COLUMN[precision]].to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            take = (used == "") & ~np.isnan(column) & (column > 0)
        used = np.where(take, precision, used).astype(object)
        peak = np.where(take, column, peak)
    note = np.where(used == "", f"no dense {requested} peak or fallback in the catalog",
                    np.where(used != requested, "requested " + requested + ", chip lacks it: uses " + used, ""))
    return chips.assign(precision_used=pd.Series(used, index=chips.index, dtype=object),
                        peak_tflops=pd.Series(peak, index=chips.index), precision_note=note)


def prepare_chips(chips: pd.DataFrame, precision: str, resolved: bool = False) -> pd.DataFrame:
    """The chip frame as `evaluate(..., resolved=True)` reads it: precision resolved
    (resolve_precision; `resolved` says it already is), interconnect, purchase units and
    power profiles attached where missing. A run that evaluates the same chips many times
    (a sweep's chunks) prepares them once."""
    chips = chips.reset_index(drop=True) if resolved else resolve_precision(chips.reset_index(drop=True), precision)
    return attach_hardware(chips)


def attach_hardware(chips: pd.DataFrame) -> pd.DataFrame:
    """What prepare_chips adds that does not depend on the precision, where missing:
    interconnect, purchase units and power profiles (run_compare_many attaches them once
    for every workload of a call). `chips.attrs` (a --calibration file's name) is kept."""
    attrs = dict(chips.attrs)
    if "scaleup_gbps" not in chips:
        chips = attach_interconnect(chips)
    if purchase.slot_column("own", "size", 0) not in chips:
        chips = purchase.attach_units(chips)
    if "chip_busy_power_fraction" not in chips:
        chips = power.attach_profiles(chips)
    chips.attrs = attrs
    return chips


def _grid(chips: pd.DataFrame, scenarios: pd.DataFrame, paired: bool = False):
    """Index arrays of the (scenario, chip, candidate) cross product, in that order;
    `paired` (equal lengths) takes scenario i with chip i only: (pair, candidate)."""
    s, c, k = len(scenarios), len(chips), CANDIDATE_SLOTS
    if paired:
        pair_idx = np.repeat(np.arange(s), k)
        return pair_idx, pair_idx, np.tile(np.arange(k), s)
    s_idx = np.repeat(np.arange(s), c * k)
    c_idx = np.tile(np.repeat(np.arange(c), k), s)
    k_idx = np.tile(np.arange(k), s * c)
    return s_idx, c_idx, k_idx


def _col(frame: pd.DataFrame, name: str, idx: np.ndarray) -> np.ndarray:
    return frame[name].to_numpy()[idx]


def _optional(frame: pd.DataFrame, name: str, idx: np.ndarray, default: float) -> np.ndarray:
    """A numeric column that older frames may lack (interconnect, link efficiency)."""
    if name not in frame:
        return np.full(len(idx), default)
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)[idx]


def _scenario_text(frame: pd.DataFrame, name: str, idx: np.ndarray, default: str) -> np.ndarray:
    """A text scenario column (an assumption choice such as serving_mode), `default` where absent."""
    if name not in frame:
        return np.full(len(idx), default, dtype=object)
    return frame[name].fillna(default).astype(str).to_numpy(dtype=object)[idx]


def _scenario_optional(frame: pd.DataFrame, name: str, idx: np.ndarray, default: float) -> np.ndarray:
    """A numeric scenario column that frames built without it lack (architecture keys)."""
    if name not in frame:
        return np.full(len(idx), default)
    return np.nan_to_num(pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float), nan=default)[idx]


def _operating_points(kind: str, chips: pd.DataFrame, scenarios: pd.DataFrame,
                      kv_precision: str, trace: dict | None = None,
                      paired: bool = False) -> dict[str, np.ndarray]:
    """Performance of every (scenario, chip, candidate size): the batch the SLO and
    memory allow, latencies and per-replica throughput. Arrays of length S x C x K.
    `trace` (a dict, for `inferchip explain`) receives every intermediate array too."""
    if "scaleup_gbps" not in chips:
        chips = attach_interconnect(chips)
    s_idx, c_idx, k_idx = _grid(chips, scenarios, paired)
    S = lambda name: _col(scenarios, name, s_idx)  # noqa: E731
    C = lambda name: _col(chips, name, c_idx)  # noqa: E731
    bytes_w = chips["precision_used"].map(BYTES_PER_PRECISION).astype(float).to_numpy()[c_idx]
    capacity_gb = np.where(C("memory_gb") > 0, C("memory_gb"), np.nan_to_num(C("sram_mb")) * BYTES_PER_MB / BYTES_PER_GB)
    capacity_gb = np.where(capacity_gb > 0, capacity_gb, np.nan)
    usable = S("memory_usable_fraction")
    dps = server.devices_per_server(C("devices_per_server"))  # the one blank rule, as costing below
    mem_eff, comp_eff = C("memory_efficiency"), C("compute_efficiency")
    # power-limited clocks: a chip rated below the sustained power per peak FLOP cannot hold its peak
    comp_eff = comp_eff * perf.sustained_compute_fraction(_optional(chips, "tdp_w", c_idx, np.nan),
                                                          _optional(chips, "bf16_tflops", c_idx, np.nan))
    if kind == "llm":
        weight_bytes = perf.weights_bytes(S("params_b"), bytes_w)
    else:
        # weights_mb is stated at the workload's precision; rescale when the chip falls back
        requested_bytes = BYTES_PER_PRECISION[scenarios.attrs.get("precision", "int8")]
        weight_bytes = S("weights_mb") * BYTES_PER_MB * bytes_w / requested_bytes
    n_min = perf.min_chips_for_weights(weight_bytes, capacity_gb, usable)
    base = perf.candidate_base(n_min, dps)
    n = base * 2.0 ** k_idx
    bw = perf.effective_bandwidth_bps(n, C("memory_bw_tbps"), mem_eff)
    flops = perf.effective_flops(n, C("peak_tflops"), comp_eff)
    layers = S("layers") if kind == "llm" else np.ones_like(n)
    overhead = perf.step_overhead_ms(n, layers, C("step_overhead_ms"), C("comm_overhead_ms_per_layer"))
    max_batch = S("max_batch_size")
    out: dict[str, np.ndarray] = {"n": n, "weight_bytes": weight_bytes, "capacity_gb": capacity_gb,
                                  "compute_efficiency_sustained": comp_eff}
    if kind == "llm":
        inp, outp = S("input_tokens"), S("output_tokens")
        arch = {k: _scenario_optional(scenarios, k, s_idx, v) for k, v in ARCHITECTURE_DEFAULTS.items()}
        kv_elems = S("kv_elems_per_token_per_layer")
        # beam search: each query decodes `beams` sequences after one prefill; the batch counts sequences
        beams = np.maximum(arch["beam_width"], 1.0)
        kv_token = perf.kv_bytes_per_token(S("layers"), kv_elems, BYTES_PER_PRECISION[kv_precision])
        flops_token = 2.0 * S("active_params_b") * PARAMS_PER_BILLION
        attn_unit = perf.attention_flops_per_ctx_token(S("layers"), S("hidden"), arch["attention_heads"],
                                                       kv_elems, arch["mla"])
        ctx_decode = perf.mean_decode_context(inp, outp, arch["output_tokens_cv"])
        # sliding-window layers hold and attend over at most the window: per-layer share of the context
        window = lambda ctx: perf.windowed_layer_ctx(ctx, S("layers"), arch["sliding_window_tokens"],  # noqa: E731
                                                     arch["sliding_window_layers"]) / S("layers")
        ctx_decode_eff = window(ctx_decode)
        ctx_memory = window(np.maximum(inp + outp, ctx_decode))
        prefill_flops = flops_token * inp + attn_unit * window(inp / 2.0) * inp
        b_mem = perf.max_batch_for_memory(n, capacity_gb, usable, weight_bytes, kv_token * ctx_memory)
        expert_b = perf.expert_params_b(S("params_b"), S("active_params_b"), arch["experts"],
                                        arch["experts_per_token"])
        moe = arch["experts"] > 0
        comm_bytes = np.where(
            moe, perf.tp_comm_bytes_per_token(S("layers"), S("hidden"), n) / 2.0
            + perf.moe_dispatch_bytes_per_token(S("layers"), S("hidden"), arch["experts_per_token"], n, arch["experts"]),
            perf.tp_comm_bytes_per_token(S("layers"), S("hidden"), n))
        link_eff = _optional(chips, "link_efficiency", c_idx, np.nan)
        host_eff = _optional(chips, "host_link_efficiency", c_idx, np.nan)
        link_bps = perf.link_bandwidth_bps(n, _optional(chips, "scaleup_gbps", c_idx, np.nan),
                                           _optional(chips, "scaleup_domain", c_idx, 1.0),
                                           _optional(chips, "host_link_gbps", c_idx, np.nan), link_eff,
                                           np.where(np.isfinite(host_eff), host_eff, link_eff))
        comm_token = perf.comm_ms_per_token(comm_bytes, link_bps)
        # a chip with a known scale-up fabric but no known host link cannot be sized past its
        # domain: the link beyond it is unknown (chips with no link row at all stay unmodelled)
        domain = np.nan_to_num(_optional(chips, "scaleup_domain", c_idx, 1.0), nan=1.0)
        beyond_link = (np.isfinite(_optional(chips, "scaleup_gbps", c_idx, np.nan))
                       & ~np.isfinite(_optional(chips, "host_link_gbps", c_idx, np.nan)) & (n > domain))
        attn_eff = _optional(chips, "attention_efficiency", c_idx, np.nan)
        kv_bw = perf.effective_bandwidth_bps(n, C("memory_bw_tbps"), np.where(np.isfinite(attn_eff), attn_eff, mem_eff))
        # attention multiplies cached keys and values: it runs at the KV precision's peak (never the
        # narrower weight format's), or the weights' peak where the chip lists none for it
        kv_peak = _optional(chips, COMPUTE_COLUMN.get(kv_precision, ""), c_idx, np.nan)
        # MLA decode kernels multiply in bf16 whatever the cache format (an fp8 latent cache is
        # dequantized first): FlashMLA ships BF16/FP16 kernels and reaches 580-660 TFLOPS of the
        # H800's 989 bf16 peak when compute-bound (github.com/deepseek-ai/FlashMLA README)
        kv_peak = np.where(arch["mla"] > 0, np.fmin(kv_peak, _optional(chips, "bf16_tflops", c_idx, np.nan)), kv_peak)
        attn_flops = perf.effective_flops(n, np.where(np.isfinite(kv_peak) & (kv_peak > 0),
                                                      np.minimum(kv_peak, C("peak_tflops")), C("peak_tflops")), comp_eff)
        a, b, c, d, e = perf.llm_decode_coefficients(
            weight_bytes=weight_bytes, kv_bytes_token=kv_token, ctx_decode_tokens=ctx_decode_eff,
            flops_per_token=flops_token, attn_flops_per_token_decode=attn_unit * ctx_decode_eff,
            prefill_flops_per_query=prefill_flops, input_tokens=inp, output_tokens=outp * beams, bandwidth_bps=bw,
            flops_per_s=flops, comm_ms_token=comm_token, kv_bandwidth_bps=kv_bw, attn_flops_per_s=attn_flops)
        prefill_ms = perf.prefill_time_ms(prefill_flops, weight_bytes, flops, bw, overhead, comm_token * inp)
        budget = np.minimum(S("tpot_ms"), S("ttft_ms") - prefill_ms)
        b_slo = perf.max_batch_for_step_budget(budget, a, b, c, d, e, overhead)
        a_full = a
        a_at = lambda batch: a_full * perf.step_weight_bytes(  # noqa: E731
            1.0, S("params_b"), expert_b, perf.experts_read_fraction(batch, arch["experts"], arch["experts_per_token"]))
        spread = perf.bounded_tail_spread(np.nan_to_num(_optional(chips, "tail_spread", c_idx, 0.0), nan=0.0),
                                          outp, arch["output_tokens_min"])
        # p99 bound with a tail: in closed form for dense models; MoE reads depend on the batch,
        # so those rows are solved by bisection (where the budget is finite)
        tailed = np.isfinite(budget) & ~moe & (spread > 0)
        if tailed.any():
            b_slo = np.where(tailed, perf.max_batch_p99_affine(budget, a, b, c, d, e, overhead, spread), b_slo)
        solve = np.isfinite(budget) & moe
        if solve.any():
            rows = np.flatnonzero(solve)
            sub = lambda x: np.broadcast_to(x, solve.shape)[rows]  # noqa: E731
            a_sub = _weight_term(sub(a_full), sub(moe), sub(S("params_b")), sub(expert_b), sub(arch["experts"]),
                                 sub(arch["experts_per_token"]))
            high = perf.max_batch_for_step_budget(sub(budget), a_sub(1.0), sub(b), sub(c), sub(d), sub(e), sub(overhead))
            b_slo = np.array(np.broadcast_to(b_slo, solve.shape), dtype=float)
            b_slo[rows] = perf.max_batch_p99(sub(budget), a_sub, high, sub(b), sub(c), sub(d), sub(e),
                                             sub(overhead), sub(spread), BATCH_SOLVE_STEPS)
        batch = np.floor(np.minimum(np.minimum(b_slo, b_mem), max_batch))
        batch_ok = np.where(batch >= 1, batch, 1.0)
        a = a_at(batch_ok) if moe.any() else a_full
        tpot = perf.step_time_ms(batch_ok, a, b, c, d, e, overhead)
        tpot_p99 = tpot + perf.prefill_tail_ms(batch_ok, d, spread)
        tokens_per_s = batch_ok / tpot * 1000.0
        tpot_b1 = perf.step_time_ms(1.0, a_at(1.0) if moe.any() else a_full, b, c, d, e, overhead)
        pipe = dataflow.is_pipeline(chips)[c_idx]
        if pipe.any():  # dataflow chips: a layer pipeline instead of tensor parallelism (inferchip.dataflow)
            stages = S("layers") * np.ones_like(n)
            o_pipe = dataflow.pipeline_overhead_ms(stages, n, dps, _optional(chips, "pipeline_overhead_ms", c_idx, 0.0),
                                                   _optional(chips, "layer_latency_us", c_idx, 0.0),
                                                   _optional(chips, "server_hop_us", c_idx, 0.0))
            prefill_pipe = prefill_ms - overhead + o_pipe
            budget_pipe = np.minimum(S("tpot_ms"), S("ttft_ms") - prefill_pipe)
            p_slo, in_flight, p_tpot, p_tokens, p_tpot_b1 = dataflow.pipeline_operating_point(
                stages=stages, budget_ms=budget_pipe, b_mem=b_mem, max_batch=max_batch,
                a_ms=a, b_ms=b, c_ms=c, d_ms=d, e_ms=e, overhead_ms=o_pipe)
            in_flight = np.where(p_slo >= 1, in_flight, np.floor(np.minimum(p_slo, b_mem)))
            prefill_ms, budget, b_slo = (np.where(pipe, x, y) for x, y in
                                         ((prefill_pipe, prefill_ms), (budget_pipe, budget), (p_slo, b_slo)))
            batch, tpot, tokens_per_s, tpot_b1, overhead = (np.where(pipe, x, y) for x, y in (
                (in_flight, batch), (p_tpot, tpot), (p_tokens, tokens_per_s), (p_tpot_b1, tpot_b1), (o_pipe, overhead)))
            batch_ok = np.where(batch >= 1, batch, 1.0)
            if trace is not None:
                trace.update(pipeline=pipe, pipeline_stages=np.where(pipe, stages, np.nan))
        input_share = perf.prefill_time_share(batch_ok, a, b, c, d, e, overhead)
        tokens_per_s = tokens_per_s / beams  # the query's output tokens: one of its beams'
        ttft, latency = prefill_ms + tpot, prefill_ms + tpot * outp
        serving = np.full(n.shape, "aggregated", dtype=object)
        pool_share = np.zeros(n.shape)
        mode = _scenario_text(scenarios, "serving_mode", s_idx, "aggregated")
        consider = np.broadcast_to((mode != "aggregated") & ~pipe, n.shape)
        if consider.any():  # disaggregated prefill and decode pools (inferchip.disagg)
            rows = np.flatnonzero(consider)
            sub = lambda x: np.broadcast_to(x, n.shape)[rows]  # noqa: E731
            a_sub = lambda batch: sub(a_full) * perf.step_weight_bytes(  # noqa: E731
                1.0, sub(S("params_b")), sub(expert_b),
                perf.experts_read_fraction(batch, sub(arch["experts"]), sub(arch["experts_per_token"])))
            b_d = disagg.decode_batch(sub(S("tpot_ms")), a_sub, sub(b), sub(c), sub(comm_token), sub(overhead),
                                      sub(b_mem), sub(max_batch), BATCH_SOLVE_STEPS)
            b_d_ok = np.where(b_d >= 1, b_d, 1.0)
            tpot_d = perf.step_time_ms(b_d_ok, a_sub(b_d_ok), sub(b), sub(c), 0.0, sub(comm_token), sub(overhead))
            tokens_d = b_d_ok / tpot_d * MS_PER_S / sub(beams)
            prompt_ms = sub(prefill_flops) / sub(flops) * MS_PER_S + sub(comm_token * inp)
            qps_d = disagg.combined_qps(prompt_ms, sub(outp), tokens_d)
            ttft_d = sub(prefill_ms) + disagg.kv_transfer_ms(sub(kv_token), sub(inp), sub(link_bps)) + tpot_d
            feasible_d = (b_d >= 1) & (ttft_d <= sub(S("ttft_ms"))) & np.isfinite(qps_d) & (qps_d > 0)
            use = disagg.choose(sub(mode), feasible_d, qps_d, sub(tokens_per_s / outp), sub(batch >= 1))
            if use.any():
                at = rows[use]
                full = lambda x: np.array(np.broadcast_to(x, n.shape), dtype=float)  # noqa: E731
                batch, tpot, tokens_per_s, ttft, latency, input_share, b_slo = (
                    full(x) for x in (batch, tpot, tokens_per_s, ttft, latency, input_share, b_slo))
                batch[at], tpot[at], b_slo[at] = b_d[use], tpot_d[use], b_d[use]
                tokens_per_s[at] = qps_d[use] * sub(outp)[use]
                ttft[at] = ttft_d[use]
                latency[at] = ttft_d[use] + tpot_d[use] * (sub(outp)[use] - 1.0)
                pool_share[at] = disagg.prefill_pool_share(prompt_ms[use], qps_d[use])
                input_share[at] = pool_share[at]
                serving[at] = "disaggregated"
                batch_ok = np.where(batch >= 1, batch, 1.0)
        out.update(
            batch=batch, b_mem=b_mem, b_slo=b_slo, tpot_ms=tpot, ttft_ms=ttft,
            latency_ms=latency, tokens_per_s_replica=tokens_per_s,
            qps_replica=tokens_per_s / outp, kv_bytes=batch_ok * kv_token * ctx_memory,
            tpot_b1=tpot_b1, prefill_ms=prefill_ms, input_time_share=input_share,
            serving_mode=serving, prefill_pool_share=pool_share, beyond_link=beyond_link,
            scaleup_domain=np.broadcast_to(domain, n.shape),
        )
        if trace is not None:
            trace.update(kv_bytes_per_token=kv_token, flops_per_token=flops_token, attn_flops_per_token_per_ctx=attn_unit,
                         ctx_decode_tokens=ctx_decode_eff, prefill_flops=prefill_flops, a_ms=a, b_ms=b, c_ms=c, d_ms=d,
                         step_weight_share=a / np.where(a_full > 0, a_full, 1.0), expert_params_b=expert_b,
                         batch_bisected=np.broadcast_to(moe, n.shape), e_ms=e, comm_bytes_per_token=comm_bytes,
                         link_bandwidth_bps=link_bps, kv_bandwidth_bps=kv_bw,
                         comm_ms_per_token=comm_token, step_budget_ms=budget, tail_spread=spread,
                         tpot_p99_ms=tpot_p99)
    else:
        act = S("activation_mb_per_query") * BYTES_PER_MB
        work = S("gflops_per_query") * FLOPS_PER_GFLOP
        b_mem = perf.max_batch_for_memory(n, capacity_gb, usable, weight_bytes, act)
        b_slo = perf.fixed_max_batch_for_latency(S("latency_ms"), weight_bytes, act, work, bw, flops, overhead)
        batch = np.floor(np.minimum(np.minimum(b_slo, b_mem), max_batch))
        batch_ok = np.where(batch >= 1, batch, 1.0)
        t = perf.fixed_batch_time_ms(batch_ok, weight_bytes, act, work, bw, flops, overhead)
        qps = batch_ok / t * 1000.0
        out.update(
            batch=batch, b_mem=b_mem, b_slo=b_slo, tpot_ms=np.full_like(t, np.nan), ttft_ms=np.full_like(t, np.nan),
            latency_ms=2.0 * t, tokens_per_s_replica=np.full_like(t, np.nan), qps_replica=qps,
            kv_bytes=np.zeros_like(t), tpot_b1=2.0 * perf.fixed_batch_time_ms(1.0, weight_bytes, act, work, bw, flops, overhead),
            prefill_ms=np.zeros_like(t), input_time_share=np.full_like(t, np.nan),
            serving_mode=np.full(t.shape, "", dtype=object), prefill_pool_share=np.full_like(t, np.nan),
        )
        if trace is not None:
            trace.update(activation_bytes=act, flops_per_query=work, batch_time_ms=t)
    beyond = out.get("beyond_link", False)
    ok = (batch >= 1) & np.isfinite(out["qps_replica"]) & (out["qps_replica"] > 0) & ~np.asarray(beyond, dtype=bool)
    out["ok"] = ok
    out["fleet_accelerators"] = _fleet_accelerators(out, S)
    if trace is not None:
        trace.update(out, bytes_per_weight=bytes_w, n_min=n_min, n_base=base, bandwidth_bps=bw,
                     flops_per_s=flops, overhead_ms=overhead)
    return out


def _fleet_accelerators(pts: dict[str, np.ndarray], S) -> np.ndarray:
    """Accelerators each candidate's fleet runs at the peak [count] = replicas x n, inf
    where the candidate cannot serve; `S(name)` gives a scenario key per candidate."""
    peak_qps = fleet.peak_queries_per_s(S("queries_per_day"), S("peak_to_average"))
    replicas = fleet.replicas_needed(peak_qps, pts["qps_replica"], S("utilisation_target"))
    return np.where(pts["ok"], replicas * pts["n"], np.inf)


def _distinct_performance(scenarios: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(first row of each, row -> its index) over the scenario rows that differ in some
    key other than fleet.DEMAND_KEYS (read only by _fleet_accelerators): rows that differ
    only in traffic share their candidates."""
    values = (scenarios[c].to_numpy() for c in scenarios.columns if c not in fleet.DEMAND_KEYS)
    codes = [pd.factorize(v, use_na_sentinel=False)[0] for v in values
             if not (v[1:] == v[:-1]).all()]  # a column of one value (or of NaN only) adds nothing
    if not codes:
        return np.zeros(1, dtype=np.int64), np.zeros(len(scenarios), dtype=np.int64)
    return purchase.distinct_rows(codes)


def _shared_candidates(kind: str, chips: pd.DataFrame, scenarios: pd.DataFrame,
                       kv_precision: str) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """_operating_points (not paired) with each candidate computed once per distinct row of
    the keys that are not fleet.DEMAND_KEYS (a performance grid over traffic repeats few operating
    points under many demands). Returns those candidates, the candidate of every
    (scenario, chip, size) in them, and every candidate's fleet sized from its own row's
    traffic [accelerators]: element for element what _operating_points gives."""
    first, inverse = _distinct_performance(scenarios)
    unique = scenarios.iloc[first].reset_index(drop=True)
    unique.attrs = dict(scenarios.attrs)
    pts_u = _operating_points(kind, chips, unique, kv_precision)
    per_scenario = len(chips) * CANDIDATE_SLOTS
    take = (inverse[:, None] * per_scenario + np.arange(per_scenario)).reshape(-1)
    s_idx = np.repeat(np.arange(len(scenarios)), per_scenario)
    fleet_acc = _fleet_accelerators({k: pts_u[k][take] for k in ("ok", "n", "qps_replica")},
                                    lambda name: _col(scenarios, name, s_idx))
    return pts_u, take, fleet_acc


def _weight_term(a_full, moe, params_b, expert_b, experts, experts_per_token):
    """A(b) for the batch solve [ms]: the weight read of a step of b sequences, A x the share
    of the weights those b touch (perf.step_weight_bytes); a dense model's is A whatever b,
    so only the MoE rows compute it (the bisection calls this once per step)."""
    moe_rows = np.flatnonzero(moe)
    if not len(moe_rows):
        return lambda batch: a_full
    a_moe, params, expert = a_full[moe_rows], params_b[moe_rows], expert_b[moe_rows]
    e, k = experts[moe_rows], experts_per_token[moe_rows]

    def a_of(batch):
        out = np.array(a_full, dtype=float)
        at = np.broadcast_to(batch, a_full.shape)[moe_rows]
        out[moe_rows] = a_moe * perf.step_weight_bytes(1.0, params, expert, perf.experts_read_fraction(at, e, k))
        return out

    return a_of


def _choose(points: dict[str, np.ndarray], rows: int) -> np.ndarray:
    """Per (scenario, chip): the candidate with the fewest fleet accelerators (every
    cost term scales with accelerators or servers, so fewest is cheapest; ties go
    to the smaller size); when none is feasible, the one closest to feasible."""
    k = CANDIDATE_SLOTS
    fleet_acc = points["fleet_accelerators"].reshape(rows, k)
    any_ok = np.isfinite(fleet_acc).any(axis=1)
    closeness = np.nan_to_num(np.minimum(points["b_slo"], points["b_mem"]).reshape(rows, k), nan=-np.inf)
    pick = np.where(any_ok, np.argmin(fleet_acc, axis=1), np.argmax(closeness, axis=1))
    return np.arange(rows) * k + pick


class _Rows:
    """The columns of `frame` repeated by the row index `idx`, gathered on first use
    (a sweep touches a few dozen of the scenario and catalog columns, not all). With
    `constants`, a column holding one value everywhere becomes a read-only broadcast
    view instead of a copy (most columns of a sweep do not vary)."""

    def __init__(self, frame: pd.DataFrame, idx: np.ndarray, constants: bool = False) -> None:
        self._frame, self._idx, self._cache, self._constants = frame, idx, {}, constants

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._cache:
            values = self._frame[name].to_numpy()
            if self._constants and len(values) > 1 and (values == values[0]).all():
                self._cache[name] = np.broadcast_to(values[:1], self._idx.shape)
            else:
                self._cache[name] = values[self._idx]
        return self._cache[name]

    def get(self, name: str, default: object = None) -> object:
        return self[name] if name in self._frame.columns else default


def operating_points(kind: str, chips: pd.DataFrame, scenarios: pd.DataFrame, precision: str,
                     kv_precision: str = "fp16", *, paired: bool = False, resolved: bool = False,
                     measured: pd.DataFrame | None = None, trace: dict | None = None,
                     share_demand: bool = False) -> dict[str, np.ndarray]:
    """The chosen parallel size and its operating point for every (scenario, accelerator),
    scenario-major (arrays of length S x C): what `evaluate(points=...)` accepts, so a
    sweep whose varied keys leave performance alone computes it once and broadcasts it.
    `paired` (equal lengths) evaluates scenario i on chip row i only, for chip rows that
    differ per scenario (sampled efficiency factors); `resolved` says the chips already
    went through resolve_precision for this precision. `measured` applies measured
    throughput here (then evaluate does not repeat it): the points gain
    `throughput_source` and `throughput_reference`. `trace` (see evaluate) receives the
    intermediate quantities of the chosen candidates. `share_demand` (a sweep's batches)
    computes the candidates once per distinct row of the keys other than fleet.DEMAND_KEYS."""
    chips = chips.reset_index(drop=True) if resolved else resolve_precision(chips.reset_index(drop=True), precision)
    scenarios = scenarios.reset_index(drop=True)
    scenarios.attrs["precision"] = precision
    rows = len(scenarios) if paired else len(scenarios) * len(chips)
    if share_demand and not paired and trace is None and len(scenarios) > 1:
        pts_u, take, fleet_acc = _shared_candidates(kind, chips, scenarios, kv_precision)
        pick = _choose({"fleet_accelerators": fleet_acc, "b_slo": pts_u["b_slo"][take],
                        "b_mem": pts_u["b_mem"][take]}, rows)
        pts = {k: v[take[pick]] for k, v in pts_u.items()}
        pts["fleet_accelerators"] = fleet_acc[pick]
    else:
        pts_all = _operating_points(kind, chips, scenarios, kv_precision, trace, paired=paired)
        pick = _choose(pts_all, rows)
        if trace is not None:
            trace.update({k: np.broadcast_to(v, pts_all["n"].shape)[pick] for k, v in trace.items()})
        pts = {k: v[pick] for k, v in pts_all.items()}
    if measured is not None:
        idx = np.arange(rows)
        s_idx, c_idx = (idx, idx) if paired else (idx // len(chips), idx % len(chips))
        pts, source, reference = _prefer_measured(kind, pts, measured, _Rows(chips, c_idx),
                                                  _Rows(scenarios, s_idx, constants=True))
        pts.update(throughput_source=source, throughput_reference=reference)
    return pts


def _fmt_1dp(values: np.ndarray, spec: str = ",.1f") -> np.ndarray:
    """'1,234.5' for each value ('-' when not finite), formatting each distinct value once;
    `spec` another format spec (',.0f': whole numbers)."""
    uniques, inverse = np.unique(np.asarray(values, dtype=float), return_inverse=True)
    text = np.array([format(v, spec) if np.isfinite(v) else "-" for v in uniques.tolist()], dtype=object)
    return text[inverse.reshape(-1)]


def _reasons(kind: str, chips_rep: _Rows, pts: dict[str, np.ndarray], scen: _Rows,
             no_price: np.ndarray, no_power: np.ndarray) -> np.ndarray:
    """A one-line reason per row where the chip cannot serve the workload, else ''.
    The first condition that holds names the reason; numbers are formatted only for
    the rows that carry them."""
    slo_name, slo_value = ("TPOT", scen["tpot_ms"]) if kind == "llm" else ("latency", scen["latency_ms"])
    conditions = [
        chips_rep["precision_used"] == "",
        ~np.isfinite(pts["capacity_gb"]),
        ~np.isfinite(chips_rep["memory_bw_tbps"].astype(float)),
        pts["b_mem"] < 1,
        np.asarray(pts.get("beyond_link", False), dtype=bool),
        (kind == "llm") & (pts["prefill_ms"] >= scen.get("ttft_ms", np.inf)),
        pts["b_slo"] < 1,
        no_price,
        no_power,
    ]
    rows = len(pts["n"])
    code = np.select([np.broadcast_to(c, (rows,)) for c in conditions], np.arange(1, len(conditions) + 1), 0)
    out = np.full(rows, "", dtype=object)
    at = lambda arr, m: np.broadcast_to(arr, (rows,))[m]  # noqa: E731
    m = code == 1
    out[m] = at(chips_rep["precision_note"], m)
    out[code == 2] = "no memory capacity in the catalog (memory_gb / sram_mb)"
    out[code == 3] = "no memory bandwidth in the catalog (memory_bw_tbps)"
    m = code == 4
    if m.any():
        out[m] = ("model does not fit: weights " + _fmt_1dp(at(pts["weight_bytes"], m) / BYTES_PER_GB) + " GB, usable memory "
                  + _fmt_1dp(at(pts["n"] * pts["capacity_gb"], m)) + " GB at the largest size tried")
    m = code == 5
    if m.any():
        out[m] = ("a replica needs " + _fmt_1dp(at(pts["n"], m), ",.0f") + " chips, more than the scale-up domain of "
                  + _fmt_1dp(at(pts["scaleup_domain"], m), ",.0f") + ", and no host link is known "
                  "(data/interconnect.csv host_link_gbps)")
    m = code == 6
    if m.any():
        out[m] = "TTFT SLO missed: prefill alone takes " + _fmt_1dp(at(pts["prefill_ms"], m)) + " ms"
    m = code == 7
    if m.any():
        out[m] = (slo_name + " SLO missed: " + _fmt_1dp(at(pts["tpot_b1"], m)) + " ms at batch 1 > "
                  + _fmt_1dp(at(slo_value, m)) + " ms")
    out[code == 8] = ("no public price: no purchase price (server_price_usd, accelerator_price_usd) and no on-demand"
                      " cloud price (data/cloud_prices.csv, --cloud-provider); add a quote with --extend-catalog")
    out[code == 9] = ("no server power in the catalog (server_power_kw or tdp_w), "
                      "so energy and facility cost are unknown")
    return out


def evaluate(kind: str, chips: pd.DataFrame, scenarios: pd.DataFrame, precision: str,
             kv_precision: str = "fp16", trace: dict | None = None, *,
             points: dict[str, np.ndarray] | None = None, columns: list[str] | None = None,
             measured: pd.DataFrame | None = None,
             chip_values: dict[str, np.ndarray] | None = None, basis: str = "auto",
             resolved: bool = False) -> pd.DataFrame:
    """One row per (scenario, accelerator) with every result field. `basis`: auto (own
    where the chip has a purchase price, else rent), own or rent (that basis only). `chips` must
    carry efficiency factors (calibration.attach_factors). `trace` (a dict, for
    `inferchip explain`) receives every intermediate quantity of the chosen candidate,
    one array element per result row. `points` (from `operating_points` on these
    scenarios) skips the performance step; `columns` builds only those result columns
    (the one-line reasons are formatted only when `infeasible_reason` is among them).
    `measured` (measured.candidates for the workload) replaces the modeled throughput
    wherever a benchmark row stands for the (chip, workload): measured beats modeled.
    `chip_values` replaces catalog numbers per result row (arrays of length scenarios x
    chips, scenario-major): `uncertainty` draws estimated prices and power per sample.
    `resolved` says `chips` came from prepare_chips for this precision (not redone)."""
    chips = prepare_chips(chips, precision, resolved)
    scenarios = scenarios.reset_index(drop=True)
    scenarios.attrs["precision"] = precision
    n_s, n_c = len(scenarios), len(chips)
    pts = points if points is not None else operating_points(
        kind, chips, scenarios, precision, kv_precision, resolved=True, trace=trace)
    s_idx = np.repeat(np.arange(n_s), n_c)
    c_idx = np.tile(np.arange(n_c), n_s)
    sc = _Rows(scenarios, s_idx, constants=True)
    ch = _Rows(chips, c_idx)
    ch._cache.update(chip_values or {})
    C = lambda name: ch[name].astype(float)  # noqa: E731
    if "throughput_source" in pts:  # operating_points(measured=...) already applied measured throughput
        pts = dict(pts)
        throughput_source, throughput_reference = pts.pop("throughput_source"), pts.pop("throughput_reference")
    else:
        pts, throughput_source, throughput_reference = _prefer_measured(kind, pts, measured, ch, sc)

    pipe = dataflow.is_pipeline(chips)[c_idx]
    if pipe.any():  # label what anchors a dataflow row's modeled speed: the vendor's published claims
        anchored = pipe & (throughput_source == "modeled")
        claims = np.full(len(anchored), "", dtype=object)  # looked up for the anchored rows only
        claims[anchored] = dataflow.vendor_reference(np.asarray(ch["name"], dtype=object)[anchored], None)
        throughput_reference = np.where(anchored, "dataflow pipeline model (inferchip.dataflow), factors anchored on "
                                        + claims, throughput_reference)
    n = pts["n"]
    ok = pts["ok"]
    qps_replica = pts["qps_replica"]
    peak_qps = fleet.peak_queries_per_s(sc["queries_per_day"], sc["peak_to_average"])
    avg_qps = sc["queries_per_day"] / SECONDS_PER_DAY
    replicas = fleet.replicas_needed(peak_qps, qps_replica, sc["utilisation_target"])
    accelerators = replicas * n
    dps = server.devices_per_server(C("devices_per_server"))
    server_kw = server.server_power_kw(C("server_power_kw"), dps, C("tdp_w"), sc["host_power_fraction"])
    budget = np.where(ch["cooling"] == "liquid", sc["rack_power_budget_liquid_kw"],
                      sc["rack_power_budget_air_kw"])
    per_rack = fleet.servers_per_rack(server_kw, C("server_rack_units"), budget, sc["rack_units_usable"])

    # What is bought (or rented): the cheapest mix of purchasable units holding the replicas.
    scen_cols = set(scenarios.columns)
    get = lambda name: sc[name] if name in scen_cols else ch[name]  # noqa: E731
    own_cost = lambda size, price, kw: cost.annual_unit_cost_usd(  # noqa: E731
        size, price, kw, *(np.asarray(sc[k]).reshape(-1, 1) for k in cost.UNIT_COST_KEYS))
    rent_cost = lambda size, price, kw: size * (  # noqa: E731
        C("cloud_usd_per_hour")[:, None] * HOURS_PER_YEAR + np.asarray(sc["software_usd_per_accelerator_year"]).reshape(-1, 1))
    own_plan = purchase.plan("own", get, replicas, n, own_cost)
    rent_plan = purchase.plan("rent", get, replicas, n, rent_cost)
    rent_only = ch["rent_only"].astype(bool)
    cloud = C("cloud_usd_per_hour")
    owned = ~rent_only & np.isfinite(own_plan["count_u"]) & (basis in ("auto", "own"))
    rented = ~owned & np.isfinite(cloud) & np.isfinite(rent_plan["count_u"]) & (basis in ("auto", "rent"))
    bought = {k: np.where(owned, own_plan[k], rent_plan[k]) for k in own_plan}
    no_price = ~owned & ~rented
    # A unit smaller than the catalog server with no height of its own (a cloud slice of a
    # server or rack system) sits in whole catalog servers: its accelerators pack at the catalog
    # server's density, and the hardware around it draws the catalog server's kW.
    acc_rack_server = per_rack * dps
    slice_u = (bought["size_u"] < dps) & ~np.isfinite(bought["rack_units_u"])
    slice_v = (bought["size_v"] < dps) & ~np.isfinite(bought["rack_units_v"])
    unit_racks_u = np.where(slice_u, acc_rack_server / bought["size_u"], fleet.servers_per_rack(
        bought["power_u"], bought["rack_units_u"], budget, sc["rack_units_usable"]))
    unit_racks_v = np.where(slice_v, acc_rack_server / bought["size_v"], fleet.servers_per_rack(
        bought["power_v"], bought["rack_units_v"], budget, sc["rack_units_usable"]))
    max_unit_kw = np.fmax(np.where(slice_u, server_kw, bought["power_u"]),
                          np.where(bought["has_v"], np.where(slice_v, server_kw, bought["power_v"]), np.nan))
    servers = bought["units"]
    accelerators_bought = bought["accelerators_bought"]
    # each unit fills 1 / (units per rack) of a rack; two unit types share racks
    rack_share = bought["count_u"] / unit_racks_u + np.where(bought["has_v"], bought["count_v"] / unit_racks_v, 0.0)
    racks = np.maximum(np.ceil(rack_share * (1.0 - 1e-12)), 1.0)  # no float dust adds a rack; one unit needs one
    provisioned_kw = purchase.total(bought, bought["power_u"], bought["power_v"])
    no_power = owned & ~np.isfinite(provisioned_kw)
    # dedicated: the workload pays for all it buys; shared: for the accelerators it uses
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(sc["allocation"] == "shared", accelerators / accelerators_bought, 1.0)
        capacity_qps = accelerators_bought / n * qps_replica  # what the bought accelerators can serve
        load = np.clip(avg_qps / capacity_qps, 0.0, 1.0)
    # Power follows load: idle + (busy - idle) x load; a shared fleet's idle share belongs to the others.
    busy_f = power.fraction(C("chip_busy_power_fraction"), sc["busy_power_fraction"])
    idle_f = np.minimum(power.fraction(C("chip_idle_power_fraction"), sc["idle_power_fraction"]), busy_f)
    idle_kw = power.power_kw(provisioned_kw, idle_f, busy_f, 0.0)
    avg_kw = idle_kw * share + (power.power_kw(provisioned_kw, idle_f, busy_f, load) - idle_kw)

    price = bought["price_u"]
    purchase_price = purchase.total(bought, bought["price_u"], bought["price_v"])
    software = accelerators_bought * sc["software_usd_per_accelerator_year"]
    rent = cost.annual_rent_usd(accelerators_bought, cloud)
    money = cost.fleet_costs(sc, purchase_price, avg_kw, provisioned_kw, servers, software, rent, owned, rented, share)
    capex, annual_capex, energy, facility = (money[k] for k in ("capex", "annual_capex", "energy", "facility"))
    maintenance, staff, annual_opex, tco = (money[k] for k in ("maintenance", "staff", "annual_opex", "tco"))
    unit_derived = bought["derived_u"].astype(bool) | (bought["has_v"] & bought["derived_v"].astype(bool))
    unit_estimate = (unit_derived | (bought["estimate_u"] == True)  # noqa: E712
                     | (bought["has_v"] & (bought["estimate_v"] == True)))  # noqa: E712

    annual_queries = sc["queries_per_day"] * DAYS_PER_YEAR
    out_tokens = sc["output_tokens"] if kind == "llm" else np.full(len(n), np.nan)
    in_tokens = sc["input_tokens"] if kind == "llm" else np.full(len(n), np.nan)
    feasible = ok & ~no_price & ~no_power
    want_reasons = columns is None or "infeasible_reason" in columns
    wanted = lambda name: columns is None or name in columns  # noqa: E731  (text per row is dear in a sweep)
    reasons = _reasons(kind, ch, pts, sc, no_price, no_power) if want_reasons else ""
    nan_unless = lambda arr, cond: np.where(cond, arr, np.nan)  # noqa: E731
    per_query = nan_unless(tco / annual_queries, feasible)
    # Density of what is bought: a full rack of this fleet's unit mix holds 1 / rack_share of it
    # (the catalog server stands in only where no purchase unit could be sized)
    bought_ok = np.isfinite(rack_share) & (rack_share > 0) & np.isfinite(servers) & (servers > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        racks_of_fleet = np.where(bought_ok, rack_share, np.nan)
        unit_kw = np.where(bought_ok & np.isfinite(provisioned_kw), provisioned_kw / servers, server_kw)
        per_rack = np.where(bought_ok, servers / racks_of_fleet, per_rack)
        acc_per_rack = np.where(bought_ok, accelerators_bought / racks_of_fleet, acc_rack_server)
        kw_per_rack = np.where(bought_ok, provisioned_kw / racks_of_fleet, per_rack * server_kw)

    data = {
        "accelerator": ch["name"], "vendor": ch["vendor"], "kind": ch["kind"],
        "price_basis": np.where(owned, "owned", np.where(rented, "rented", "unpriced")),
        "option": ch["name"],
        "provider": np.where(rented, ch.get("cloud_provider", ""), "").astype(object),
        "feasible": feasible, "infeasible_reason": np.where(feasible, "", reasons),
        "throughput_source": throughput_source, "throughput_reference": throughput_reference,
        "precision_used": ch["precision_used"], "precision_note": ch["precision_note"],
        "chips_per_replica": n, "batch_size": np.where(ok, pts["batch"], np.nan),
        "replicas": nan_unless(replicas, ok), "accelerators": nan_unless(accelerators, ok),
        "servers": nan_unless(servers, ok), "racks": nan_unless(racks, ok),
        "purchase": np.where(ok & ~no_price, purchase.describe(bought["count_u"], bought["name_u"], bought["count_v"],
                                                                bought["name_v"]), "") if wanted("purchase") else None,
        "purchase_units": nan_unless(servers, ok & ~no_price),
        "accelerators_bought": nan_unless(accelerators_bought, ok & ~no_price),
        "accelerators_used": nan_unless(accelerators, ok),
        "stranded_accelerators": nan_unless(accelerators_bought - accelerators, ok & ~no_price),
        "utilisation": nan_unless(avg_qps / capacity_qps, ok & ~no_price),
        "peak_utilisation": nan_unless(peak_qps / capacity_qps, ok & ~no_price),
        "allocation": np.broadcast_to(sc["allocation"], n.shape).astype(object),
        "cost_share": nan_unless(share, feasible),
        "ttft_ms": nan_unless(pts["ttft_ms"], ok), "tpot_ms": nan_unless(pts["tpot_ms"], ok),
        "latency_ms": nan_unless(pts["latency_ms"], ok), "meets_slo": ok,
        "tokens_per_s_per_accelerator": nan_unless(pts["tokens_per_s_replica"] / n, ok),
        "queries_per_s_per_accelerator": nan_unless(qps_replica / n, ok),
        "capex_usd": nan_unless(capex, feasible), "annual_capex_usd": nan_unless(annual_capex, feasible),
        "annual_energy_usd": nan_unless(energy, feasible), "annual_facility_usd": nan_unless(facility, feasible),
        "annual_opex_usd": nan_unless(annual_opex, feasible), "annual_tco_usd": nan_unless(tco, feasible),
        "cost_per_query_usd": per_query,
        **cost.per_query_fields(per_query, pts["input_time_share"], in_tokens, out_tokens),
        "input_time_share": nan_unless(pts["input_time_share"], ok),
        "serving_mode": np.where(ok, pts.get("serving_mode", ""), "").astype(object),
        "prefill_pool_share": nan_unless(pts.get("prefill_pool_share", np.nan), ok & (kind == "llm")),
        "cloud_cost_per_query_usd": nan_unless(
            cost.annual_rent_usd(rent_plan["accelerators_bought"], cloud) / annual_queries, ok),
        "avg_power_kw": nan_unless(avg_kw, ok),
        **{k: nan_unless(v, ok) for k, v in power.energy_fields(
            avg_kw, provisioned_kw, accelerators_bought, idle_f, busy_f, n, qps_replica, sc["pue"],
            sc["queries_per_day"]).items()},
        "busy_power_fraction": nan_unless(busy_f, ok), "idle_power_fraction": nan_unless(idle_f, ok),
        "kw_per_rack": nan_unless(kw_per_rack, ok),
        "max_unit_kw": nan_unless(np.where(bought_ok, max_unit_kw, server_kw), ok),
        "accelerators_per_rack": nan_unless(acc_per_rack, ok),
        "queries_per_s_per_rack": nan_unless(acc_per_rack / n * qps_replica, ok),
        "weights_gb": pts["weight_bytes"] / BYTES_PER_GB,
        "kv_cache_gb_per_replica": nan_unless(pts["kv_bytes"] / BYTES_PER_GB, ok),
        # audit columns (not in the default table)
        "scenario": s_idx, "server_price_usd": np.where(owned, price, np.nan), "server_power_kw": unit_kw,
        "servers_per_rack": per_rack, "cloud_usd_per_hour": cloud,
        "cloud_provider": np.where(rented, ch.get("cloud_provider", ""), ""),
        "cost_per_accelerator_hour_usd": nan_unless(cost.per_accelerator_hour_usd(tco, accelerators), feasible),
        "calibration_source": (np.where(ch.get("factor_source", "") != "", ch["calibration_source"]
                                        + "; the row's own pipeline factors: "
                                        + np.asarray(ch.get("factor_source", ""), dtype=object),
                                        ch["calibration_source"]) if wanted("calibration_source") else None),
        "price_is_estimate": (owned & (ch["price_is_estimate"].astype(bool) | unit_estimate))
        | (rented & np.asarray(ch.get("cloud_is_estimate", False), dtype=bool)),
        "purchase_source": (np.where(ok & ~no_price, np.where(owned & unit_derived, np.where(
            np.isfinite(np.asarray(get("server_price_usd"), dtype=float)), DERIVED_SHARE, DERIVED_PRICE), "")
                                     + bought["source_u"].astype(str), "").astype(object)
                            if wanted("purchase_source") else None),
        "price_source": np.where(owned, ch["price_source"], np.where(rented, ch["cloud_source"], "")),
        "price_as_of": np.where(owned, ch["price_as_of"], np.where(rented, ch["cloud_as_of"], "")),
    }
    result = pd.DataFrame(data if columns is None else {k: data[k] for k in columns})
    if trace is not None:
        trace.update(peak_qps=peak_qps, server_kw=server_kw, rack_budget_kw=budget, provisioned_kw=provisioned_kw,
                     avg_kw=avg_kw, idle_kw=idle_kw, load=load, busy_fraction=busy_f, idle_fraction=idle_f,
                     share=share, price=price, purchase_price=purchase_price, owned=owned, rented=rented, capex=capex, annual_capex=annual_capex,
                     energy=energy, facility=facility, maintenance=maintenance, software=software, staff=staff,
                     rent=rent, annual_opex=annual_opex, tco=tco, annual_queries=annual_queries,
                     units_bought=servers, accelerators_bought=accelerators_bought,
                     **{"own_" + k: own_plan[k] for k in ("index_u", "count_u", "index_v", "count_v")})
    return result


def _match_distinct(kind: str, measured: pd.DataFrame, names: np.ndarray, precisions: np.ndarray,
                    scen: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """measured.match on the distinct (chip, precision, workload shape and SLO) rows only,
    spread back to every row: a sweep repeats a few shapes over many grid points, and the
    match builds a (rows x benchmark rows) matrix of string and float comparisons."""
    from inferchip import measured as measured_mod

    names, precisions = np.asarray(names, dtype=object), np.asarray(precisions, dtype=object)
    key = np.zeros(len(names), dtype=np.int64)
    for column in (names, precisions, *scen.values()):
        codes, uniques = pd.factorize(column)
        key = pd.factorize(key * (len(uniques) + 1) + codes + 1)[0]
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    value, index = measured_mod.match(kind, measured, names[first], precisions[first],
                                      {k: np.asarray(v)[first] for k, v in scen.items()})
    return value[inverse.reshape(-1)], index[inverse.reshape(-1)]


def _prefer_measured(kind: str, pts: dict[str, np.ndarray], measured: pd.DataFrame | None, ch: _Rows,
                     sc: _Rows) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Measured beats modeled (rule in inferchip.measured): where a benchmark row matches,
    the replica rate becomes measured per-accelerator throughput x chips per replica
    [tokens/s, and queries/s = tokens/s / output tokens; samples/s for fixed work], and
    the operating point counts as meeting the SLO (the run met a bound at least as
    tight). Where the model predicts more than the best rate ever measured for the same
    chip, model, precision and shape under any bound, that measurement is the ceiling
    and is used the same way. The modeled parallel size stays (it must hold the weights: b_mem >= 1);
    where the model itself missed the SLO its batch and latencies are not shown.
    Returns the points, throughput_source ('measured' | 'modeled') and the benchmark used."""
    count = len(pts["n"])
    modeled = np.full(count, "modeled", dtype=object)
    if measured is None or len(measured) == 0:
        return pts, modeled, np.full(count, "", dtype=object)
    from inferchip import measured as measured_mod

    keys = ("input_tokens", "output_tokens", "ttft_ms", "tpot_ms") if kind == "llm" else ("gflops_per_query", "latency_ms")
    if "_preset_code" in measured and sc.get("_preset_code") is not None:  # several presets in one pass
        keys += ("_preset_code",)
    scen = {k: np.broadcast_to(sc[k], (count,)).astype(float) for k in keys}
    value, index = _match_distinct(kind, measured, ch["name"], ch["precision_used"], scen)
    use = np.isfinite(value) & (pts["b_mem"] >= 1)
    n = pts["n"]
    # Ceiling: no SLO-bound rate can beat the best rate ever measured for this chip,
    # model, precision and shape (usually Offline, unbounded). Where the model claims
    # more, the fleet is sized on that measurement instead.
    unbounded = {k: (np.full(count, np.inf) if k in ("ttft_ms", "tpot_ms", "latency_ms") else v)
                 for k, v in scen.items()}
    ceiling, ceiling_index = _match_distinct(kind, measured, ch["name"], ch["precision_used"], unbounded)
    modeled_per_chip = (pts["tokens_per_s_replica"] if kind == "llm" else pts["qps_replica"]) / n
    capped = ~use & pts["ok"] & np.isfinite(ceiling) & (modeled_per_chip > ceiling)
    value = np.where(capped, ceiling, value)
    index = np.where(capped, ceiling_index, index)
    use = use | capped
    if kind == "llm":
        tokens = np.where(use, value * n, pts["tokens_per_s_replica"])
        qps = np.where(use, tokens / scen["output_tokens"], pts["qps_replica"])
    else:
        tokens = pts["tokens_per_s_replica"]
        qps = np.where(use, value * n, pts["qps_replica"])
    hide = use & ~pts["ok"]
    out = {**pts, "tokens_per_s_replica": tokens, "qps_replica": qps, "ok": pts["ok"] | use,
           **{k: np.where(hide, np.nan, pts[k]) for k in ("batch", "ttft_ms", "tpot_ms", "latency_ms")}}
    if kind == "llm" and "serving_mode" in pts:  # a measured row is an aggregated submission
        out["serving_mode"] = np.where(use, "aggregated", pts["serving_mode"]).astype(object)
        out["prefill_pool_share"] = np.where(use, 0.0, pts["prefill_pool_share"])
    source = np.where(use, "measured", modeled).astype(object)
    reference = measured_mod.reference_text(measured, np.where(use, index, -1))
    reference = np.where(capped, "ceiling (the model predicted more than measured): " + reference, reference)
    return out, source, reference.astype(object)


def rank(results: pd.DataFrame, sort: str = "cost_per_query_usd", top: int | None = None) -> pd.DataFrame:
    """Feasible rows first, ordered by `sort` (best first for that metric), then by the row
    key (`option`, else the accelerator); infeasible rows last by key. Deterministic whatever
    the catalog's row order."""
    higher = RESULT_FIELDS[sort].higher_is_better if sort in RESULT_FIELDS else False
    key = results[sort]
    from inferchip.basis import key as row_key

    if isinstance(key.dtype, np.dtype) and key.dtype.kind in "fi":  # numbers: one numpy sort, no helper columns
        values = key.to_numpy(dtype=float)
        # stable; the last key sorts first; NaN after every number (na_position="last" below)
        order = np.lexsort((np.array(row_key(results).tolist(), dtype=str), -values if higher else values,
                            ~results["feasible"].to_numpy(dtype=bool)))
        frame = results.take(order).reset_index(drop=True)
        return frame.head(top) if top else frame
    if key.dtype == object:
        order_key = key.astype(str)
    else:
        order_key = -key if higher else key
    frame = results.assign(_infeasible=~results["feasible"].astype(bool), _key=order_key, _name=row_key(results))
    frame = frame.sort_values(["_infeasible", "_key", "_name"], na_position="last", kind="mergesort")
    frame = frame.drop(columns=["_infeasible", "_key", "_name"]).reset_index(drop=True)
    return frame.head(top) if top else frame


def run_compare(workload: Workload, assumptions: Assumptions, chips: pd.DataFrame,
                sort: str = "cost_per_query_usd", top: int | None = None,
                bases: tuple[str, ...] = ("auto",), api_prices: pd.DataFrame | None = None) -> pd.DataFrame:
    """The main job: rank every way of serving one workload under one assumption set;
    a measured benchmark of the same work replaces the model where one matches.
    `bases` (inferchip.basis): best (the cheaper of own and rent per chip), auto (own, else
    rent: one row per chip), own, rent, commit, api. With explicit bases a chip gets one row per basis it has a price for (a chip
    priced on none keeps one row saying why); api adds a row per comparable API."""
    return run_compare_many([(workload, assumptions)], chips, sort, top, bases, api_prices)[0]


def run_compare_many(cases: list[tuple[Workload, Assumptions]], chips: pd.DataFrame,
                     sort: str = "cost_per_query_usd", top: int | None = None,
                     bases: tuple[str, ...] = ("auto",), api_prices: pd.DataFrame | None = None) -> list[pd.DataFrame]:
    """run_compare for each (workload, assumptions) on the same chips, in order. Workloads
    that share what the pipeline fixes per call (class, precisions, the scenario columns'
    types, the commitment discount) are evaluated together, one scenario row each, as
    `sweep` evaluates grid points; each then gets its own rows, ranking and API rows,
    exactly as run_compare alone gives them. Workloads of different model presets share a
    pass too: each measured benchmark row stands only for its own preset's scenario rows
    (a `_preset_code` on both sides, measured.match)."""
    from inferchip.measured import candidates

    groups: dict[tuple, list[int]] = {}
    chips = attach_hardware(chips.reset_index(drop=True))  # once, not per group and basis
    scenario_rows = [scenario_frame(w, a) for w, a in cases]
    for i, ((w, a), scen) in enumerate(zip(cases, scenario_rows, strict=True)):
        discount = float(a["committed_use_discount"]) if "commit" in bases else None
        shape = tuple(zip(scen.columns, map(str, scen.dtypes), strict=True))
        groups.setdefault((w.kind, w.precision, w.kv_precision, discount, shape), []).append(i)
    factored: dict[str, pd.DataFrame] = {}
    out: list[pd.DataFrame | None] = [None] * len(cases)
    for (kind, precision, kv_precision, discount, _), members in groups.items():
        if kind not in factored:
            factored[kind] = attach_factors(chips, workload_kind=kind)
        ready = factored[kind]
        presets = list(dict.fromkeys(cases[i][0].preset or "" for i in members))
        if len(presets) == 1:
            scenarios = (scenario_rows[members[0]] if len(members) == 1
                         else pd.concat([scenario_rows[i] for i in members], ignore_index=True))
            measured = candidates(presets[0] or None, precision)
        else:  # each preset's benchmark rows, coded to match only that preset's scenario rows
            code = {preset: float(position) for position, preset in enumerate(presets)}
            scenarios = pd.concat([scenario_rows[i].assign(_preset_code=code[cases[i][0].preset or ""])
                                   for i in members], ignore_index=True)
            measured = pd.concat([candidates(preset or None, precision).assign(_preset_code=code[preset])
                                  for preset in presets], ignore_index=True)
        per_basis = _evaluate_bases(kind, ready, scenarios, precision, kv_precision, measured, bases, discount)
        for position, i in enumerate(members):
            frames = [(frame if len(members) == 1 else frame[frame["scenario"].to_numpy() == position])
                      .drop(columns=["scenario"]) for frame in per_basis]
            out[i] = _ranked(frames, cases[i][0], ready, sort, top, bases, api_prices)
    return out


def _evaluate_bases(kind: str, chips: pd.DataFrame, scenarios: pd.DataFrame, precision: str, kv_precision: str,
                    measured: pd.DataFrame, bases: tuple[str, ...], discount: float | None) -> list[pd.DataFrame]:
    """One frame per hardware basis (api aside) over every scenario row, with `scenario`
    and, for explicit bases, `option`."""
    from inferchip import basis as basis_mod

    frames = []
    for b in (b for b in bases if b != "api"):
        use = chips
        if b == "commit":  # the committed provider's rented units (attach_units replaces the on-demand ones)
            use = purchase.attach_units(chips.assign(**basis_mod.commit_columns(chips, discount)))
        if b == "best":  # per chip the cheaper of owning and renting (basis.cheaper), one performance step
            ready = prepare_chips(chips, precision)  # once for both bases
            points = operating_points(kind, ready, scenarios, precision, kv_precision, measured=measured,
                                      resolved=True)
            both = [evaluate(kind, ready, scenarios, precision, kv_precision, points=points, basis=how, resolved=True)
                    for how in ("own", "rent")]
            frame = basis_mod.cheaper(*both)
        else:
            frame = evaluate(kind, use, scenarios, precision, kv_precision, measured=measured,
                             basis="rent" if b == "commit" else b)
        if b == "commit":
            frame = frame.assign(price_basis=frame["price_basis"].replace({"rented": "committed"}))
        if b not in basis_mod.PER_CHIP:
            frame = frame.assign(option=basis_mod.option_label(frame["accelerator"], frame["price_basis"], b))
        frames.append(frame)
    return frames


def _ranked(frames: list[pd.DataFrame], workload: Workload, chips: pd.DataFrame, sort: str, top: int | None,
            bases: tuple[str, ...], api_prices: pd.DataFrame | None) -> pd.DataFrame:
    """One workload's rows of every basis: a chip priced on no basis keeps one row, calibration
    support per row, the API rows, ranked."""
    results = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(RESULT_FIELDS))
    if len(frames) > 1:
        priced = results["price_basis"] != "unpriced"
        has_priced = results["accelerator"].map(results[priced].groupby("accelerator").size()).fillna(0) > 0
        results = results[priced | ~has_priced].drop_duplicates(["accelerator", "price_basis", "option"])
        first_unpriced = ~priced[results.index] & results.duplicated("accelerator")
        results = results[~first_unpriced].reset_index(drop=True)
    from inferchip.trust import annotate, not_modelled  # calibration support per row (trust.py)

    results = annotate(results, chips, workload.kind)
    if "api" in bases and workload.kind == "llm":
        from inferchip import basis as basis_mod
        from inferchip.breakeven import read_api_prices

        api = basis_mod.api_rows(workload, api_prices if api_prices is not None else read_api_prices())
        if len(api):
            results = pd.concat([results, not_modelled(api)[results.columns]], ignore_index=True)
    return rank(results, sort, top)
