"""`inferchip explain`: the derivation of one accelerator's result, step by step.

Every value comes from the pipeline itself: `compare.evaluate(..., trace=...)`
hands back the intermediate quantities of the chosen operating point, so the
explanation cannot drift from what `compare` computes (its final cost per query
is compare's). This module only names the quantities, writes their formulas in
symbols and words, and says where each input came from: a catalog row (file,
line, source and date), a workload key (file and section, preset or --set), an
assumption (origin and source), a calibration factor, or an earlier step.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from inferchip import perf, server
from inferchip.calibration import CALIBRATION_ATTR, attach_factors
from inferchip.catalog import bundled_catalog_path, find_chip
from inferchip.compare import CANDIDATE_SLOTS, evaluate, scenario_frame
from inferchip.data_files import data_path
from inferchip.document import SCHEMA_VERSION, clean_number, records
from inferchip.errors import InferchipError
from inferchip.inputs import Inputs
from inferchip.measured import candidates
from inferchip.models import load_presets
from inferchip.tomlfile import read_toml
from inferchip.units import (
    BYTES_PER_PRECISION,
    COMPUTE_COLUMN,
    DAYS_PER_YEAR,
    HOURS_PER_YEAR,
    MONTHS_PER_YEAR,
    RESULT_FIELDS,
    SECONDS_PER_DAY,
    TOKENS_PER_MILLION,
)
from inferchip.workload import WORKLOAD_KEY_SECTIONS

SECTIONS = ("precision and memory", "operating point", "fleet", "power and racks", "cost")
WORKLOAD_UNITS = {
    "params_b": "billion parameters", "active_params_b": "billion parameters", "layers": "count",
    "kv_elems_per_token_per_layer": "elements", "hidden": "count", "input_tokens": "tokens",
    "output_tokens": "tokens", "ttft_ms": "ms", "tpot_ms": "ms", "gflops_per_query": "GFLOP",
    "weights_mb": "MB", "activation_mb_per_query": "MB", "latency_ms": "ms", "queries_per_day": "queries/day",
    "peak_to_average": "ratio", "precision": "", "kv_precision": "",
    "experts": "count", "experts_per_token": "count", "attention_heads": "count", "sliding_window_tokens": "tokens",
    "sliding_window_layers": "count", "output_tokens_cv": "ratio (std / mean)",
    "output_tokens_min": "tokens",
}
CATALOG_UNITS = {
    "memory_gb": "GB", "sram_mb": "MB", "memory_bw_tbps": "TB/s", "tdp_w": "W", "devices_per_server": "count",
    "server_power_kw": "kW", "server_rack_units": "U", "server_price_usd": "USD", "accelerator_price_usd": "USD",
    "cloud_usd_per_hour": "USD per accelerator-hour", "cooling": "", **{c: "TFLOPS or TOPS dense" for c in COMPUTE_COLUMN.values()},
}


def _scalar(value: object) -> object:
    """A Python scalar from a scalar or the single element of a one-row array."""
    if value is None:
        return None
    first = np.asarray(value).reshape(-1)[0]
    return first.item() if isinstance(first, np.generic) else first


class _Origins:
    """The origin and source text of every input the derivation uses."""

    def __init__(self, inputs: Inputs, row: pd.Series, factors: pd.Series, workload_sets: set[str]) -> None:
        self.inputs, self.row, self.factors = inputs, row, factors
        self.workload = inputs.workload
        self.sets = {key.rpartition(".")[2] for key in workload_sets}
        path = Path(self.workload.origin)
        bundled = path.parent.resolve() == data_path("workloads").resolve()
        self.workload_where = f"bundled workload {path.name}" if bundled else str(path)
        try:
            self.raw = read_toml(path)
        except InferchipError:  # the profile was read a moment ago; only the origin text would suffer
            self.raw = {}
        file = Path(str(row.get("catalog_file", "")))
        self.catalog_where = (f"bundled {file.name}" if file.resolve() == bundled_catalog_path().resolve() else str(file))
        self.catalog_where += f" line {row.get('catalog_line')} ({row['name']})"

    # -- inputs ---------------------------------------------------------------------
    def catalog(self, column: str, value: object = None, what: str = "spec") -> dict[str, object]:
        row = self.row
        if what == "price":
            estimate = " [estimate]" if bool(row.get("price_is_estimate", False)) else ""
            source = f"{row.get('price_source', '')}, as of {row.get('price_as_of', '')}{estimate}"
        elif what == "cloud":
            provider = str(row.get("cloud_provider", "") or "")
            region = str(row.get("cloud_region", "") or "")
            where = f"{provider}{' ' + region if region else ''} ({row.get('cloud_basis', '')}): " if provider else ""
            source = f"{where}{row.get('cloud_source', '')}, as of {row.get('cloud_as_of', '')}"
        elif what == "power" and str(row.get("server_power_basis", "")):
            source = f"{row.get('server_power_basis')}; specs: {row.get('source', '')}, as of {row.get('as_of', '')}"
        else:
            source = f"{row.get('source', '')}, as of {row.get('as_of', '')}"
        value = row.get(column) if value is None else value
        return {"name": column, "value": clean_number(value), "unit": CATALOG_UNITS.get(column, ""),
                "origin": "catalog", "source": f"{self.catalog_where}: {source}"}

    def devices_per_server(self) -> dict[str, object]:
        """The catalog's devices_per_server; a blank shows the value every step uses instead."""
        if not server.is_default(self.row.get("devices_per_server")):
            return self.catalog("devices_per_server")
        rule = (f"devices_per_server is blank: {server.DEFAULT_DEVICES_PER_SERVER:g} accelerator per server, the one "
                "rule sizing, power, price and purchase all use (inferchip.server; docs/catalog.md)")
        return self.catalog("devices_per_server", value=server.DEFAULT_DEVICES_PER_SERVER) | {
            "source": f"{self.catalog_where}: {rule}"}

    def workload_key(self, key: str) -> dict[str, object]:
        value = getattr(self.workload, key)
        return {"name": key, "value": clean_number(value), "unit": WORKLOAD_UNITS.get(key, ""),
                "origin": "workload", "source": self._workload_source(key)}

    def _workload_source(self, key: str) -> str:
        if key in self.sets:
            return f"--set {key}"
        section = WORKLOAD_KEY_SECTIONS.get(key, "model")
        table = self.raw.get(section) if isinstance(self.raw.get(section), dict) else {}
        if key in table:
            return f"{self.workload_where}: [{section}] {key}"
        traffic = self.raw.get("traffic") if isinstance(self.raw.get("traffic"), dict) else {}
        model = self.raw.get("model") if isinstance(self.raw.get("model"), dict) else {}
        if key == "queries_per_day" and ("peak_queries_per_s" in traffic or "peak_queries_per_s" in self.sets):
            return f"{self.workload_where}: [traffic] peak_queries_per_s x 86,400 / peak_to_average"
        if key == "kv_elems_per_token_per_layer" and ("kv_heads" in model or "head_dim" in model):
            return f"{self.workload_where}: 2 x [model] kv_heads x head_dim"
        if key == "active_params_b" and "params_b" in model:
            return f"{self.workload_where}: [model] params_b (dense model: all parameters active)"
        preset = self.workload.preset
        if preset:
            entry = load_presets().get(preset.lower(), {})
            detail = {"weights_mb": " (weights_mparams x bytes per weight)",
                      "precision": " (default_precision)"}.get(key, "")
            return (f"model preset {preset}{detail} in data/models.csv: {entry.get('source', '')}, "
                    f"as of {entry.get('as_of', '')}")
        return "default"

    def assumption(self, key: str) -> dict[str, object]:
        a = self.inputs.assumptions
        origin = a.origins[key]
        where = "default in data/assumptions.toml" if origin == "default" else origin
        return {"name": key, "value": clean_number(a.values[key]), "unit": a.specs[key].unit,
                "origin": "assumption", "source": f"{where}: {a.specs[key].source}"}

    def calibration(self, factor: str, unit: str) -> dict[str, object]:
        own = self.row.get(factor)
        value = self.factors[factor]
        if own is not None and not (isinstance(own, float) and math.isnan(own)):
            return {"name": factor, "value": clean_number(value), "unit": unit, "origin": "catalog",
                    "source": f"{self.catalog_where}: the row's own {factor}"}
        return {"name": factor, "value": clean_number(value), "unit": unit, "origin": "calibration",
                "source": self.factors["calibration_source"] if CALIBRATION_ATTR in self.inputs.chips.attrs
                else f"data/calibration.csv, {self.factors['calibration_source']}"}

    @staticmethod
    def constant(name: str, value: float, unit: str, meaning: str) -> dict[str, object]:
        return {"name": name, "value": value, "unit": unit, "origin": "constant", "source": meaning}


class _Steps:
    """The ordered derivation; each step can be cited as an input of a later one."""

    def __init__(self) -> None:
        self.items: list[dict[str, object]] = []
        self.index: dict[str, dict[str, object]] = {}
        self.section = SECTIONS[0]

    def add(self, name: str, label: str, value: object, unit: str, formula: str, description: str,
            inputs: list[dict[str, object] | str]) -> None:
        resolved = [self.ref(i) if isinstance(i, str) else i for i in inputs]
        step = {"name": name, "label": label, "section": self.section, "value": clean_number(_scalar(value), unit == "count"),
                "unit": unit, "formula": formula, "description": description, "inputs": resolved}
        self.items.append(step)
        self.index[name] = step

    def ref(self, name: str) -> dict[str, object]:
        step = self.index[name]
        number = self.items.index(step) + 1
        return {"name": name, "value": step["value"], "unit": step["unit"], "origin": "step",
                "source": f"step {number}: {step['label']}"}


def explain(inputs: Inputs, chip: str, workload_sets: set[str] | None = None) -> dict[str, object]:
    """The explain document for `chip` (see catalog.find_chip): compare's default row for it
    (its best basis: the cheaper of owning and renting, basis.cheaper) and every step of its
    derivation."""
    from inferchip.basis import cheaper

    if (" api" in f" {chip.lower()}") and not inputs.chips["name"].str.lower().str.contains(" api", regex=False).any():
        from inferchip.errors import NotFoundError

        raise NotFoundError(f"--chip {chip!r}: a per-token API row has no derivation to explain: its cost per query is "
                            "(input tokens x input price + output tokens x output price) / 1e6 from data/api_prices.csv;"
                            " `inferchip compare WORKLOAD --basis api --format json` shows its prices and source")
    row = find_chip(inputs.chips, chip)
    chips = attach_factors(inputs.chips.loc[[row.name]], workload_kind=inputs.workload.kind)
    workload, assumptions = inputs.workload, inputs.assumptions
    trace: dict[str, np.ndarray] = {}
    # the same measured benchmarks compare.run_compare offers the pipeline (measured beats modeled)
    run = lambda basis, trace=None: evaluate(  # noqa: E731
        workload.kind, chips, scenario_frame(workload, assumptions), workload.precision, workload.kv_precision,
        trace=trace, measured=candidates(workload.preset, workload.precision), basis=basis)
    best = cheaper(run("own"), run("rent"))["price_basis"].iloc[0]
    result = run("rent" if best == "rented" else "own", trace)
    from inferchip.trust import annotate  # calibration support, as compare.run_compare adds it

    result = annotate(result, chips, workload.kind)
    t = {k: _scalar(v) for k, v in trace.items()}
    r = records(result, [f for f in RESULT_FIELDS if f in result.columns])[0]
    origins = _Origins(inputs, row, chips.iloc[0], workload_sets or set())
    steps = _Steps()
    _memory_steps(steps, origins, t, r, workload.kind)
    steps.section = SECTIONS[1]
    if workload.kind == "llm":
        _llm_steps(steps, origins, t, r)
        if bool(_scalar(t.get("pipeline", False))):
            _pipeline_steps(steps, origins, t, r)
    else:
        _fixed_steps(steps, origins, t, r)
    steps.section = SECTIONS[2]
    _fleet_steps(steps, origins, t, r)
    steps.section = SECTIONS[3]
    _power_steps(steps, origins, t, r)
    steps.section = SECTIONS[4]
    _cost_steps(steps, origins, t, r, workload.kind)
    from inferchip import __version__

    return {
        "schema_version": SCHEMA_VERSION,
        "inferchip_version": __version__,
        "command": "explain",
        "accelerator": r["accelerator"],
        "workload": {**workload.as_dict(), "origin": workload.origin},
        "catalog": inputs.catalog_source,
        "feasible": r["feasible"],
        "infeasible_reason": r["infeasible_reason"],
        "price_basis": r["price_basis"],
        "cost_per_query_usd": r["cost_per_query_usd"],
        "result": r,
        "steps": steps.items,
    }


def _memory_steps(steps: _Steps, o: _Origins, t: dict, r: dict, kind: str) -> None:
    used = r["precision_used"] or o.workload.precision
    peak_column = COMPUTE_COLUMN[used]
    fallback = f" ({r['precision_note']})" if r.get("precision_note") else ""
    steps.add("bytes_per_weight", "Bytes per weight", t["bytes_per_weight"], "bytes",
              f"bytes_w = bytes per value of {used}",
              f"the workload asks for {o.workload.precision} weights; the chip runs {used}{fallback}",
              [o.workload_key("precision"), o.catalog(peak_column)])
    if kind == "llm":
        steps.add("weights_gb", "Model weights", t["weight_bytes"] / 1e9, "GB",
                  "W = params_b x 10^9 x bytes_w / 10^9",
                  "total parameters times bytes per weight",
                  [o.workload_key("params_b"), "bytes_per_weight"])
    else:
        requested = BYTES_PER_PRECISION[o.workload.precision]
        steps.add("weights_gb", "Model weights", t["weight_bytes"] / 1e9, "GB",
                  "W = weights_mb x 10^6 x bytes_w / bytes_requested / 10^9",
                  "the profile's weights, rescaled when the chip falls back to another precision",
                  [o.workload_key("weights_mb"), "bytes_per_weight",
                   o.constant("bytes_requested", requested, "bytes", f"bytes per value of {o.workload.precision}")])
    memory_inputs = [o.catalog("memory_gb")]
    if not (isinstance(o.row.get("memory_gb"), float) and o.row.get("memory_gb") > 0):
        memory_inputs.append(o.catalog("sram_mb"))
    steps.add("memory_per_chip_gb", "Memory per chip", t["capacity_gb"], "GB",
              "M = memory_gb, or sram_mb / 1000 when memory_gb is 0",
              "the memory that holds the weights: off-chip memory, or on-die SRAM for chips without it",
              memory_inputs)
    steps.add("min_chips_for_weights", "Fewest chips that hold the weights", t["n_min"], "count",
              "n_min = ceil(W / (M x u))", "weights over the usable memory of one chip, rounded up",
              ["weights_gb", "memory_per_chip_gb", o.assumption("memory_usable_fraction")])
    steps.add("candidate_base_chips", "Smallest parallel size tried", t["n_base"], "count",
              "n_base = 2^ceil(log2 n_min) if that is <= devices_per_server, else ceil(n_min / dps) x dps",
              "the next power of two inside one server, else whole servers (a blank devices_per_server is 1, "
              "as in power and price)",
              ["min_chips_for_weights", o.devices_per_server()])
    multipliers = ", ".join(str(2 ** k) for k in range(CANDIDATE_SLOTS))
    steps.add("chips_per_replica", "Chips per replica (chosen)", t["n"], "count",
              f"n = argmin over n_base x {{{multipliers}}} of fleet accelerators",
              "every candidate size is sized for the whole fleet; the one needing the fewest accelerators "
              "wins (ties: the smaller); when none is feasible, the one closest to feasible",
              ["candidate_base_chips"])


def _common_perf_steps(steps: _Steps, o: _Origins, t: dict, r: dict, layers_input: list) -> None:
    used = r["precision_used"] or o.workload.precision
    steps.add("effective_bandwidth_tbps", "Effective memory bandwidth of the replica", t["bandwidth_bps"] / 1e12,
              "TB/s", "BW = n x memory_bw_tbps x memory_efficiency",
              "peak bandwidth of every chip in the replica times the achieved fraction",
              ["chips_per_replica", o.catalog("memory_bw_tbps"), o.calibration("memory_efficiency", "fraction of peak")])
    steps.add("effective_compute_tflops", "Effective compute of the replica", t["flops_per_s"] / 1e12,
              "TFLOP/s", f"F = n x {COMPUTE_COLUMN[used]} x compute_efficiency",
              f"dense {used} peak of every chip in the replica times the achieved fraction",
              ["chips_per_replica", o.catalog(COMPUTE_COLUMN[used]),
               o.calibration("compute_efficiency", "fraction of peak")])
    per_layer = "layers x " if layers_input else ""
    steps.add("step_overhead_ms", "Fixed time per forward step", t["overhead_ms"], "ms",
              f"O = step_overhead_ms + (n > 1) x {per_layer}comm_overhead_ms_per_layer",
              "launch and scheduling overhead, plus collective latency when the replica spans chips"
              + (" (one per layer)" if layers_input else " (one per batch for fixed work)"),
              ["chips_per_replica", o.calibration("step_overhead_ms", "ms"),
               o.calibration("comm_overhead_ms_per_layer", "ms"), *layers_input])


def _doc(function) -> str:
    """The summary paragraph of a pipeline function's docstring (formula and units, by
    house style), whitespace collapsed: explain quotes the model instead of restating it."""
    paragraph = (function.__doc__ or "").strip().split("\n\n")[0]
    return " ".join(paragraph.split())


def _term(function, symbol: str) -> str:
    """'X = ...' for one coefficient defined in a docstring such as
    perf.llm_decode_coefficients' ("A = weights / BW: ...; B = ...")."""
    text = " ".join((function.__doc__ or "").split())
    match = re.search(rf"(?:^|[\s,;]){symbol} = (.*?)(?=[,;]\s*[A-Z] = |;|\.\s|\.$|$)", text)
    return f"{symbol} = {match.group(1)}" if match else f"{symbol}: see perf.{function.__name__}"


def _link_inputs(o: _Origins) -> list[dict[str, object]]:
    """The chip-to-chip link figures: the catalog row's own, else data/interconnect.csv."""
    from inferchip.interconnect import LINK_COLUMNS, read_interconnect

    table = read_interconnect()
    key = str(o.row["name"]).lower()
    items = []
    for column in LINK_COLUMNS:
        own = o.row.get(column)
        if own is not None and not (isinstance(own, float) and math.isnan(own)) and str(own) != "":
            items.append(o.catalog(column))
            continue
        found = key in table.index and column in table.columns
        value = table.at[key, column] if found else None
        source = (f"data/interconnect.csv ({o.row['name']}): {table.at[key, 'source']}, as of {table.at[key, 'as_of']}"
                  if found else "unknown: not in the catalog row nor data/interconnect.csv")
        items.append({"name": column, "value": clean_number(value), "unit": "count" if "domain" in column else "GB/s",
                      "origin": "catalog", "source": source})
    for factor in ("link_efficiency", "host_link_efficiency"):  # scale-up links, PCIe beyond the domain
        if factor in o.factors.index:
            items.append(o.calibration(factor, "fraction of peak"))
    return items


def _pipeline_steps(steps: _Steps, o: _Origins, t: dict, r: dict) -> None:
    """A dataflow row (catalog layout = pipeline): restate the steps whose formulas differ
    from the tensor-parallel model (inferchip.dataflow), and cite the vendor claims the
    row's factors are anchored on."""
    from inferchip import dataflow

    def restate(name: str, formula: str, description: str, inputs: list) -> None:
        step = steps.index[name]
        step.update(formula=formula, description=description,
                    inputs=[steps.ref(i) if isinstance(i, str) else i for i in inputs])

    restate("step_overhead_ms", "O_pipe = pipeline_overhead_ms + s x layer_latency_us / 1000 + (ceil(n / devices_per_server)"
            " - 1) x server_hop_us / 1000", "a token waits at every pipeline stage (s = layers) and every system boundary",
            ["chips_per_replica", o.catalog("pipeline_overhead_ms"), o.catalog("layer_latency_us"),
             o.catalog("server_hop_us"), o.devices_per_server(), o.workload_key("layers")])
    restate("prefill_ms", "prefill_pipe = max(P / F, W / BW) + O_pipe", "the prompt streams through the stages in chunks",
            ["prefill_gflop_per_query", "effective_compute_tflops", "weights_gb", "effective_bandwidth_tbps",
             "step_overhead_ms"])
    restate("max_batch_for_slo", "b_slo = largest microbatch b with s x (A + (B + C + D + E) b) + O_pipe <= budget",
            "per microbatch of one stage", ["step_budget_ms", "step_overhead_ms", o.workload_key("layers")])
    restate("batch_size", "in_flight = floor(min(s x b_slo, b_mem, s x max_batch_size))",
            "up to one microbatch per stage is in flight", ["max_batch_for_slo", "max_batch_for_memory",
                                                            o.assumption("max_batch_size"), o.workload_key("layers")])
    restate("tpot_ms", _doc(dataflow.pipeline_step_ms) + " at microbatch max(in_flight / s, 1)",
            "a token crosses all s stages in turn", ["batch_size", "step_overhead_ms", o.workload_key("layers")])
    restate("tokens_per_s_per_replica", "tokens/s = in_flight / TPOT_pipe x 1000",
            "every stage works on its own microbatch", ["batch_size", "tpot_ms"])
    claims = str(dataflow.vendor_reference([o.row["name"]], o.workload.preset)[0]) or "no vendor claim on file"
    steps.add("per_user_tokens_per_s", "Per-user speed (batch 1)", 1000.0 / _scalar(t["tpot_b1"]), "tokens/s",
              "per-user speed = 1000 / TPOT_pipe(1)", "single-stream speed, the figure vendors publish; the row's "
              "pipeline factors are anchored on: " + claims,
              ["step_overhead_ms", o.constant("vendor_claims", 0, "", claims)])


def _llm_steps(steps: _Steps, o: _Origins, t: dict, r: dict) -> None:
    coefficients = perf.llm_decode_coefficients
    _common_perf_steps(steps, o, t, r, [o.workload_key("layers")])
    steps.add("kv_bytes_per_token", "KV cache per token", t["kv_bytes_per_token"], "bytes",
              "KV = layers x kv_elems_per_token_per_layer x bytes_kv",
              "keys and values cached for one token across all layers",
              [o.workload_key("layers"), o.workload_key("kv_elems_per_token_per_layer"),
               o.workload_key("kv_precision")])
    steps.add("prefill_gflop_per_query", "Prefill work per query", t["prefill_flops"] / 1e9, "GFLOP",
              "P = 2 x active_params_b x 10^9 x input_tokens + 4 x layers x hidden x input_tokens^2 / 2",
              "dense matrix work for every prompt token plus causal attention over the prompt",
              [o.workload_key("active_params_b"), o.workload_key("input_tokens"), o.workload_key("layers"),
               o.workload_key("hidden")])
    comm = "comm_ms_per_token" in t
    if comm:
        steps.add("tp_comm_bytes_per_token", "Collective traffic per token per chip", t["comm_bytes_per_token"],
                  "bytes", _doc(perf.tp_comm_bytes_per_token),
                  "tensor-parallel all-reduces move activations between the chips of the replica",
                  [o.workload_key("layers"), o.workload_key("hidden"), "chips_per_replica"])
        steps.add("link_bandwidth_gbps", "Achieved chip-to-chip bandwidth", t["link_bandwidth_bps"] / 1e9, "GB/s",
                  _doc(perf.link_bandwidth_bps), "the link the collectives run over, per direction",
                  ["chips_per_replica", *_link_inputs(o)])
        steps.add("comm_ms_per_token", "Collective time per token", t["comm_ms_per_token"], "ms",
                  _doc(perf.comm_ms_per_token), "", ["tp_comm_bytes_per_token", "link_bandwidth_gbps"])
    prefill_inputs = ["prefill_gflop_per_query", "effective_compute_tflops", "weights_gb", "effective_bandwidth_tbps",
                      "step_overhead_ms"] + (["comm_ms_per_token", o.workload_key("input_tokens")] if comm else [])
    steps.add("prefill_ms", "Prefill time of one query", t["prefill_ms"], "ms", _doc(perf.prefill_time_ms),
              "a query's prompt processed alone", prefill_inputs)
    a_inputs = ["weights_gb", "effective_bandwidth_tbps"]
    if np.any(np.asarray(t["expert_params_b"]) > 0):
        steps.add("expert_params_b", "Parameters in routed experts", t["expert_params_b"], "billion parameters",
                  _doc(perf.expert_params_b), "MoE: the part of the weights a step reads only where a token chose it",
                  [o.workload_key("params_b"), o.workload_key("active_params_b"), o.workload_key("experts"),
                   o.workload_key("experts_per_token")])
        steps.add("step_weight_share", "Share of the weights one step reads", t["step_weight_share"], "fraction",
                  _doc(perf.experts_read_fraction) + " " + _doc(perf.step_weight_bytes),
                  "a step of b sequences touches E x (1 - (1 - k/E)^b) distinct experts",
                  ["expert_params_b", o.workload_key("experts"), o.workload_key("experts_per_token")])
        a_inputs.append("step_weight_share")
    steps.add("decode_context_tokens", "Mean decode context per layer", t["ctx_decode_tokens"], "tokens",
              _doc(perf.mean_decode_context) + " " + _doc(perf.windowed_layer_ctx),
              "the context a decoding sequence attends over, averaged over the batch and the layers",
              [o.workload_key("input_tokens"), o.workload_key("output_tokens"), o.workload_key("output_tokens_cv"),
               o.workload_key("sliding_window_tokens"), o.workload_key("sliding_window_layers")])
    steps.add("attention_flops_per_ctx_token", "Attention work per token per context token",
              t["attn_flops_per_token_per_ctx"], "FLOP", _doc(perf.attention_flops_per_ctx_token),
              "MLA scores every query head against the cached latent",
              [o.workload_key("layers"), o.workload_key("hidden"), o.workload_key("attention_heads")])
    steps.add("decode_weight_read_ms", "A: weight read per decode step", t["a_ms"], "ms", _term(coefficients, "A"),
              "every decode step streams the weights it uses once, whatever the batch", a_inputs)
    steps.add("decode_kv_read_ms_per_sequence", "B: attention per sequence per step", t["b_ms"], "ms",
              _term(coefficients, "B"), "each sequence reads its KV cache at the mean decode context",
              ["kv_bytes_per_token", "decode_context_tokens", "attention_flops_per_ctx_token", "effective_bandwidth_tbps",
               "effective_compute_tflops"])
    steps.add("decode_compute_ms_per_sequence", "C: compute per sequence per step", t["c_ms"], "ms",
              _term(coefficients, "C"), "the matrix work for one new token",
              [o.workload_key("active_params_b"), "effective_compute_tflops"])
    steps.add("prefill_share_ms_per_sequence", "D: prefill share per sequence per step", t["d_ms"], "ms",
              _term(coefficients, "D"), "in-flight batching spreads each query's prefill over its decode steps",
              ["prefill_gflop_per_query", "effective_compute_tflops", o.workload_key("output_tokens")])
    terms = ["decode_weight_read_ms", "decode_kv_read_ms_per_sequence", "decode_compute_ms_per_sequence",
             "prefill_share_ms_per_sequence"]
    if "e_ms" in t:
        steps.add("collective_ms_per_sequence", "E: collectives per sequence per step", t["e_ms"], "ms",
                  _term(coefficients, "E"), "tensor-parallel all-reduces of decoded and prompt tokens",
                  (["comm_ms_per_token"] if comm else []) + [o.workload_key("input_tokens"),
                                                              o.workload_key("output_tokens")])
        terms.append("collective_ms_per_sequence")
    steps.add("step_budget_ms", "Time budget per decode step", t["step_budget_ms"], "ms",
              "budget = min(tpot_ms, ttft_ms - prefill)", "the tighter of the TPOT target and what TTFT leaves",
              [o.workload_key("tpot_ms"), o.workload_key("ttft_ms"), "prefill_ms"])
    tailed = bool(np.isfinite(t["step_budget_ms"]) and t["tail_spread"] > 0)
    if tailed:  # the p99 bound: a tail beside the mean step
        steps.add("p99_tail_spread", "p99 tail spread of the time per output token", t["tail_spread"], "ratio",
                  _doc(perf.bounded_tail_spread), "how far the slowest 1 % of queries sit from the mean TPOT",
                  [o.calibration("tail_spread", "ratio"), o.workload_key("output_tokens"),
                   o.workload_key("output_tokens_min")])
    # the solver compare used: closed form for dense models; MoE weight reads depend on the batch (bisection)
    solver = perf.max_batch_p99 if np.any(np.asarray(t["batch_bisected"])) else perf.max_batch_p99_affine
    steps.add("max_batch_for_slo", "Largest batch within the SLO", t["b_slo"], "sequences",
              _doc(solver) if tailed else _doc(perf.max_batch_for_step_budget),
              "the p99 step time (mean step + the prompts' prefill tail) meets the budget; model constants "
              f"z99 = {perf.Z_P99} and prompt headroom H = {perf.PROMPT_HEADROOM:g} (perf.PROMPT_HEADROOM: a "
              "chunked-prefill step carries at most 1 + H times the mean prompt work)" if tailed
              else "the step time grows linearly in the batch, so the bound is exact",
              ["step_budget_ms", "step_overhead_ms", *terms] + (["p99_tail_spread"] if tailed else []))
    steps.add("max_batch_for_memory", "Largest batch whose KV cache fits", t["b_mem"], "sequences",
              _doc(perf.max_batch_for_memory) + " Bytes per sequence = KV x (input_tokens + output_tokens).",
              "sequences whose full-length cache fits beside the weights",
              ["chips_per_replica", "memory_per_chip_gb", o.assumption("memory_usable_fraction"), "weights_gb",
               "kv_bytes_per_token", o.workload_key("input_tokens"), o.workload_key("output_tokens")])
    steps.add("batch_size", "Batch (operating point)", t["batch"], "sequences",
              "b = floor(min(b_slo, b_mem, max_batch_size))", "the SLO, memory and the batch cap all hold",
              ["max_batch_for_slo", "max_batch_for_memory", o.assumption("max_batch_size")])
    steps.add("tpot_ms", "Time per output token", t["tpot_ms"], "ms", _doc(perf.step_time_ms),
              "one decode step at the operating batch", [*terms, "batch_size", "step_overhead_ms"])
    steps.add("ttft_ms", "Time to first token", t["ttft_ms"], "ms", "TTFT = prefill + TPOT",
              "a query's prefill and its first decode step", ["prefill_ms", "tpot_ms"])
    steps.add("latency_ms", "End-to-end latency", t["latency_ms"], "ms", "latency = prefill + TPOT x output_tokens",
              "prefill, then one step per generated token", ["prefill_ms", "tpot_ms", o.workload_key("output_tokens")])
    pools = "serving_mode" in t and _scalar(t["serving_mode"]) == "disaggregated"
    steps.add("tokens_per_s_per_replica", "Generated tokens per second per replica", t["tokens_per_s_replica"],
              "tokens/s", "tokens/s = q/s x output_tokens, q/s of the two pools (prefill_pool_share below)" if pools
              else "tokens/s = b / TPOT x 1000", "every step emits one token per sequence",
              ["batch_size", "tpot_ms"])
    steps.add("queries_per_s_per_replica", "Queries per second per replica", t["qps_replica"], "queries/s",
              "q/s = tokens/s / output_tokens", "generated tokens over tokens per query",
              ["tokens_per_s_per_replica", o.workload_key("output_tokens")])
    if "serving_mode" in t:
        mode = _scalar(t["serving_mode"])
        steps.add("prefill_pool_share", f"Serving mode: {mode} (share of chips in a prefill pool)",
                  t["prefill_pool_share"], "fraction",
                  "disaggregated: share = (t_p / 1000) x q/s, q/s = 1 / (t_p / 1000 + output_tokens / decode "
                  "tokens/s), t_p = prefill FLOPs / FLOPS + collectives of the prompt; TTFT = prefill + KV transfer "
                  "+ TPOT; decode steps carry no prompts (D = 0, no prefill tail)" if mode == "disaggregated" else
                  "aggregated: 0 (prompts ride inside the decode steps: the D term above)",
                  ("assumption serving_mode (aggregated | disaggregated | auto: whichever serves more queries per "
                   "chip); inferchip.disagg. Disaggregated figures are modeled, not validated against measurements"),
                  [o.assumption("serving_mode"), "queries_per_s_per_replica"])
    _measured_step(steps, r)
    _trust_step(steps, r)


def _fixed_steps(steps: _Steps, o: _Origins, t: dict, r: dict) -> None:
    _common_perf_steps(steps, o, t, r, [])
    steps.add("max_batch_for_latency", "Largest batch within the latency SLO", t["b_slo"], "queries",
              _doc(perf.fixed_max_batch_for_latency),
              "a query waits for at most one batch and then runs in the next, so 2 x t(b) <= L",
              [o.workload_key("latency_ms"), "step_overhead_ms", "weights_gb", "effective_bandwidth_tbps",
               o.workload_key("activation_mb_per_query"), o.workload_key("gflops_per_query"),
               "effective_compute_tflops"])
    steps.add("max_batch_for_memory", "Largest batch whose activations fit", t["b_mem"], "queries",
              "b_mem = floor((n x M x u x 10^9 - W) / act)", "in-flight queries whose activations fit beside the weights",
              ["chips_per_replica", "memory_per_chip_gb", o.assumption("memory_usable_fraction"), "weights_gb",
               o.workload_key("activation_mb_per_query")])
    steps.add("batch_size", "Batch (operating point)", t["batch"], "queries",
              "b = floor(min(b_slo, b_mem, max_batch_size))", "the SLO, memory and the batch cap all hold",
              ["max_batch_for_latency", "max_batch_for_memory", o.assumption("max_batch_size")])
    steps.add("batch_time_ms", "Time of one batch", t["batch_time_ms"], "ms", _doc(perf.fixed_batch_time_ms),
              "a roofline: memory traffic or compute, whichever is slower",
              ["weights_gb", "batch_size", o.workload_key("activation_mb_per_query"), "effective_bandwidth_tbps",
               o.workload_key("gflops_per_query"), "effective_compute_tflops", "step_overhead_ms"])
    steps.add("latency_ms", "End-to-end latency", t["latency_ms"], "ms", "latency = 2 x t",
              "waiting for the running batch, then running in the next", ["batch_time_ms"])
    steps.add("queries_per_s_per_replica", "Queries per second per replica", t["qps_replica"], "queries/s",
              "q/s = b / t x 1000", "one batch per batch time", ["batch_size", "batch_time_ms"])
    _measured_step(steps, r)
    _trust_step(steps, r)


def _trust_step(steps: _Steps, r: dict) -> None:
    """Calibration support (inferchip/trust.py): the held-out error of the rows behind the
    chip's efficiency factors, and whether the row rests on thin data."""
    error = r.get("heldout_median_abs_error")
    rows = r.get("calibration_rows")
    steps.add("heldout_median_abs_error", "Held-out error of the calibration behind this chip", error, "fraction",
              "median |predicted / measured - 1| over the fitted rows of the chip's "
              f"{r.get('calibration_scope') or 'group'} in the workload's class, each predicted by a fit without it",
              f"{rows} fitted rows ({r.get('heldout_split') or 'no held-out test'}); thin_data = "
              f"{str(bool(r.get('thin_data'))).lower()} (not measured and < 4 rows or error > 25 %)",
              [{"name": "calibration_rows", "value": rows, "unit": "count", "origin": "calibration",
                "source": "data/heldout.csv (make validate-splits): rows of the chip's family/kind and class"}])


def _measured_step(steps: _Steps, r: dict) -> None:
    """Measured beats modeled: when compare used a benchmark for this chip, the steps
    above are the model's view and this step is the replica rate the fleet is sized on
    (compare's queries per second per accelerator x chips per replica)."""
    if r.get("throughput_source") != "measured":
        return
    reference = r.get("throughput_reference") or "data/benchmarks.csv"
    per_accelerator = r.get("queries_per_s_per_accelerator")
    per_replica = None if per_accelerator is None else per_accelerator * r["chips_per_replica"]
    llm = r.get("tokens_per_s_per_accelerator") is not None
    formula = ("q/s per replica = measured tokens/s per accelerator x n / output_tokens" if llm
               else "q/s per replica = measured samples/s per accelerator x n")
    why = ("the model predicted more than the best rate measured for this chip, model and precision under any "
           "bound, so that measurement caps the modeled rate above" if str(reference).startswith("ceiling")
           else "a measured benchmark of this chip, model and precision under an SLO at least as tight as the "
           "workload's replaces the modeled rate above")
    steps.add("queries_per_s_per_replica_measured", "Queries per second per replica (measured)", per_replica,
              "queries/s", formula, why + "; `inferchip validate` compares the two",
              [{"name": "throughput_reference", "value": str(reference), "unit": "", "origin": "benchmark",
                "source": f"data/benchmarks.csv: {reference}"}, "chips_per_replica"])


def _fleet_steps(steps: _Steps, o: _Origins, t: dict, r: dict) -> None:
    steps.add("peak_queries_per_s", "Peak load", t["peak_qps"], "queries/s",
              "peak = queries_per_day / 86,400 x peak_to_average", "average rate scaled to the busiest time",
              [o.workload_key("queries_per_day"), o.constant("seconds_per_day", SECONDS_PER_DAY, "s", "exact"),
               o.workload_key("peak_to_average")])
    steps.add("replicas", "Replicas", r["replicas"], "count", "replicas = max(1, ceil(peak / (q/s per replica x util)))",
              "enough model copies for the peak at the target utilisation",
              ["peak_queries_per_s", "queries_per_s_per_replica_measured" if "queries_per_s_per_replica_measured"
               in steps.index else "queries_per_s_per_replica", o.assumption("utilisation_target")])
    steps.add("accelerators", "Accelerators", r["accelerators"], "count", "accelerators = replicas x n",
              "every replica spans n chips", ["replicas", "chips_per_replica"])
    steps.add("servers", "Units bought", r["servers"], "count",
              "the cheapest mix (at most two unit types: as many of one as the replicas fill, the rest on another) "
              "of the units in data/purchase_units.csv holding the replicas; no unit listed: the catalog server",
              "one buys servers, boards, racks and instances, not single accelerators",
              ["replicas", "chips_per_replica",
               {"name": "purchase", "value": str(r["purchase"]), "unit": "", "origin": "data",
                "source": f"data/purchase_units.csv: {r['purchase_source']}"}])
    steps.add("accelerators_bought", "Accelerators bought", r["accelerators_bought"], "count",
              "bought = sum of units x accelerators per unit", "", ["servers"])
    steps.add("stranded_accelerators", "Stranded accelerators", r["stranded_accelerators"], "count",
              "stranded = bought - accelerators", "bought but holding no replica", ["accelerators_bought", "accelerators"])
    steps.add("utilisation", "Utilisation of what is bought", r["utilisation"], "fraction",
              "utilisation = (queries_per_day / 86,400) / (bought / n x q/s per replica)",
              "average load over the capacity of every accelerator bought",
              [o.workload_key("queries_per_day"), "accelerators_bought", "chips_per_replica"])
    steps.add("cost_share", "Share charged to the workload", r["cost_share"], "fraction",
              "share = 1 (allocation dedicated) or accelerators / bought (shared)", "",
              [o.assumption("allocation"), "accelerators", "accelerators_bought"])


def _power_steps(steps: _Steps, o: _Origins, t: dict, r: dict) -> None:
    own_power = o.row.get("server_power_kw")
    has_own = isinstance(own_power, float) and not math.isnan(own_power)
    power_inputs = ([o.catalog("server_power_kw", what="power")] if has_own else
                    [o.devices_per_server(), o.catalog("tdp_w"), o.assumption("host_power_fraction")])
    steps.add("server_power_kw", "Power of one unit bought", r["server_power_kw"], "kW",
              "server_kw = provisioned / units bought; a unit's kW = the purchase unit's listed kW, else the catalog "
              "server's: server_power_kw, else devices_per_server x tdp_w x (1 + host_power_fraction) / 1000",
              "the catalog's whole-system power" if has_own else "no system figure: accelerators' TDP plus host share",
              power_inputs)
    cooling = str(o.row.get("cooling", "air")) or "air"
    steps.add("rack_power_budget_kw", "Rack power budget", t["rack_budget_kw"], "kW",
              f"budget = rack_power_budget_{cooling}_kw", f"the budget of a {cooling}-cooled rack",
              [o.catalog("cooling"), o.assumption(f"rack_power_budget_{'liquid' if cooling == 'liquid' else 'air'}_kw")])
    steps.add("servers_per_rack", "Units per full rack", r["servers_per_rack"], "units/rack",
              "servers_per_rack = units / rack_share; rack_share = sum over the unit types bought of units / per_rack, "
              "per_rack = max(1, min(floor(budget / unit kW), floor(rack_units_usable / unit height))); a unit "
              "smaller than the catalog server with no height (a cloud slice) packs at the catalog server's "
              "density: per_rack = catalog servers per rack x devices_per_server / accelerators per unit",
              "power or space binds, whichever is tighter, for each unit type; kw_per_rack, accelerators_per_rack "
              "and queries_per_s_per_rack divide the fleet's kW, accelerators and capacity by rack_share too",
              ["rack_power_budget_kw", "server_power_kw", o.assumption("rack_units_usable"),
               o.catalog("server_rack_units")])
    steps.add("racks", "Racks", r["racks"], "count",
              "racks = max(1, ceil(sum over the unit types bought of units / per_rack of that unit))",
              "two unit types share racks; per_rack as above for each unit's kW and height", ["servers", "servers_per_rack"])
    steps.add("provisioned_power_kw", "Provisioned IT power", t["provisioned_kw"], "kW",
              "provisioned = sum of units x unit max kW (the catalog server's, else TDP x accelerators x "
              "(1 + host_power_fraction))", "what the fleet can draw at full load", ["servers", "server_power_kw"])
    measured = bool(o.row.get("power_source", ""))
    fraction_inputs = ([{"name": "power_profile", "value": str(o.row.get("power_source", "")), "unit": "",
                         "origin": "data", "source": "data/power_profiles.csv"}] if measured else
                       [o.assumption("busy_power_fraction"), o.assumption("idle_power_fraction")])
    steps.add("busy_power_fraction", "Power at full load / maximum", r["busy_power_fraction"], "fraction",
              "busy = the chip's MLPerf-measured fraction, else busy_power_fraction",
              "servers draw less than their rated maximum even flat out", fraction_inputs)
    steps.add("idle_power_fraction", "Power idle / maximum", r["idle_power_fraction"], "fraction",
              "idle = the chip's measured fraction, else idle_power_fraction", "model loaded, no queries",
              fraction_inputs)
    steps.add("avg_power_kw", "Average IT power", r["avg_power_kw"], "kW",
              "avg = provisioned x (idle + (busy - idle) x utilisation); shared: the idle part x cost_share",
              "power follows load: idle floor plus a share proportional to the work",
              ["provisioned_power_kw", "idle_power_fraction", "busy_power_fraction", "utilisation", "cost_share"])
    steps.add("work_energy_per_query_j", "Energy the work itself needs", r["work_energy_per_query_j"], "J",
              "E_work = (busy - idle) x provisioned / bought x n x 1000 / (q/s per replica) x PUE",
              "the floor energy per query approaches as the fleet fills",
              ["busy_power_fraction", "idle_power_fraction", "provisioned_power_kw", "accelerators_bought",
               "chips_per_replica", o.assumption("pue")])
    steps.add("facility_power_kw", "Facility power", r["facility_power_kw"], "kW", "facility = provisioned x PUE",
              "what the site must supply, cooling included", ["provisioned_power_kw", o.assumption("pue")])
    steps.add("energy_per_query_j", "Energy per query", r["energy_per_query_j"], "J",
              "E = avg x PUE x 1000 x 86,400 / queries_per_day", "facility energy per day over queries per day",
              ["avg_power_kw", o.assumption("pue"), o.workload_key("queries_per_day")])


def _cost_steps(steps: _Steps, o: _Origins, t: dict, r: dict, kind: str) -> None:
    hours = o.constant("hours_per_year", HOURS_PER_YEAR, "h", "365 days x 24 h")
    if t["owned"]:
        _owned_cost_steps(steps, o, t, r, hours)
    else:
        steps.add("annual_rent_usd", "Annual rent", t["rent"], "USD/year",
                  "rent = accelerators_bought x cloud_usd_per_hour x 8,760",
                  "on-demand price per accelerator-hour, all year" if t["rented"] else "no cloud price under the policy",
                  ["accelerators_bought", o.catalog("cloud_usd_per_hour", what="cloud"), hours])
        steps.add("annual_software_usd", "Annual software", t["software"], "USD/year",
                  "software = accelerators_bought x software_usd_per_accelerator_year", "licences and support per accelerator",
                  ["accelerators_bought", o.assumption("software_usd_per_accelerator_year")])
        steps.add("annual_opex_usd", "Annual running cost", r["annual_opex_usd"], "USD/year",
                  "opex = rent + software", "renting has no capital cost", ["annual_rent_usd", "annual_software_usd"])
        steps.add("annual_tco_usd", "Annual total cost of ownership", r["annual_tco_usd"], "USD/year",
                  "TCO = opex", "", ["annual_opex_usd"])
    steps.add("annual_queries", "Queries per year", t["annual_queries"], "queries/year",
              "annual queries = queries_per_day x 365", "",
              [o.workload_key("queries_per_day"), o.constant("days_per_year", DAYS_PER_YEAR, "days", "exact")])
    reason = f" (not feasible: {r['infeasible_reason']})" if not r["feasible"] else ""
    steps.add("cost_per_query_usd", "Cost per query", r["cost_per_query_usd"], "USD",
              "cost per query = TCO / annual queries", "the figure compare ranks by" + reason,
              ["annual_tco_usd", "annual_queries"])
    if kind == "llm":
        steps.add("cost_per_million_tokens_usd", "Cost per million generated tokens", r["cost_per_million_tokens_usd"],
                  "USD", "cost per 10^6 tokens = cost per query / output_tokens x 10^6", "generated tokens, as MLPerf counts",
                  ["cost_per_query_usd", o.workload_key("output_tokens"),
                   o.constant("tokens_per_million", TOKENS_PER_MILLION, "tokens", "exact")])
        million = o.constant("tokens_per_million", TOKENS_PER_MILLION, "tokens", "exact")
        steps.add("cost_per_million_tokens_blended_usd", "Cost per million tokens, input and output",
                  r["cost_per_million_tokens_blended_usd"], "USD",
                  "blended = cost per query / (input_tokens + output_tokens) x 10^6",
                  "what to set beside an API's prices at this workload's mix",
                  ["cost_per_query_usd", o.workload_key("input_tokens"), o.workload_key("output_tokens"), million])
        steps.add("input_time_share", "Prefill share of replica time", r["input_time_share"], "fraction",
                  "share = D b / (A + (B + C + D + E) b + O)",
                  "the prompts' prefill work carried by each decode step, over the whole step",
                  ["batch_size"])
        steps.add("cost_per_million_input_tokens_usd", "Cost per million input tokens",
                  r["cost_per_million_input_tokens_usd"], "USD",
                  "input = cost per query x share / input_tokens x 10^6", "the query's cost split by time share",
                  ["cost_per_query_usd", "input_time_share", o.workload_key("input_tokens"), million])
        steps.add("cost_per_million_output_tokens_usd", "Cost per million output tokens",
                  r["cost_per_million_output_tokens_usd"], "USD",
                  "output = cost per query x (1 - share) / output_tokens x 10^6", "",
                  ["cost_per_query_usd", "input_time_share", o.workload_key("output_tokens"), million])


def _owned_cost_steps(steps: _Steps, o: _Origins, t: dict, r: dict, hours: dict) -> None:
    own_price = o.row.get("server_price_usd")
    has_server_price = isinstance(own_price, float) and not math.isnan(own_price)
    price_inputs = ([o.catalog("server_price_usd", what="price")] if has_server_price else
                    [o.catalog("accelerator_price_usd", what="price"), o.devices_per_server(),
                     o.assumption("host_price_fraction")])
    steps.add("server_price_usd", "Price of one unit (the first type bought)", t["price"], "USD",
              "price = the unit's listed price, else server_price_usd x unit accelerators / devices_per_server, "
              "else accelerator_price_usd x unit accelerators x (1 + host_price_fraction)",
              "the catalog's server price" if has_server_price else "no server price: accelerators plus host share",
              price_inputs)
    steps.add("purchase_price_usd", "Price of the units bought", t["purchase_price"], "USD",
              "purchase = sum over the unit types bought of units x unit price",
              "what the purchase costs before network, storage, spares and installation",
              ["servers", "server_price_usd"])
    extras = ("network_capex_fraction", "storage_capex_fraction", "spares_fraction", "installation_fraction")
    steps.add("capex_usd", "Capital", t["capex"], "USD",
              "capex = purchase x (1 + network + storage + spares + installation) x share",
              "servers plus the network, storage, spares and installation they need; the workload's share",
              ["purchase_price_usd", *[o.assumption(k) for k in extras], "cost_share"])
    a = o.inputs.assumptions
    straight = a.values["capital_charge"] == "straight_line"
    capex = t["capex"]
    factor = t["annual_capex"] / capex if capex else float("nan")
    steps.add("capital_recovery_factor", "Capital charge factor", factor, "1/year",
              "1 / n" if straight else "CRF = r (1 + r)^n / ((1 + r)^n - 1)",
              "straight-line depreciation over the life" if straight else
              "the annuity that repays capital and its cost over the life",
              [o.assumption("capital_charge"), o.assumption("cost_of_capital"), o.assumption("server_life_years")])
    steps.add("annual_capex_usd", "Annual capital charge", r["annual_capex_usd"], "USD/year", "capital = capex x CRF",
              "", ["capex_usd", "capital_recovery_factor"])
    steps.add("annual_energy_usd", "Annual energy", r["annual_energy_usd"], "USD/year",
              "energy = avg x PUE x 8,760 x electricity_usd_per_kwh", "average facility power all year",
              ["avg_power_kw", o.assumption("pue"), hours, o.assumption("electricity_usd_per_kwh")])
    if a.values["facility_model"] == "owned":
        steps.add("annual_facility_usd", "Annual facility (owned)", r["annual_facility_usd"], "USD/year",
                  "facility = provisioned x 1000 x (facility_build_usd_per_w x CRF(r, facility_life_years) "
                  "+ facility_opex_usd_per_w_month x 12)", "building amortised over its life, plus its running cost",
                  ["provisioned_power_kw", o.assumption("facility_model"), o.assumption("facility_build_usd_per_w"),
                   o.assumption("facility_life_years"), o.assumption("cost_of_capital"),
                   o.assumption("facility_opex_usd_per_w_month")])
    else:
        steps.add("annual_facility_usd", "Annual colocation", r["annual_facility_usd"], "USD/year",
                  "facility = provisioned x colocation_usd_per_kw_month x 12", "rent on provisioned kW",
                  ["provisioned_power_kw", o.assumption("facility_model"), o.assumption("colocation_usd_per_kw_month"),
                   o.constant("months_per_year", MONTHS_PER_YEAR, "months", "exact")])
    steps.add("annual_maintenance_usd", "Annual maintenance", t["maintenance"], "USD/year",
              "maintenance = purchase x maintenance_fraction_per_year", "support contracts and repairs",
              ["purchase_price_usd", o.assumption("maintenance_fraction_per_year")])
    steps.add("annual_software_usd", "Annual software", t["software"], "USD/year",
              "software = accelerators_bought x software_usd_per_accelerator_year", "licences and support per accelerator",
              ["accelerators_bought", o.assumption("software_usd_per_accelerator_year")])
    steps.add("annual_staff_usd", "Annual staff", t["staff"], "USD/year", "staff = servers x staff_usd_per_server_year",
              "operations staff per server", ["servers", o.assumption("staff_usd_per_server_year")])
    steps.add("annual_opex_usd", "Annual running cost", r["annual_opex_usd"], "USD/year",
              "opex = energy + facility + maintenance + software + staff", "",
              ["annual_energy_usd", "annual_facility_usd", "annual_maintenance_usd", "annual_software_usd",
               "annual_staff_usd"])
    steps.add("annual_tco_usd", "Annual total cost of ownership", r["annual_tco_usd"], "USD/year",
              "TCO = capital + opex", "", ["annual_capex_usd", "annual_opex_usd"])


SOURCE_FIELDS = ("accelerator", "vendor", "catalog_file", "catalog_line", "spec_source", "spec_as_of",
                 "server_price_usd", "accelerator_price_usd", "price_is_estimate", "price_source", "price_as_of",
                 "cloud_usd_per_hour", "cloud_provider", "cloud_basis", "cloud_source", "cloud_as_of",
                 "estimated_columns", "server_power_basis", "notes")


def catalog_sources(chips: pd.DataFrame, accelerators: list[str]) -> list[dict[str, object]]:
    """Where each listed accelerator's specs and prices come from: its catalog file and
    line, spec source and date, price and cloud price with source and date, notes."""
    frame = chips.assign(_key=chips["name"].str.lower()).drop_duplicates("_key", keep="last").set_index("_key")
    frame = frame.reindex([name.lower() for name in accelerators]).reset_index(drop=True)
    bundled = str(bundled_catalog_path())
    frame = frame.assign(
        accelerator=frame["name"], spec_source=frame["source"], spec_as_of=frame["as_of"],
        catalog_file=np.where(frame["catalog_file"] == bundled, "bundled catalog.csv", frame["catalog_file"]),
    )
    for column in SOURCE_FIELDS:
        if column not in frame:
            frame[column] = ""
    return records(frame, list(SOURCE_FIELDS))
