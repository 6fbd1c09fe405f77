"""Monte Carlo over the assumptions and the model's efficiency factors.

Each sample draws every numeric assumption from its documented distribution
(data/assumptions.toml: `low`, `high` and optionally `distribution`; the default
is triangular(low, value, high)) and one efficiency multiplier per calibration
group (chip family, else kind) from the calibration error. The whole sample set
is evaluated by the vectorized pipeline in batches (performance in paired mode:
sample i's chip rows carry sample i's factors), never one sample at a time.

Distributions:
- triangular(low, mode = the default value, high): the default for every key
  with a documented range;
- uniform(low, high) and loguniform(low, high): where a key says so;
- fixed: a key whose value is a choice rather than an uncertainty, a key you set
  yourself (workload [economics], --assumptions, --set: you know its value), and
  the choice-valued keys (facility_model, capital_charge).
Efficiency multiplier m = exp(e), e ~ Normal(0, sigma), sigma = ln(1 + E) / 0.6745,
with E the held-out median absolute error of the group's calibration rows in the
workload's class (data/heldout.csv via trust.group_support: the time split, fit on
MLPerf v4.x and predicting v5.1, where the group has v5.1 rows, else leave-one-out),
else data/calibration.csv `loo_median_abs_error` (the family's row, else the kind's,
else the fit over all rows), so that the median |e| matches ln(1 + E).
It multiplies compute_efficiency, memory_efficiency and attention_efficiency
(capped at 1). Rows whose throughput is measured (data/benchmarks.csv) keep it.
Catalog values that are estimates (data/catalog_ranges.csv: prices, power, peak
compute, bandwidth) are drawn per chip from triangular(low, catalog value, high), and
so are listed purchase-unit prices with a range (data/purchase_units.csv
unit_price_low_usd / unit_price_high_usd); a derived unit price follows the drawn
catalog prices it comes from.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from inferchip import estimates, purchase
from inferchip.assumptions import Assumptions
from inferchip.calibration import attach_factors, for_workload, read_calibration
from inferchip.compare import (
    CANDIDATE_SLOTS,
    evaluate,
    operating_points,
    resolve_precision,
    scenario_frame,
)
from inferchip.data_files import data_path
from inferchip.errors import InputError, UsageError
from inferchip.interconnect import attach_interconnect
from inferchip.limits import check_uncertainty
from inferchip.measured import candidates
from inferchip.measured import match as match_measured
from inferchip.sweep import ECONOMIC_KEYS
from inferchip.tomlfile import read_toml
from inferchip.units import COMPUTE_COLUMN
from inferchip.workload import Workload

DISTRIBUTIONS = ("triangular", "uniform", "loguniform", "fixed")
SAMPLED_FACTORS = ("compute_efficiency", "memory_efficiency", "attention_efficiency")
MEDIAN_ABS_NORMAL = 0.6744897501960817  # median of |Z| for a standard normal Z
BATCH_ELEMENTS = 196_608  # (sample x accelerator x candidate size) per performance batch
MAX_SAMPLES = 10_000_000
# Ranged catalog columns the performance step reads (the rest are prices and power).
PERF_CATALOG_COLUMNS = ("memory_gb", "memory_bw_tbps", "sram_mb", "fp16_tflops", "bf16_tflops", "fp8_tflops",
                        "fp4_tflops", "int8_tops", "int4_tops")
QUANTILES = (10, 50, 90)


@dataclass(frozen=True)
class Distribution:
    """How one assumption is drawn."""

    key: str
    kind: str  # triangular | uniform | loguniform | fixed
    value: float | str
    low: float | None
    high: float | None
    why: str  # the source of the range, or why the key is held fixed

    def as_dict(self) -> dict[str, object]:
        params = {"low": self.low, "mode": self.value, "high": self.high} if self.kind == "triangular" else (
            {"low": self.low, "high": self.high} if self.kind in ("uniform", "loguniform") else {"value": self.value})
        return {"key": self.key, "distribution": self.kind, **params, "source": self.why}


def distributions(assumptions: Assumptions, path=None) -> list[Distribution]:
    """The distribution of every assumption, in data/assumptions.toml order."""
    path = path or data_path("assumptions.toml")
    raw = read_toml(path)
    out = []
    for key, spec in assumptions.specs.items():
        value = assumptions.values[key]
        entry = raw.get(key, {}) if isinstance(raw.get(key), dict) else {}
        kind = entry.get("distribution", "triangular")
        if kind not in DISTRIBUTIONS:
            raise InputError(f"{path}: [{key}] distribution = {kind!r}: must be one of {', '.join(DISTRIBUTIONS)}")
        origin = assumptions.origins.get(key, "default")
        if isinstance(value, str) or spec.low is None or spec.high is None:
            out.append(Distribution(key, "fixed", value, None, None, "a choice, not an uncertainty"))
        elif origin != "default":
            out.append(Distribution(key, "fixed", value, None, None, f"set by {origin}"))
        elif kind == "fixed":
            out.append(Distribution(key, "fixed", value, None, None,
                                    entry.get("distribution_note", "held at its value")))
        else:
            low, high = float(spec.low), float(spec.high)
            if not low <= float(value) <= high:
                raise InputError(f"{path}: [{key}] value {value} lies outside low..high ({low}..{high})")
            if kind == "loguniform" and low <= 0:
                raise InputError(f"{path}: [{key}] loguniform needs low > 0 (got {low})")
            out.append(Distribution(key, kind, float(value), low, high, spec.source))
    return out


def efficiency_groups(chips: pd.DataFrame, calibration: pd.DataFrame | None = None, workload_kind: str = "llm",
                      heldout: pd.DataFrame | None = None):
    """Per chip: its calibration group ('family X' or 'kind Y'), and per group the
    sigma of the log-normal efficiency multiplier and the error it came from: the group's
    held-out median |error| for the workload's class (trust.group_support: time split where
    the group has MLPerf v5.1 rows, else leave-one-out; data/heldout.csv), else the
    leave-one-out error published with the calibration."""
    cal = for_workload(read_calibration() if calibration is None else calibration, workload_kind)
    if heldout is None:
        from inferchip.validate_split import read_heldout

        heldout = read_heldout()
    held = _held_out_errors(heldout, workload_kind)
    if "loo_median_abs_error" not in cal:
        return np.array([""] * len(chips), dtype=object), {}
    families = cal[cal["scope"] == "family"].set_index("key")["loo_median_abs_error"]
    kinds = cal[cal["scope"] == "kind"].set_index("key")["loo_median_abs_error"]
    overall = cal[(cal["scope"] == "fit") & (cal["key"] == "all")]["loo_median_abs_error"]
    fallback = float(overall.iloc[0]) if len(overall) and np.isfinite(overall.iloc[0]) else math.nan
    fam = chips["family"].str.lower().to_numpy(dtype=object)
    kind = chips["kind"].str.lower().to_numpy(dtype=object)
    in_family = np.isin(fam, families.index.to_numpy(dtype=object))
    group = np.where(in_family, "family " + fam, "kind " + kind).astype(object)
    sigma: dict[str, tuple[float, str]] = {}
    for name in sorted(set(group.tolist())):
        scope, key = name.split(" ", 1)
        table = families if scope == "family" else kinds
        error = float(table.get(key, math.nan))
        where = f"calibration {scope} {key}: leave-one-out median |error| {error:.3g}"
        if name in held and np.isfinite(held[name][0]):
            error, split = held[name]
            where = f"calibration {scope} {key}: held-out ({split}) median |error| {error:.3g} (data/heldout.csv)"
        if not np.isfinite(error):
            error = fallback
            where = f"calibration {scope} {key} has no error estimate: the fit over all rows, {error:.3g}"
        if np.isfinite(error):
            sigma[name] = (math.log1p(error) / MEDIAN_ABS_NORMAL, where)
    return group, sigma


def _held_out_errors(heldout: pd.DataFrame, workload_kind: str) -> dict[str, tuple[float, str]]:
    """'family X' / 'kind Y' -> (held-out median |error|, split) for the workload's class."""
    if heldout is None or heldout.empty:
        return {}
    from inferchip.trust import group_support

    support = group_support(heldout, workload_kind)
    return {g: (float(e), str(sp)) for g, e, sp in zip(support["group"], support["error"], support["split"], strict=True)
            if g != "class"}


def draw(dists: list[Distribution], groups: list[str], sigmas: dict[str, tuple[float, str]], samples: int,
         seed: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Sampled assumption columns (one array per non-fixed key) and efficiency
    multipliers (samples x groups), drawn in a fixed order from one seeded generator."""
    rng = np.random.default_rng(seed)
    columns: dict[str, np.ndarray] = {}
    for d in dists:
        if d.kind == "triangular":
            columns[d.key] = (np.full(samples, d.value) if d.low == d.high
                              else rng.triangular(d.low, d.value, d.high, samples))
        elif d.kind == "uniform":
            columns[d.key] = rng.uniform(d.low, d.high, samples)
        elif d.kind == "loguniform":
            columns[d.key] = np.exp(rng.uniform(math.log(d.low), math.log(d.high), samples))
    multipliers = np.ones((samples, len(groups)))
    for j, name in enumerate(groups):
        if name in sigmas:
            multipliers[:, j] = np.exp(rng.normal(0.0, sigmas[name][0], samples))
    return columns, multipliers


@dataclass
class Result:
    summary: pd.DataFrame  # one row per accelerator
    distributions: list[Distribution]
    efficiency: dict[str, tuple[float, str]]
    samples: int
    seed: int
    no_feasible_fraction: float
    catalog_ranges: list[dict[str, object]] | None = None  # estimated catalog values drawn per sample


def run(workload: Workload, assumptions: Assumptions, chips: pd.DataFrame, samples: int, seed: int,
        progress: Callable[[int, int], None] | None = None, measured: pd.DataFrame | None = None,
        threads: int = 2, sample_efficiency: bool = True, calibration: pd.DataFrame | None = None,
        sample_catalog: bool = True) -> Result:
    """p10 / p50 / p90 of cost per query per accelerator over `samples` draws, the
    fraction of draws where it is feasible and where it is the cheapest.
    `sample_efficiency=False` holds the efficiency factors at their calibrated values;
    `calibration` (a --calibration table) gives their spread, else data/calibration.csv;
    `sample_catalog=False` holds estimated catalog values (data/catalog_ranges.csv) at their values."""
    if not 1 <= samples <= MAX_SAMPLES:
        raise UsageError(f"--samples {samples}: must be from 1 to {MAX_SAMPLES:,}")
    if seed < 0:
        raise UsageError(f"--seed {seed}: must be 0 or more")
    chips = attach_factors(chips, workload_kind=workload.kind).reset_index(drop=True)
    kind, precision, kv = workload.kind, workload.precision, workload.kv_precision
    base_scen = scenario_frame(workload, assumptions, 1)
    if measured is None:  # measured beats modeled, as in `compare`
        measured = candidates(workload.preset, workload.precision)
    extra = {"measured": measured}
    base = evaluate(kind, chips, base_scen, precision, kv, **extra)
    # the keys that pick a benchmark row (tokens, SLO) are workload keys, never sampled:
    # keep only the rows that match at the base case, so each batch matches against few
    resolved = resolve_precision(chips, precision)
    keys = ("input_tokens", "output_tokens", "ttft_ms", "tpot_ms") if kind == "llm" else (
        "gflops_per_query", "latency_ms")
    names, used_precision = resolved["name"].to_numpy(), resolved["precision_used"].to_numpy()
    at_base = {k: np.full(len(chips), float(base_scen[k].iloc[0])) for k in keys}
    _, used = match_measured(kind, measured, names, used_precision, at_base)
    # ... and the rows that can cap a modeled rate (best measured under any bound)
    unbounded = {k: (np.full(len(chips), np.inf) if k in ("ttft_ms", "tpot_ms", "latency_ms") else v)
                 for k, v in at_base.items()}
    _, ceiling = match_measured(kind, measured, names, used_precision, unbounded)
    keep = np.unique(np.concatenate([used[used >= 0], ceiling[ceiling >= 0]]))
    extra = {"measured": measured.iloc[keep].reset_index(drop=True)}
    dists = distributions(assumptions)
    group, sigmas = (efficiency_groups(chips, calibration, workload_kind=kind) if sample_efficiency
                     else (np.full(len(chips), "", dtype=object), {}))
    groups = sorted(set(group.tolist()) - {""})
    # catalog facts no draw can change leave a chip without a cost in every sample: no price,
    # no peak compute at any usable precision, or owned without a known server power
    basis = base["price_basis"].to_numpy()
    never = ((basis == "unpriced") | (base["precision_used"].to_numpy() == "")
             | ((basis == "owned") & ~np.isfinite(base["server_power_kw"].to_numpy(dtype=float))))
    live = np.flatnonzero(~never)
    ranged_values = 0
    if sample_catalog and len(live):  # compact catalog draws, and full (samples x live chips) unit-price grids
        live_rows = chips.iloc[live].reset_index(drop=True)
        unit_slots = purchase.ranged_unit_prices(purchase.attach_units(live_rows))["slot"].nunique()
        ranged_values = estimates.ranged_count(live_rows) + unit_slots * len(live)
    check_uncertainty(samples, len(chips), sum(d.kind != "fixed" for d in dists) + len(groups),
                      ranged_values)  # before any draw
    columns, multipliers = draw(dists, groups, sigmas, samples, seed)

    costs = np.full((samples, len(chips)), np.nan)
    if len(live):
        live_chips = attach_interconnect(resolve_precision(chips.iloc[live].reset_index(drop=True), precision))
        # the performance step reads numbers and the precision; tiling text columns per sample costs time
        slim = live_chips[[c for c in live_chips.columns
                           if pd.api.types.is_numeric_dtype(live_chips[c]) or pd.api.types.is_bool_dtype(live_chips[c])
                           or c in ("name", "kind", "family", "cooling", "precision_used")]]
        slim = slim.assign(precision_used=pd.Categorical(slim["precision_used"]))
        # estimated catalog values (data/catalog_ranges.csv): triangular(low, value, high) per sample and chip,
        # from a generator of their own so the assumption draws stay as they were
        ranged = estimates.draw_values(live_chips, samples, np.random.default_rng([seed, 11])) if sample_catalog else {}
        live_chips = purchase.attach_units(live_chips)  # after `slim`: the performance step never reads units
        if sample_catalog:  # ranged listed unit prices, from a generator of their own (the other draws stay)
            ranged.update(purchase.draw_unit_prices(live_chips, samples, np.random.default_rng([seed, 13])))
        perf_ranged = {c: v for c, v in ranged.items() if c in PERF_CATALOG_COLUMNS}
        cost_ranged = {c: v for c, v in ranged.items() if c not in PERF_CATALOG_COLUMNS}
        peak_from = {c: (live_chips["precision_used"].map(COMPUTE_COLUMN) == c).to_numpy() for c in perf_ranged}
        group_col = np.array([groups.index(g) if g in groups else -1 for g in group[live].tolist()])
        n_live = len(live)
        batch = max(1, BATCH_ELEMENTS // (n_live * CANDIDATE_SLOTS))
        # the performance step never reads the cost-only keys (tests/test_sweep.py checks they
        # leave it unchanged; a read would fail loudly here): do not repeat them per chip
        perf_columns = [c for c in base_scen.columns if c not in ECONOMIC_KEYS]
        sampled_perf = [k for k in columns if k in perf_columns]
        # frames for a full batch, built once: a batch only swaps in its sampled columns
        full = {"scen": base_scen.iloc[np.zeros(batch, dtype=np.int64)].reset_index(drop=True),
                "tiled": slim.iloc[np.tile(np.arange(n_live), batch)].reset_index(drop=True),
                "pairs": base_scen[perf_columns].iloc[np.zeros(batch * n_live, dtype=np.int64)].reset_index(drop=True)}

        def evaluate_batch(first: int) -> int:
            stop = min(first + batch, samples)
            count = stop - first
            scen, tiled, pairs = full["scen"], full["tiled"], full["pairs"]
            if count < batch:
                scen, tiled, pairs = scen.iloc[:count], tiled.iloc[:count * n_live], pairs.iloc[:count * n_live]
            scen = scen.assign(**{k: v[first:stop] for k, v in columns.items()})
            if groups:
                mult = np.where(group_col >= 0, multipliers[first:stop][:, np.maximum(group_col, 0)], 1.0).reshape(-1)
                tiled = tiled.assign(**{f: np.minimum(tiled[f].to_numpy(dtype=float) * mult, 1.0)
                                        for f in SAMPLED_FACTORS if f in tiled})
            if perf_ranged:
                drawn = {c: _block(v, first, stop).reshape(-1) for c, v in perf_ranged.items()}
                peak = tiled["peak_tflops"].to_numpy(dtype=float)
                for c, v in drawn.items():
                    peak = np.where(np.tile(peak_from[c], count), v, peak)
                tiled = tiled.assign(**drawn, peak_tflops=peak)
            pairs = pairs.assign(**{k: np.repeat(columns[k][first:stop], n_live) for k in sampled_perf})
            points = operating_points(kind, tiled, pairs, precision, kv, paired=True, resolved=True)
            result = evaluate(kind, live_chips, scen, precision, kv, points=points, columns=["cost_per_query_usd"],
                              chip_values={c: _block(v, first, stop).reshape(-1) for c, v in cost_ranged.items()}, **extra)
            costs[first:stop, live] = result["cost_per_query_usd"].to_numpy(dtype=float).reshape(count, n_live)
            return stop

        # batches are independent and write disjoint rows of `costs`; numpy releases the
        # GIL inside array operations, so two threads use both cores of a small machine
        starts = range(0, samples, batch)
        if len(starts) > 1 and threads > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=threads) as pool:
                for done, _ in enumerate(pool.map(evaluate_batch, starts), start=1):
                    if progress is not None:
                        progress(min(done * batch, samples), samples)
        else:
            for first in starts:
                stop = evaluate_batch(first)
                if progress is not None:
                    progress(stop, samples)
    drawn = estimates.applicable(chips.iloc[live].reset_index(drop=True)) if sample_catalog and len(live) else None
    ranges = [] if drawn is None else [
        {"accelerator": str(chips["name"].iat[live[p]]), "column": c, "distribution": "triangular", "low": lo,
         "mode": v, "high": hi, "basis": b, "source": src}
        for p, c, lo, v, hi, b, src in zip(drawn["position"], drawn["column"], drawn["low"], drawn["value"],
                                           drawn["high"], drawn["basis"], drawn["source"], strict=True) if hi > lo]
    if drawn is not None:  # listed purchase-unit prices drawn the same way
        units = purchase.ranged_unit_prices(purchase.attach_units(chips.iloc[live].reset_index(drop=True)))
        ranges += [{"accelerator": a, "column": f"unit_price_usd ({u})", "distribution": "triangular", "low": lo,
                    "mode": v, "high": hi, "basis": "estimate", "source": f"data/purchase_units.csv: {src}"}
                   for a, u, lo, v, hi, src in zip(units["accelerator"], units["unit"], units["low"], units["value"],
                                                   units["high"], units["source"], strict=True)]
    return Result(_summarise(costs, base), dists, {g: sigmas[g] for g in groups if g in sigmas}, samples, seed,
                  float(np.mean(~np.isfinite(costs).any(axis=1))), ranges)


def _block(values, first: int, stop: int) -> np.ndarray:
    """Samples [first, stop) x chips of drawn values: a compact estimates.DrawnColumn or a
    full (samples x chips) array (purchase.draw_unit_prices)."""
    return values.rows(first, stop) if isinstance(values, estimates.DrawnColumn) else values[first:stop]


def _summarise(costs: np.ndarray, base: pd.DataFrame) -> pd.DataFrame:
    """Per accelerator: quantiles over feasible draws, feasible fraction, P(cheapest)."""
    finite = np.isfinite(costs)
    feasible_fraction = finite.mean(axis=0)
    masked = np.where(finite, costs, np.inf)
    winner = np.argmin(masked, axis=1)
    has_winner = finite.any(axis=1)
    wins = np.bincount(winner[has_winner], minlength=costs.shape[1]) / len(costs)
    quantiles = np.full((len(QUANTILES), costs.shape[1]), np.nan)
    any_feasible = finite.any(axis=0)
    if any_feasible.any():
        with np.errstate(all="ignore"):
            quantiles[:, any_feasible] = np.nanpercentile(costs[:, any_feasible], QUANTILES, axis=0)
    frame = pd.DataFrame({
        "accelerator": base["accelerator"].astype(str).to_numpy(),
        "price_basis": base["price_basis"].to_numpy(),
        "base_cost_per_query_usd": base["cost_per_query_usd"].to_numpy(dtype=float),
        "p10_cost_per_query_usd": quantiles[0], "p50_cost_per_query_usd": quantiles[1],
        "p90_cost_per_query_usd": quantiles[2],
        "feasible_fraction": feasible_fraction, "probability_cheapest": wins,
        "base_infeasible_reason": base["infeasible_reason"].astype(str).to_numpy(),
    })
    order = np.lexsort((frame["accelerator"].str.lower().to_numpy(), frame["p50_cost_per_query_usd"].fillna(np.inf)
                        .to_numpy(), -frame["probability_cheapest"].to_numpy(), np.isnan(quantiles[1])))
    return frame.iloc[order].reset_index(drop=True)


def document(result: Result, workload: Workload, assumptions: Assumptions, catalog_source: str,
             top: int | None = None) -> dict[str, object]:
    from inferchip.document import header, records

    rows = result.summary.head(top) if top else result.summary
    return {
        **header("uncertainty", workload, assumptions, catalog_source),
        "samples": result.samples,
        "seed": result.seed,
        "no_feasible_fraction": result.no_feasible_fraction,
        "distributions": [d.as_dict() for d in result.distributions if d.kind != "fixed"],
        "held_fixed": [d.as_dict() for d in result.distributions if d.kind == "fixed"],
        "catalog_estimates": result.catalog_ranges or [],
        "efficiency_multipliers": [{"group": g, "distribution": "lognormal", "sigma": round(s, 6), "source": why}
                                   for g, (s, why) in result.efficiency.items()],
        "results": records(rows),
    }
