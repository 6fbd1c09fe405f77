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


# The result glossary: every column `compare` emits, in output order.
RESULT_FIELDS: dict[str, Field] = {
    "accelerator": Field("", "catalog name"),
    "vendor": Field("", "vendor"),
    "kind": Field("", "chip kind (gpu, asic, lpu, wafer, npu)"),
    "price_basis": Field("", "owned (capital + running costs) or rented (cloud price)"),
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
    "cost_per_million_tokens_usd": Field("USD", "cost per million generated tokens"),
    "cloud_cost_per_query_usd": Field("USD", "cost per query renting the same fleet on demand"),
    "avg_power_kw": Field("kW", "average IT power of the fleet"),
    "facility_power_kw": Field("kW", "provisioned IT power x PUE: what the site must supply"),
    "energy_per_query_j": Field("J", "facility energy per query (average power x PUE / query rate)"),
    "kw_per_rack": Field("kW", "provisioned power of one full rack"),
    "accelerators_per_rack": Field("count", "accelerators in one full rack", True),
    "queries_per_s_per_rack": Field("queries/s", "capacity of one full rack", True),
    "weights_gb": Field("GB", "model weights at the precision used"),
    "kv_cache_gb_per_replica": Field("GB", "KV cache held per replica at the operating point"),
    "server_price_usd": Field("USD", "price of one server used (catalog, or derived from the accelerator price)"),
    "server_power_kw": Field("kW", "maximum power of one server used (catalog, or derived from TDP)"),
    "servers_per_rack": Field("count", "servers in one rack (power or space binds)", True),
    "cloud_usd_per_hour": Field("USD/h", "on-demand cloud price per accelerator-hour under the --cloud-provider"
                                " policy (data/cloud_prices.csv; default: lowest hyperscaler list price)"),
    "cloud_provider": Field("", "the provider whose cloud price a rented row uses (catalog = the catalog's own price)"),
    "cost_per_accelerator_hour_usd": Field("USD", "annual TCO / (accelerators x 8,760 h)"),
    "calibration_source": Field("", "where the efficiency factors come from"),
    "price_is_estimate": Field("", "the owned price is a secondary estimate, not a vendor list price"),
    "price_source": Field("", "source of the price used (catalog price_source, or cloud_source when rented)"),
    "price_as_of": Field("", "date of the price used"),
}
