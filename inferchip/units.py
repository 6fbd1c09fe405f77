"""Exact constants and the glossary: one name and one unit per quantity."""

from __future__ import annotations

from dataclasses import dataclass

HOURS_PER_YEAR = 8760  # 365 days; 8,766 (365.25 d) is not used anywhere
DAYS_PER_YEAR = 365
SECONDS_PER_DAY = 86_400
SECONDS_PER_HOUR = 3_600
MONTHS_PER_YEAR = 12
J_PER_KWH = 3_600_000
W_PER_KW = 1_000
MS_PER_S = 1_000
BYTES_PER_GB = 1e9
BYTES_PER_MB = 1e6
FLOPS_PER_TFLOPS = 1e12
FLOPS_PER_GFLOP = 1e9
BYTES_PER_TB = 1e12
PARAMS_PER_BILLION = 1e9
PARAMS_PER_MILLION = 1e6
TOKENS_PER_MILLION = 1e6
QUERIES_PER_THOUSAND = 1_000

# Bytes per stored value, by numeric format.
BYTES_PER_PRECISION: dict[str, float] = {
    "fp16": 2.0,
    "bf16": 2.0,
    "fp8": 1.0,
    "int8": 1.0,
    "int4": 0.5,
    "fp4": 0.5,
}
PRECISIONS = tuple(BYTES_PER_PRECISION)

# Catalog column holding dense peak compute for each precision.
COMPUTE_COLUMN: dict[str, str] = {
    "fp16": "fp16_tflops",
    "bf16": "bf16_tflops",
    "fp8": "fp8_tflops",
    "int8": "int8_tops",
    "int4": "int4_tops",
    "fp4": "fp4_tflops",
}

# When a chip lacks the requested precision, try these next, in order
# (the same or the next wider format first, so accuracy never silently drops).
PRECISION_FALLBACK: dict[str, tuple[str, ...]] = {
    "fp4": ("fp4", "int4", "fp8", "int8", "bf16", "fp16"),
    "int4": ("int4", "fp4", "int8", "fp8", "bf16", "fp16"),
    "fp8": ("fp8", "int8", "bf16", "fp16"),
    "int8": ("int8", "fp8", "bf16", "fp16"),
    "bf16": ("bf16", "fp16"),
    "fp16": ("fp16", "bf16"),
}


@dataclass(frozen=True)
class Field:
    """One output column: its unit and which direction is better."""

    unit: str
    description: str
    higher_is_better: bool = False


# compare documents: 2 since `option` is the unique row key and the default rows include the
# per-token APIs for the workload's model (basis best + api); other commands' documents stay at 1
COMPARE_SCHEMA_VERSION = 2

# The result glossary: every column `compare` emits, in output order.
RESULT_FIELDS: dict[str, Field] = {
    "accelerator": Field("", "catalog name"),
    "vendor": Field("", "vendor"),
    "kind": Field("", "chip kind (gpu, asic, lpu, wafer, npu)"),
    "price_basis": Field("", "owned (capital + running costs), rented (on-demand cloud price), committed (cloud price under a commitment), api (per-token API price) or unpriced"),
    "option": Field("", "the unique row key: the accelerator on a per-chip (best/auto) row, 'accelerator (basis)' on an explicit basis, 'provider API (model)' on an API row"),
    "provider": Field("", "cloud or API provider where known (catalog cloud_provider, data/api_prices.csv provider)"),
    "feasible": Field("", "the chip can serve the workload within the SLO and has a price"),
    "infeasible_reason": Field("", "why not, when feasible is false"),
    "throughput_source": Field("", "modeled or measured"),
    "throughput_reference": Field("", "the measured benchmark used when throughput_source is measured"),
    "precision_used": Field("", "weight precision actually used"),
    "precision_note": Field("", "set when the requested precision was not available"),
    "chips_per_replica": Field("count", "accelerators holding one model copy"),
    "batch_size": Field("count", "concurrent sequences (or queries) per replica"),
    "replicas": Field("count", "model copies in the fleet"),
    "accelerators": Field("count", "accelerators in the fleet"),
    "servers": Field("count", "servers (or rented instances / rack systems)"),
    "racks": Field("count", "racks"),
    "purchase": Field("", "what is bought or rented: the cheapest mix of purchasable units (data/purchase_units.csv) holding the replicas"),
    "purchase_units": Field("count", "servers, boards, racks or instances bought or rented"),
    "accelerators_bought": Field("count", "accelerators in the units bought or rented"),
    "accelerators_used": Field("count", "accelerators holding replicas (replicas x chips per replica)"),
    "stranded_accelerators": Field("count", "accelerators bought but holding no replica (bought - used)"),
    "utilisation": Field("fraction", "average load / capacity of the accelerators bought (queries per day / 86,400 over their capacity)"),
    "peak_utilisation": Field("fraction", "peak load / capacity of the accelerators bought"),
    "allocation": Field("", "dedicated (pays for all it buys) or shared (pays for the accelerators it uses)"),
    "cost_share": Field("fraction", "share of the purchase charged to the workload: 1 when dedicated, used / bought when shared"),
    "ttft_ms": Field("ms", "time to first token at the operating point"),
    "tpot_ms": Field("ms", "time per output token at the operating point"),
    "latency_ms": Field("ms", "end-to-end latency of one query"),
    "meets_slo": Field("", "the latency targets hold at the operating point"),
    "tokens_per_s_per_accelerator": Field("tokens/s", "generated tokens per second per accelerator at full load", True),
    "queries_per_s_per_accelerator": Field("queries/s", "queries per second per accelerator at full load", True),
    "capex_usd": Field("USD", "capital: servers + network + storage + spares + installation"),
    "annual_capex_usd": Field("USD/year", "capital charge per year"),
    "annual_energy_usd": Field("USD/year", "electricity at average power x PUE"),
    "annual_facility_usd": Field("USD/year", "colocation or owned facility on provisioned kW"),
    "annual_opex_usd": Field("USD/year", "energy + facility + maintenance + software + staff (or cloud rent)"),
    "annual_tco_usd": Field("USD/year", "annual capital charge + annual opex"),
    "cost_per_query_usd": Field("USD", "annual TCO / annual queries"),
    "cost_per_million_tokens_usd": Field("USD", "cost per million generated (output) tokens: the whole query's cost over its output tokens, as MLPerf counts tokens"),
    "cost_per_million_tokens_blended_usd": Field("USD", "cost per million tokens, input and output together: cost per query / (input + output tokens) x 1e6, comparable with an API's blended price at the workload's mix"),
    "cost_per_million_input_tokens_usd": Field("USD", "cost per million input tokens: cost per query x input_time_share / input tokens x 1e6"),
    "cost_per_million_output_tokens_usd": Field("USD", "cost per million output tokens: cost per query x (1 - input_time_share) / output tokens x 1e6"),
    "input_time_share": Field("fraction", "share of a replica's step time spent on prompt prefill: D b / (A + (B + C + D + E) b + O); disaggregated serving: prefill_pool_share"),
    "serving_mode": Field("", "aggregated (prompts ride in the decode steps) or disaggregated (separate prefill and decode pools); assumption serving_mode = aggregated | disaggregated | auto picks it (docs/method.md)"),
    "prefill_pool_share": Field("fraction", "disaggregated serving: share of the fleet's chips in the prefill pool = (prompt ms / 1000) x queries/s per replica; 0 when aggregated"),
    "cost_per_thousand_queries_usd": Field("USD", "cost per query x 1,000"),
    "cloud_cost_per_query_usd": Field("USD", "cost per query renting the same fleet on demand"),
    "avg_power_kw": Field("kW", "average IT power of the fleet: max kW x (idle + (busy - idle) x utilisation)"),
    "facility_power_kw": Field("kW", "provisioned IT power x PUE: what the site must supply"),
    "energy_per_query_j": Field("J", "facility energy per query (average power x PUE / query rate)"),
    "work_energy_per_query_j": Field("J", "energy the work itself needs per query: (busy - idle) power of a replica x PUE / its query rate"),
    "busy_power_fraction": Field("fraction", "server power at full inference load / maximum (data/power_profiles.csv, else the assumption)"),
    "idle_power_fraction": Field("fraction", "server power idle with the model loaded / maximum (data/power_profiles.csv, else the assumption)"),
    "kw_per_rack": Field("kW", "provisioned power of one full rack of the units bought (fleet kW / racks' worth of units)"),
    "max_unit_kw": Field("kW", "maximum power of the largest unit bought (a cloud slice: of the catalog server holding it); a rack must take at least this"),
    "accelerators_per_rack": Field("accelerators/rack", "accelerators in one full rack of the units bought (the mean of a two-type mix)", True),
    "queries_per_s_per_rack": Field("queries/s", "capacity of one full rack of the units bought", True),
    "weights_gb": Field("GB", "model weights at the precision used"),
    "kv_cache_gb_per_replica": Field("GB", "KV cache held per replica at the operating point"),
    "server_price_usd": Field("USD", "price of one server used (catalog, or derived from the accelerator price)"),
    "server_power_kw": Field("kW", "maximum power of one unit bought, the mean where two unit types are bought (unit's listed kW, else the catalog server's, else derived from TDP)"),
    "servers_per_rack": Field("units/rack", "units bought per full rack (power or space binds per unit type; the mean of a two-type mix)", True),
    "cloud_usd_per_hour": Field("USD/h", "on-demand cloud price per accelerator-hour under the --cloud-provider"
                                " policy (data/cloud_prices.csv; default: lowest hyperscaler list price)"),
    "cloud_provider": Field("", "the provider whose cloud price a rented row uses (catalog = the catalog's own price)"),
    "cost_per_accelerator_hour_usd": Field("USD", "annual TCO / (accelerators x 8,760 h)"),
    "calibration_source": Field("", "where the efficiency factors come from"),
    "price_is_estimate": Field("", "the price used is a secondary estimate, not a list price: an owned row's catalog or unit price, or a rented row's cloud price marked is_estimate in data/cloud_prices.csv"),
    "price_source": Field("", "source of the price used (catalog price_source, or cloud_source when rented)"),
    "price_as_of": Field("", "date of the price used"),
    "purchase_source": Field("", "source of the purchase unit bought (data/purchase_units.csv), or the catalog fallback"),
    # calibration support of the row (inferchip/trust.py; held-out errors from data/heldout.csv)
    "calibration_scope": Field("", "where the efficiency factors come from: family, kind, or all (kind with < 4 fitted rows)"),
    "calibration_rows": Field("count", "fitted benchmark rows of the chip's family (or kind) in the workload's class"),
    "heldout_median_abs_error": Field("fraction", "median absolute error of those rows, each predicted by a fit that did not see it"),
    "heldout_split": Field("", "which held-out test gave that error: time (fit v4.x, predict v5.1), loo, or time over all rows of the class"),
    "measured_anchor": Field("", "the throughput is a measured benchmark row, not the model"),
    "thin_data": Field("", "not measured and < 4 fitted rows or held-out error > 25 %: treat the modeled figures with care"),
}
