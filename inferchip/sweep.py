"""Parameter sweeps: a grid over assumption and workload keys x the catalog.

Every grid point is one scenario of the vectorized pipeline (`compare.evaluate`);
the grid is evaluated in chunks of about `CHUNK_ROWS` (grid point x accelerator)
rows so memory stays bounded however large the grid grows. Performance (memory
fit, operating point under the SLO, choice of parallel size) is computed once per
distinct combination of the varied keys that affect it and broadcast to the grid
points that share it; a sweep over economics alone computes it once per chunk. A
grid over money keys (electricity, PUE, server life, cost of capital, facility) goes
further: the rest of the pipeline runs once per (other keys, accelerator, units bought)
and only the cost formulas per row (inferchip.costgrid), with the same numbers.

Grid order: the first `--vary` key changes slowest (like nested loops written in
the order given); inside a grid point, accelerators keep catalog order.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from inferchip import assumptions as assumptions_mod
from inferchip import costgrid
from inferchip.assumptions import Assumptions
from inferchip.calibration import attach_factors
from inferchip.compare import (
    CANDIDATE_SLOTS,
    WORKLOAD_NUMBERS,
    evaluate,
    operating_points,
    prepare_chips,
    scenario_frame,
)
from inferchip.errors import UsageError, did_you_mean, shown
from inferchip.measured import candidates
from inferchip.units import RESULT_FIELDS
from inferchip.workload import Workload

# (grid point x accelerator) rows evaluated at once. The pipeline's intermediates take
# about 4 KB per row (2026-12: a 262,144-row chunk peaked at 1.1 GB; a 516,000-row sweep
# peaked at 476 MB in 65,536-row chunks and 302 MB in 32,768-row ones, no slower)
CHUNK_ROWS_COST_ONLY = 32_768
CHUNK_ROWS = 32_768
# (scenario x accelerator x candidate size) elements per performance batch: small
# enough to stay in cache, which makes the operating-point step about twice as fast
PERF_BATCH_ELEMENTS = 196_608
# Distinct combinations of the performance keys whose operating points a sweep keeps
# for all its chunks (at most this x accelerators x ~30 arrays: about 40 MB for 43 chips)
PERF_CACHE_COMBOS = 4096
MAX_ROWS = 500_000_000  # beyond this a sweep is a typo, not a study
MAX_POINTS_PER_KEY = 10_000_000

# Assumptions the operating point never reads (memory fit, batch, latency, candidate
# choice): varying only these reuses one performance evaluation. Anything not listed
# is treated as affecting performance, which is always correct, only slower.
# tests/test_sweep.py checks each key really leaves the operating points unchanged.
ECONOMIC_KEYS = frozenset({
    "electricity_usd_per_kwh", "pue", "facility_model", "colocation_usd_per_kw_month",
    "facility_build_usd_per_w", "facility_life_years", "facility_opex_usd_per_w_month",
    "server_life_years", "cost_of_capital", "capital_charge", "busy_power_fraction", "idle_power_fraction",
    "network_capex_fraction", "storage_capex_fraction", "spares_fraction", "installation_fraction",
    "maintenance_fraction_per_year", "software_usd_per_accelerator_year", "staff_usd_per_server_year",
    "rack_power_budget_air_kw", "rack_power_budget_liquid_kw", "rack_units_usable",
    "host_price_fraction", "host_power_fraction", "committed_use_discount", "allocation",
})

# Workload keys that apply to one kind only.
LLM_ONLY = frozenset({"params_b", "active_params_b", "layers", "kv_elems_per_token_per_layer", "hidden",
                      "input_tokens", "output_tokens", "ttft_ms", "tpot_ms", "output_tokens_cv", "output_tokens_min"})
FIXED_ONLY = frozenset({"gflops_per_query", "weights_mb", "activation_mb_per_query", "latency_ms"})

# Result columns written per (grid point, accelerator) unless --fields says otherwise.
DEFAULT_FIELDS = ("feasible", "chips_per_replica", "accelerators", "racks", "cost_per_query_usd",
                  "cost_per_million_tokens_usd", "annual_tco_usd", "avg_power_kw", "energy_per_query_j",
                  "infeasible_reason")
# Text columns of the pipeline; the rest of RESULT_FIELDS are numbers or flags.
TEXT_FIELDS = frozenset({"vendor", "kind", "price_basis", "infeasible_reason", "throughput_source",
                         "cloud_provider", "precision_used", "precision_note", "calibration_scope", "heldout_split"})
FLAG_FIELDS = frozenset({"feasible", "meets_slo", "measured_anchor", "thin_data"})


@dataclass(frozen=True)
class Vary:
    """One varied key and its grid values (floats, or choice strings)."""

    key: str
    values: tuple
    spec: str  # as written on the command line, for messages and the document

    @property
    def numeric(self) -> bool:
        return not isinstance(self.values[0], str)

    @property
    def column(self) -> str:
        """Output column of the varied value: the key, or `slo_<key>` for an SLO target
        that is also a result field (tpot_ms, ttft_ms, latency_ms at the operating point)."""
        return f"slo_{self.key}" if self.key in RESULT_FIELDS else self.key


def _number(text: str, where: str) -> float:
    try:
        value = float(text.replace("_", ""))
    except ValueError:
        raise UsageError(f"{where}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise UsageError(f"{where}: {text!r} is not a finite number")
    return value


def parse_vary(text: str) -> Vary:
    """`KEY=START:STOP:N` (N evenly spaced values, ends included), `KEY=START:STOP:N:log`
    (geometric spacing) or `KEY=V1,V2,...` (explicit values, also for choices such as
    facility_model=colocation,owned)."""
    key, sep, spec = text.partition("=")
    key, spec = key.strip(), spec.strip()
    where = f"--vary {shown(text)}"
    example = "e.g. --vary electricity_usd_per_kwh=0.05:0.20:16 or --vary queries_per_day=1e4:1e8:9:log"
    if not sep or not key or not spec:
        raise UsageError(f"{where}: expected KEY=START:STOP:N[:log] or KEY=V1,V2,..., {example}")
    if ":" in spec:
        parts = spec.split(":")
        if len(parts) not in (3, 4) or (len(parts) == 4 and parts[3] not in ("log", "lin")):
            raise UsageError(f"{where}: expected START:STOP:N or START:STOP:N:log, {example}")
        start, stop = _number(parts[0], where), _number(parts[1], where)
        count = _number(parts[2], where)
        if not count.is_integer() or not 1 <= count <= MAX_POINTS_PER_KEY:
            raise UsageError(f"{where}: N must be a whole number from 1 to {MAX_POINTS_PER_KEY:,} (got {shown(parts[2])})")
        if len(parts) == 4 and parts[3] == "log":
            if start <= 0 or stop <= 0:
                raise UsageError(f"{where}: log spacing needs START and STOP > 0")
            values = np.geomspace(start, stop, int(count))
        else:
            values = np.linspace(start, stop, int(count))
        # 12 significant digits: 0.15, not linspace's 0.15000000000000002
        return Vary(key, tuple(float(f"{v:.12g}") for v in values), spec)
    items = [item.strip() for item in spec.split(",") if item.strip()]
    if not items:
        raise UsageError(f"{where}: no values, {example}")
    parsed = [assumptions_mod.parse_scalar(item) for item in items]
    if all(isinstance(v, float) for v in parsed):
        return Vary(key, tuple(_number(item, where) for item in items), spec)
    if any(isinstance(v, float) for v in parsed):
        raise UsageError(f"{where}: mixes numbers and words; give one kind of value")
    return Vary(key, tuple(items), spec)


def check_varies(varies: Sequence[Vary], workload: Workload, assumptions: Assumptions) -> None:
    """Every varied key is known, applies to this workload, is varied once, and every
    value is valid (assumption ranges and choices; workload quantities positive)."""
    if not varies:
        raise UsageError("sweep: give at least one --vary KEY=START:STOP:N, e.g. --vary pue=1.1:1.6:6")
    seen: set[str] = set()
    workload_keys = set(WORKLOAD_NUMBERS)
    for vary in varies:
        where = f"--vary {vary.key}={vary.spec}"
        if vary.key in seen:
            raise UsageError(f"{where}: {vary.key} is varied twice; give one --vary per key")
        seen.add(vary.key)
        if vary.key in assumptions.specs:
            values = vary.values
            if vary.numeric and len(values) > 10_000:  # an interval: its ends and its smallest magnitude
                values = (min(values), max(values), min(values, key=lambda v: abs(v) or math.inf))
            for value in dict.fromkeys(values):
                assumptions_mod.check_value(vary.key, value, where, assumptions.specs)
            continue
        if vary.key in ("precision", "kv_precision"):
            raise UsageError(f"{where}: precision cannot vary inside one sweep (every scenario of a run shares "
                             "the weight and KV formats); run one sweep per --set precision=...")
        if vary.key not in workload_keys:
            choices = list(assumptions.specs) + sorted(workload_keys)
            raise UsageError(f"{where}: unknown key.{did_you_mean(vary.key, choices)} Keys: any assumption in "
                             "data/assumptions.toml or a workload quantity such as queries_per_day, input_tokens, "
                             "output_tokens, tpot_ms, ttft_ms, peak_to_average.")
        wrong_kind = (workload.kind == "llm" and vary.key in FIXED_ONLY) or (
            workload.kind == "fixed" and vary.key in LLM_ONLY)
        if wrong_kind:
            raise UsageError(f"{where}: {vary.key} does not apply to a {workload.kind} workload ({workload.name})")
        if not vary.numeric:
            raise UsageError(f"{where}: {vary.key} takes numbers")
        low = min(vary.values)
        if vary.key == "peak_to_average" and low < 1:
            raise UsageError(f"{where}: peak_to_average must be >= 1 (got {low:g})")
        if vary.key == "activation_mb_per_query" and low < 0:
            raise UsageError(f"{where}: activation_mb_per_query must be >= 0 (got {low:g})")
        if vary.key not in ("peak_to_average", "activation_mb_per_query") and low <= 0:
            raise UsageError(f"{where}: {vary.key} must be > 0 (got {low:g})")
    by_key = {v.key: v for v in varies}
    if workload.kind == "llm" and "active_params_b" in by_key:
        params = by_key["params_b"].values if "params_b" in by_key else (workload.params_b,)
        if max(by_key["active_params_b"].values) > min(params):
            raise UsageError(f"--vary active_params_b={by_key['active_params_b'].spec}: must not exceed "
                             f"params_b ({min(params):g}) anywhere on the grid")
    if workload.kind == "llm" and ("output_tokens_min" in by_key or "output_tokens" in by_key):
        shortest = by_key["output_tokens_min"].values if "output_tokens_min" in by_key else (workload.output_tokens_min,)
        mean = by_key["output_tokens"].values if "output_tokens" in by_key else (workload.output_tokens,)
        if max(shortest) > min(mean):
            where = by_key.get("output_tokens_min", by_key.get("output_tokens"))
            raise UsageError(f"--vary {where.key}={where.spec}: output_tokens_min ({max(shortest):g}) must not exceed "
                             f"output_tokens, the mean ({min(mean):g}), anywhere on the grid")


def check_fields(fields: Sequence[str], kind: str) -> list[str]:
    """The result fields a sweep writes: known names, in the order given ('all': every one)."""
    out: list[str] = []
    if list(fields) == ["all"]:
        fields = list(RESULT_FIELDS)
    for name in fields:
        if name not in RESULT_FIELDS:
            raise UsageError(f"--fields {name}: unknown result field.{did_you_mean(name, list(RESULT_FIELDS))}")
        if name in ("accelerator",) or name in out:
            continue
        out.append(name)
    if kind == "fixed":
        out = [f for f in out if f not in ("cost_per_million_tokens_usd", "tokens_per_s_per_accelerator",
                                           "tpot_ms", "ttft_ms")]
    return out


@dataclass
class Sweep:
    """A planned sweep: inputs, grid and output columns. `chips` carry efficiency factors
    and are prepared for the pipeline (compare.prepare_chips)."""

    workload: Workload
    assumptions: Assumptions
    chips: pd.DataFrame
    varies: list[Vary]
    fields: list[str]
    measured: pd.DataFrame | None = None  # benchmark rows that replace modeled throughput, as in `compare`
    # operating points (and reasons) per combination of the performance keys, filled by the chunks
    performance_cache: dict = field(default_factory=dict, repr=False, compare=False)
    # evaluations kept per (other keys, accelerator, units bought) by the money-key fast path (costgrid)
    cost_cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(v.values) for v in self.varies)

    @property
    def grid_points(self) -> int:
        return math.prod(self.shape)

    @property
    def accelerators(self) -> list[str]:
        return self.chips["name"].tolist()

    @property
    def rows(self) -> int:
        return self.grid_points * len(self.chips)

    @property
    def columns(self) -> list[str]:
        return ["grid_point", *(v.column for v in self.varies), "accelerator", *self.fields]

    @property
    def performance_keys(self) -> list[str]:
        """Varied keys that change the operating point (the rest only change costs)."""
        return [v.key for v in self.varies if v.key not in ECONOMIC_KEYS]


def plan(workload: Workload, assumptions: Assumptions, chips: pd.DataFrame, varies: Sequence[Vary],
         fields: Sequence[str] | None = None) -> Sweep:
    """Validate the grid and the fields; attach efficiency factors to the catalog once."""
    check_varies(varies, workload, assumptions)
    chosen = check_fields(list(fields) if fields else list(DEFAULT_FIELDS), workload.kind)
    ready = prepare_chips(attach_factors(chips, workload_kind=workload.kind), workload.precision)  # once, not per chunk
    sweep = Sweep(workload, assumptions, ready, list(varies), chosen, candidates(workload.preset, workload.precision))
    if sweep.rows > MAX_ROWS:
        raise UsageError(f"--vary: the grid has {sweep.grid_points:,} points x {len(chips)} accelerators = "
                         f"{sweep.rows:,} rows, above the {MAX_ROWS:,}-row limit; use fewer points per key")
    return sweep


def _scenarios(sweep: Sweep, first: int, stop: int) -> tuple[dict[str, np.ndarray], tuple[np.ndarray, ...]]:
    """Scenario columns for grid points [first, stop) (what `pd.DataFrame` makes the
    scenario frame of) and the per-key value index of each grid point."""
    count = stop - first
    index = np.unravel_index(np.arange(first, stop), sweep.shape)
    if "base" not in sweep.performance_cache:  # the workload and assumptions as one scenario, once per sweep
        base = scenario_frame(sweep.workload, sweep.assumptions, 1)
        sweep.performance_cache["base"] = {k: base[k].to_numpy() for k in base.columns}
    columns = {k: np.repeat(v, count) for k, v in sweep.performance_cache["base"].items()}
    for vary, idx in zip(sweep.varies, index, strict=True):
        columns[vary.key] = np.asarray(vary.values, dtype=object if not vary.numeric else float)[idx]
    varied = {v.key for v in sweep.varies}
    dense = sweep.workload.kind == "llm" and sweep.workload.active_params_b == sweep.workload.params_b
    if dense and "params_b" in varied and "active_params_b" not in varied:
        columns["active_params_b"] = columns["params_b"]  # a dense model uses every parameter per token
    return columns, index


def _performance(sweep: Sweep, scen: dict[str, np.ndarray], index: tuple[np.ndarray, ...], want_reasons: bool):
    """Operating points per (grid point, accelerator), computed once per distinct
    combination of the performance keys; and the one-line reasons, likewise. When the
    grid has at most PERF_CACHE_COMBOS such combinations, each is computed once per
    sweep (kept on `sweep`), not once per chunk: a sweep over economics alone
    evaluates performance once. Returns the kept points (arrays over combinations x
    accelerators), the row of each (grid point, accelerator) in them, and the reasons."""
    n_c = len(sweep.chips)
    points_of_chunk = len(index[0]) if index else 0
    positions = [i for i, v in enumerate(sweep.varies) if v.key not in ECONOMIC_KEYS]
    if positions:
        combo = np.ravel_multi_index([index[i] for i in positions], [sweep.shape[i] for i in positions])
        combos, first, inverse = np.unique(combo, return_index=True, return_inverse=True)
    else:
        combos, first = np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64)
        inverse = np.zeros(points_of_chunk, dtype=np.int64)
    keep = math.prod(sweep.shape[i] for i in positions) <= PERF_CACHE_COMBOS
    store = sweep.performance_cache.setdefault(want_reasons, {}) if keep else {}
    slot = store.setdefault("slot", {})
    new = [j for j, c in enumerate(combos.tolist()) if c not in slot]
    if new:
        unique_scen = pd.DataFrame({k: v[first[new]] for k, v in scen.items()})
        kind, w = sweep.workload.kind, sweep.workload
        batch = max(1, PERF_BATCH_ELEMENTS // (n_c * CANDIDATE_SLOTS))
        parts = [operating_points(kind, sweep.chips, unique_scen.iloc[i:i + batch], w.precision, w.kv_precision,
                                  measured=sweep.measured, resolved=True, share_demand=True)
                 for i in range(0, len(unique_scen), batch)]
        pts_u = parts[0] if len(parts) == 1 else {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        table = None
        if want_reasons:
            table = evaluate(kind, sweep.chips, unique_scen, w.precision, w.kv_precision, points=pts_u,
                             columns=["infeasible_reason"], measured=sweep.measured,
                             resolved=True)["infeasible_reason"].to_numpy(dtype=object)
        for j in new:
            slot[int(combos[j])] = len(slot)
        old = store.get("points")
        store["points"] = pts_u if old is None else {k: np.concatenate([old[k], pts_u[k]]) for k in old}
        if table is not None:
            store["reasons"] = table if "reasons" not in store else np.concatenate([store["reasons"], table])
    at = np.array([slot[c] for c in combos.tolist()], dtype=np.int64)
    mine = (at[:, None] * n_c + np.arange(n_c)).reshape(-1)  # this chunk's combinations in the store, in order
    local = np.repeat(inverse.reshape(-1) * n_c, n_c) + np.tile(np.arange(n_c), points_of_chunk)
    rows = mine[local]
    reasons = None
    if want_reasons:  # categories: this chunk's reasons in order of first appearance, as each chunk has them
        codes, labels = pd.factorize(store["reasons"][mine])
        reasons = pd.Categorical.from_codes(codes[local], categories=pd.Index(labels, dtype=object))
    return store["points"], rows, reasons


def evaluate_chunk(sweep: Sweep, first: int, stop: int) -> pd.DataFrame:
    """Result rows for grid points [first, stop): grid_point, the varied keys,
    accelerator and the chosen fields, one row per (grid point, accelerator)."""
    scen, index = _scenarios(sweep, first, stop)
    n_c = len(sweep.chips)
    want_reasons = "infeasible_reason" in sweep.fields
    kept, rows, reasons = _performance(sweep, scen, index, want_reasons)
    w = sweep.workload
    from inferchip.trust import TRUST_FIELDS, annotate

    result = None
    if costgrid.covers(sweep):  # money keys varied: the cost formulas per row, the rest once (costgrid)
        result = costgrid.results(sweep, scen, index, kept, rows, sweep.fields)
    if result is None:
        trust = [f for f in sweep.fields if f in TRUST_FIELDS]
        numeric = [f for f in sweep.fields if f != "infeasible_reason" and f not in TRUST_FIELDS]
        needed = list(dict.fromkeys(numeric + (["accelerator", "throughput_source"] if trust else [])))
        result = evaluate(w.kind, sweep.chips, pd.DataFrame(scen), w.precision, w.kv_precision,
                          points={k: v[rows] for k, v in kept.items()}, columns=needed, measured=sweep.measured,
                          resolved=True)
        if trust:  # calibration support per row, as compare adds it (trust.py)
            result = annotate(result, sweep.chips, w.kind)
    out: dict[str, object] = {"grid_point": np.repeat(np.arange(first, stop), n_c)}
    for vary, idx in zip(sweep.varies, index, strict=True):
        out[vary.column] = np.repeat(np.asarray(vary.values, dtype=object if not vary.numeric else float)[idx], n_c)
    if "accelerators" not in sweep.performance_cache:  # the accelerator column's categories, once per sweep
        sweep.performance_cache["accelerators"] = pd.CategoricalDtype(sweep.accelerators)
    out["accelerator"] = pd.Categorical.from_codes(np.tile(np.arange(n_c), stop - first),
                                                   dtype=sweep.performance_cache["accelerators"], validate=False)
    for name in sweep.fields:
        out[name] = reasons if name == "infeasible_reason" else np.asarray(result[name])
    return pd.DataFrame(out, copy=False)  # each column keeps its array (no copy into 2-D blocks)


def iter_chunks(sweep: Sweep, chunk_rows: int | None = None,
                progress: Callable[[int, int], None] | None = None,
                prefetch: bool = True) -> Iterator[pd.DataFrame]:
    """The sweep's result rows, chunk by chunk (each a DataFrame of whole grid points),
    in grid order. `progress(rows_done, rows_total)` is called after each chunk.
    With `prefetch`, a worker thread evaluates the next chunk while the caller writes
    this one (numpy releases the GIL in array operations, so a 2-core machine overlaps
    evaluation with formatting); memory holds at most two chunks."""
    if chunk_rows is None:
        chunk_rows = CHUNK_ROWS if sweep.performance_keys else CHUNK_ROWS_COST_ONLY
    per_chunk = max(1, chunk_rows // max(1, len(sweep.chips)))
    starts = list(range(0, sweep.grid_points, per_chunk))
    bounds = [(first, min(first + per_chunk, sweep.grid_points)) for first in starts]
    done = 0
    if not prefetch or len(bounds) == 1:
        for first, stop in bounds:
            chunk = evaluate_chunk(sweep, first, stop)
            done += len(chunk)
            if progress is not None:
                progress(done, sweep.rows)
            yield chunk
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sweep") as pool:
        pending = pool.submit(evaluate_chunk, sweep, *bounds[0])
        for i in range(len(bounds)):
            chunk = pending.result()
            if i + 1 < len(bounds):
                pending = pool.submit(evaluate_chunk, sweep, *bounds[i + 1])
            done += len(chunk)
            if progress is not None:
                progress(done, sweep.rows)
            yield chunk


def winners(chunk: pd.DataFrame, sweep: Sweep) -> pd.DataFrame:
    """Per grid point: the cheapest feasible accelerator (by cost per query), its
    fields, the runner-up and how much dearer it is. A grid point where nothing is
    feasible has an empty winner."""
    n_c = len(sweep.chips)
    points = len(chunk) // n_c
    cost = chunk["cost_per_query_usd"].to_numpy(dtype=float).reshape(points, n_c)
    masked = np.where(np.isfinite(cost), cost, np.inf)
    order = np.argsort(masked, axis=1, kind="stable")
    best, second = order[:, 0], order[:, 1] if n_c > 1 else order[:, 0]
    rows = np.arange(points)
    has_best = np.isfinite(masked[rows, best])
    has_second = np.isfinite(masked[rows, second]) & (n_c > 1)
    pick = rows * n_c + best
    names = np.asarray(sweep.accelerators, dtype=object)
    out: dict[str, object] = {"grid_point": chunk["grid_point"].to_numpy()[pick]}
    for vary in sweep.varies:
        out[vary.column] = chunk[vary.column].to_numpy()[pick]
    out["winner"] = np.where(has_best, names[best], "")
    for name in sweep.fields:
        if name in ("feasible", "infeasible_reason"):
            continue
        out[name] = np.where(has_best, chunk[name].to_numpy()[pick], np.nan)
    out["runner_up"] = np.where(has_second, names[second], "")
    out["runner_up_cost_per_query_usd"] = np.where(has_second, masked[rows, second], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["runner_up_premium_fraction"] = np.where(
            has_best & has_second, masked[rows, second] / masked[rows, best] - 1.0, np.nan)
    out["feasible_accelerators"] = np.isfinite(masked).sum(axis=1)
    return pd.DataFrame(out)


def winner_columns(sweep: Sweep) -> list[str]:
    fields = [f for f in sweep.fields if f not in ("feasible", "infeasible_reason")]
    return ["grid_point", *(v.column for v in sweep.varies), "winner", *fields, "runner_up",
            "runner_up_cost_per_query_usd", "runner_up_premium_fraction", "feasible_accelerators"]


def chart_slice(sweep: Sweep, chunk: pd.DataFrame, key: str) -> pd.DataFrame:
    """The rows of a chunk on the chart's slice: every varied key other than `key`
    held at its middle grid value."""
    held = chart_held_values(sweep, key)
    column = {v.key: v.column for v in sweep.varies}
    mask = np.ones(len(chunk), dtype=bool)
    for other, value in held.items():
        mask &= chunk[column[other]].to_numpy() == value
    return chunk.loc[mask, [column[key], "accelerator", "cost_per_query_usd"]]


def chart_held_values(sweep: Sweep, key: str) -> dict[str, object]:
    keys = [v.key for v in sweep.varies]
    if key not in keys:
        raise UsageError(f"--chart-key {shown(key)}: not a varied key; choose one of {', '.join(keys)}")
    axis = keys.index(key)
    if not sweep.varies[axis].numeric:
        raise UsageError(f"--chart-key {shown(key)}: a chart needs a numeric key ({shown(key)} takes words)")
    return {v.key: v.values[len(v.values) // 2] for i, v in enumerate(sweep.varies) if i != axis}


def chart_series(sweep: Sweep, part: pd.DataFrame, key: str, top: int) -> dict[str, object]:
    """Cost per query against `key` on the chart slice for the `top` accelerators
    (cheapest by median cost over the slice), as JSON-ready lists (None = infeasible)."""
    column = {v.key: v.column for v in sweep.varies}[key]
    wide = part.pivot_table(index=column, columns="accelerator", values="cost_per_query_usd", observed=False,
                            aggfunc="first", dropna=False)
    ranked = wide.median(axis=0, skipna=True).dropna().sort_values(kind="mergesort")
    chosen = [str(name) for name in ranked.index[:top]]
    return {"key": key, "x": [float(x) for x in wide.index], "held": chart_held_values(sweep, key),
            "series": {name: [None if not np.isfinite(y) else float(y) for y in wide[name].to_numpy(dtype=float)]
                       for name in chosen}}


def document_head(sweep: Sweep, catalog_source: str, winners_only: bool) -> dict[str, object]:
    """The JSON document around the rows: inputs, the grid and the column list."""
    from inferchip.document import clean_number, header

    grid = [{"key": v.key, "column": v.column, "spec": v.spec, "points": len(v.values),
             "affects": "cost only" if v.key in ECONOMIC_KEYS else "performance and cost",
             "values": [clean_number(x) for x in v.values]} for v in sweep.varies]
    return {
        **header("sweep", sweep.workload, sweep.assumptions, catalog_source),
        "grid": grid,
        "grid_points": sweep.grid_points,
        "accelerators": sweep.accelerators,
        "rows": sweep.grid_points if winners_only else sweep.rows,
        "winners_only": winners_only,
        "columns": winner_columns(sweep) if winners_only else sweep.columns,
    }
