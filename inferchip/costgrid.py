"""Sweeps over money-only assumptions: evaluate's cost formulas per row on the purchase
the pipeline chose, instead of the whole pipeline per row.

A grid that varies the electricity price, PUE, server life, cost of capital, the facility
or the capital charge (MONEY_KEYS) changes no operating point, no fleet size and no power
draw. It changes what is bought only through the sizer's choice of units
(purchase.cheapest_mix), and only for a chip with two or more unit sizes: a chip with
one size buys it whatever it costs. So every other result field of a (grid point,
accelerator) row is fixed by (the row's combination of the other varied keys,
the accelerator, the units chosen):

1. the units chosen are computed per row for the chips with several unit sizes, with the
   sizer's own functions (purchase.unit_costs, mix_counts, mix_pick), each input once per
   distinct value of what it reads;
2. `compare.evaluate` runs once per distinct (other keys, accelerator, units chosen), on
   a grid point that has it, and is kept for the whole sweep; every field that the money
   keys leave alone is taken from it (its purchase is checked to be the one chosen);
3. the money fields (MONEY_FIELDS) are computed per row from that evaluation's
   purchase, power and fleet with evaluate's formulas: the same cost and power functions,
   the same operations in the same order, broadcast over (grid points x accelerators).

The numbers are evaluate's, bit for bit (tests/test_costgrid.py compares every result
field on random grids). A grid that varies no money key goes through evaluate.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from inferchip import cost, fleet, power, purchase, server

# Assumptions that enter only the cost formulas below and the sizer's yardstick (the
# annual cost of a unit): never the operating point, the fleet, power or the rent.
MONEY_KEYS = frozenset({
    "electricity_usd_per_kwh", "pue", "server_life_years", "cost_of_capital", "capital_charge",
    "facility_model", "colocation_usd_per_kw_month", "facility_build_usd_per_w", "facility_life_years",
    "facility_opex_usd_per_w_month", "network_capex_fraction", "storage_capex_fraction", "spares_fraction",
    "installation_fraction", "maintenance_fraction_per_year", "staff_usd_per_server_year",
})
# Result fields that depend on the money keys: computed per row here.
MONEY_FIELDS = frozenset({
    "capex_usd", "annual_capex_usd", "annual_energy_usd", "annual_facility_usd", "annual_opex_usd", "annual_tco_usd",
    "cost_per_query_usd", "cost_per_million_tokens_usd", "cost_per_thousand_queries_usd",
    "cost_per_million_input_tokens_usd", "cost_per_million_output_tokens_usd", "cost_per_million_tokens_blended_usd",
    "cost_per_accelerator_hour_usd", "facility_power_kw", "energy_per_query_j", "work_energy_per_query_j",
})
# Combinations of the other varied keys beyond which a grid goes through evaluate instead:
# each keeps an evaluation per accelerator and purchase for the whole sweep (with --fields
# all about 90 arrays: 512 x 43 chips x 2 purchases x 90 x 8 bytes = 32 MB at most)
OTHER_COMBOS = 512
# What the money formulas read from the representative evaluation (evaluate's trace)
TRACED = ("owned", "rented", "share", "purchase_price", "avg_kw", "provisioned_kw", "software", "rent",
          "units_bought", "accelerators_bought", "annual_queries", "idle_fraction", "busy_fraction")
CHOICE = ("own_index_u", "own_count_u", "own_index_v", "own_count_v")
# ... and from its result fields
BASE_FIELDS = ("feasible", "meets_slo", "accelerators")


class _Gathered:
    """Kept arrays (operating points, representatives) at the chunk's rows, each gathered
    on first use (and shaped `shape`)."""

    def __init__(self, kept: dict[str, np.ndarray], rows: np.ndarray, shape: tuple[int, ...] = (-1,)) -> None:
        self._kept, self._rows, self._shape, self._cache = kept, rows, shape, {}

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._cache:
            self._cache[name] = self._kept[name][self._rows].reshape(self._shape)
        return self._cache[name]

    def uniform(self, name: str):
        """The one value of kept array `name` when it holds a single (non-NaN) value, else None."""
        values = self._kept[name]
        return values[0] if len(values) and (values == values[0]).all() else None

    def rows(self, at: np.ndarray) -> dict[str, np.ndarray]:
        """Every point array at the chunk rows `at`."""
        return {k: v[self._rows[at]] for k, v in self._kept.items()}


def covers(sweep) -> bool:
    """Whether the grid varies a money key over two or more values (else evaluate is as
    fast) and its other keys take at most OTHER_COMBOS combinations (the representatives
    are kept for the whole sweep, see OTHER_COMBOS)."""
    if sweep.cost_cache.get("off"):  # a chunk found a case it does not cover: the rest go through evaluate
        return False
    money = [len(v.values) for v in sweep.varies if v.key in MONEY_KEYS]
    other = math.prod(len(v.values) for v in sweep.varies if v.key not in MONEY_KEYS)
    return bool(money) and math.prod(money) >= 2 and other <= OTHER_COMBOS


def _slot_widths(chips: pd.DataFrame) -> np.ndarray:
    """Per chip: the owned unit slots its sizer looks at when it has two or more unit sizes
    (the only chips whose purchase the money keys can change), else 0."""
    sizes = [chips[purchase.slot_column("own", "size", k)].to_numpy(dtype=float)
             for k in range(purchase.slots(chips, "own"))]
    if not sizes:
        return np.zeros(len(chips), dtype=np.int64)
    listed = np.isfinite(np.stack(sizes, axis=1))
    last = listed.shape[1] - np.argmax(listed[:, ::-1], axis=1)  # one past the last listed slot
    return np.where(listed.sum(axis=1) >= 2, last, 0)


def _choices(sweep, scen: dict[str, np.ndarray], index: tuple[np.ndarray, ...], kept: dict[str, np.ndarray],
             rows: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """The sizer's choice (u index, count_u, v index, count_v) for every row of the chips with
    several unit sizes: (grid points x those chips x 4), as evaluate's purchase.plan("own")
    makes it, with its functions (purchase.unit_costs, sizer_costs, mix_counts, mix_pick).
    Each input is computed once per distinct value of what it reads: a unit's annual cost
    once per combination of the varied keys it reads (the money keys), the replicas and
    the candidates' counts once per (operating point, varied replica keys). Chips are sized
    in groups of equal slot width: the empty slots after a chip's last unit never win, and
    leaving them out leaves every choice as it is."""
    n_c, g = len(sweep.chips), len(index[0])
    several = np.flatnonzero(widths)
    reads = {*cost.UNIT_COST_KEYS, *purchase.UNIT_PRICE_COLUMNS, "devices_per_server"}
    money_first, money = _classes(sweep, index, [i for i, v in enumerate(sweep.varies) if v.key in reads])
    # a grid point's operating points are those of its slot in `kept` (sweep._performance)
    point_slot = rows.reshape(g, n_c)[:, 0] // max(n_c, 1)
    replica_first, replica = _classes(sweep, index,
                                      [i for i, v in enumerate(sweep.varies) if v.key in fleet.DEMAND_KEYS],
                                      point_slot)
    at_points = rows.reshape(g, n_c)[replica_first][:, several]
    per_class = lambda name: np.asarray(scen[name])[replica_first].reshape(-1, 1)  # noqa: E731
    replicas = fleet.replicas_needed(fleet.peak_queries_per_s(per_class("queries_per_day"),
                                                              per_class("peak_to_average")),
                                     kept["qps_replica"][at_points], per_class("utilisation_target"))
    n = kept["n"][at_points]
    catalog = _sizer_catalog(sweep, several, int(widths.max()))
    value = lambda name: (np.asarray(scen[name])[money_first].reshape(-1, 1, 1)  # noqa: E731
                          if name in scen else catalog[name])
    unit_cost = lambda size, price, kw: cost.annual_unit_cost_usd(  # noqa: E731
        size, price, kw, *map(value, cost.UNIT_COST_KEYS))
    *_, annual = purchase.unit_costs(catalog["size"], catalog["price"], catalog["power"],
                                     server.devices_per_server(value("devices_per_server")),
                                     *map(value, purchase.UNIT_PRICE_COLUMNS), unit_cost)
    annual = purchase.sizer_costs(np.broadcast_to(annual, (len(money_first), len(several), catalog["size"].shape[2])))
    out = np.empty((g, len(several), 4))
    for width in np.unique(widths[several]).tolist():
        at = np.flatnonzero(widths[several] == width)
        size = catalog["size"][0, at, :width]
        counts = purchase.mix_counts(replicas[:, at].reshape(-1), n[:, at].reshape(-1),
                                     np.tile(size, (len(replica_first), 1)))
        chosen = purchase.mix_pick(*counts, np.tile(size, (len(replica_first), 1)),
                                   annual[:, at, :width][money].reshape(-1, width),
                                   (replica[:, None] * len(at) + np.arange(len(at))).reshape(-1))
        out[:, at, :] = np.stack([np.asarray(x, dtype=float) for x in chosen], axis=1).reshape(g, len(at), 4)
    return out


def _classes(sweep, index: tuple[np.ndarray, ...], positions: list[int],
             extra: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The grid points (index: per varied key, each point's value index) grouped by their values
    of the varied keys at `positions` (and by `extra`, a code per point): the first point of
    each group and each point's group."""
    g = len(index[0])
    codes = [index[i] for i in positions] + ([extra] if extra is not None else [])
    if not codes:
        return np.zeros(1, dtype=np.int64), np.zeros(g, dtype=np.int64)
    dims = [len(sweep.varies[i].values) for i in positions] + ([int(extra.max()) + 1] if extra is not None else [])
    _, first, group = np.unique(np.ravel_multi_index(codes, dims), return_index=True, return_inverse=True)
    return first, group.reshape(-1)


def _sizer_catalog(sweep, cols: np.ndarray, width: int) -> dict[str, np.ndarray]:
    """The catalog columns the sizer reads for the chips `cols`, shaped to broadcast over
    (grid points x chips x units): the unit slots (1 x chips x width, NaN past a chip's last
    unit), the rest (1 x chips x 1); read once per sweep."""
    kept = sweep.cost_cache.setdefault("catalog", {})
    key = (width, cols.tobytes())
    if key not in kept:
        chips = sweep.chips
        slot = lambda field: np.stack([chips[purchase.slot_column("own", field, k)].to_numpy(dtype=float)[cols]  # noqa: E731
                                       for k in range(width)], axis=1)[None]
        kept[key] = {**{f: slot(f) for f in ("size", "price", "power")},
                     **{name: chips[name].to_numpy(dtype=float)[cols].reshape(1, -1, 1)
                        for name in (*purchase.UNIT_PRICE_COLUMNS, "devices_per_server", *cost.UNIT_COST_KEYS)
                        if name in chips}}
    return kept[key]


def _representatives(sweep, scen: dict[str, np.ndarray], points: _Gathered, grid_points: np.ndarray,
                     names: list[str]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """evaluate on the given grid points x every chip: the result columns `names` and the traced
    arrays, each of length len(grid_points) x chips (scenario-major)."""
    from inferchip.compare import evaluate

    n_c, w = len(sweep.chips), sweep.workload
    rows = (grid_points[:, None] * n_c + np.arange(n_c)[None, :]).reshape(-1)
    from inferchip.trust import TRUST_FIELDS, annotate

    trust = [f for f in names if f in TRUST_FIELDS]
    columns = [f for f in names if f not in TRUST_FIELDS] + (["accelerator", "throughput_source"] if trust else [])
    trace: dict[str, np.ndarray] = {}
    result = evaluate(w.kind, sweep.chips, pd.DataFrame({k: v[grid_points] for k, v in scen.items()}),
                      w.precision, w.kv_precision,
                      points=points.rows(rows), columns=list(dict.fromkeys(columns)),
                      measured=sweep.measured, resolved=True, trace=trace)
    if trust:  # calibration support per row, as compare adds it (trust.py)
        result = annotate(result, sweep.chips, w.kind)
    size = len(rows)
    return ({k: result[k].to_numpy() for k in names},
            {k: np.broadcast_to(trace[k], (size,)).copy() for k in (*TRACED, *CHOICE)})


def results(sweep, scen: dict[str, np.ndarray], index: tuple[np.ndarray, ...], kept: dict[str, np.ndarray],
            rows: np.ndarray, fields: list[str]) -> dict[str, np.ndarray] | None:
    """The result fields `fields` for the chunk's rows (grid points of the scenario columns
    `scen` x accelerators, scenario-major), as evaluate gives them; the operating point of
    row i is `kept[...][rows[i]]` (sweep._performance). None when a representative's
    purchase differs from the one chosen for its rows (then the caller runs evaluate)."""
    chips, n_c, g = sweep.chips, len(sweep.chips), len(index[0])
    points = _Gathered(kept, rows)
    cache = sweep.cost_cache
    if "widths" not in cache:
        cache.update(widths=_slot_widths(chips), slots={}, values=None, traced=None)
    widths = cache["widths"]
    several = widths > 0
    other = [i for i, v in enumerate(sweep.varies) if v.key not in MONEY_KEYS]
    combo = (np.ravel_multi_index([index[i] for i in other], [sweep.shape[i] for i in other]) if other
             else np.zeros(g, dtype=np.int64))
    decision = np.zeros((g, n_c), dtype=np.int64)  # 0: the chip's one choice; else 1 + distinct choice
    choice_bytes = [b""]
    if several.any():
        chosen = _choices(sweep, scen, index, kept, rows, widths)
        flat = chosen.reshape(-1, 4)
        first, code = purchase.distinct_rows(list(flat.T))
        decision[:, several] = 1 + code.reshape(g, -1)
        choice_bytes += [flat[f].tobytes() for f in first.tolist()]
    combo_code, combo_values = pd.factorize(combo)
    key = (combo_code[:, None] * n_c + np.arange(n_c)[None, :]) * len(choice_bytes) + decision
    distinct, first_row, inverse = _unique(key.reshape(-1), len(combo_values) * n_c * len(choice_bytes))
    rep_fields = list(dict.fromkeys([f for f in fields if f not in MONEY_FIELDS and f != "infeasible_reason"]
                                    + list(BASE_FIELDS)))
    slots = cache["slots"]
    wanted = [(int(combo_values[d // len(choice_bytes) // n_c]), int(d // len(choice_bytes) % n_c),
               choice_bytes[d % len(choice_bytes)]) for d in distinct.tolist()]
    new = [i for i, k in enumerate(wanted) if k not in slots]
    if new:
        at_points = first_row[new] // n_c
        reps, rep_index = np.unique(at_points, return_inverse=True)
        values, traced = _representatives(sweep, scen, points, reps, rep_fields)
        at = rep_index.reshape(-1) * n_c + np.array([wanted[i][1] for i in new])
        for i, row in zip(new, at.tolist(), strict=True):
            if wanted[i][2] and not np.array_equal(np.array([traced[k][row] for k in CHOICE], dtype=float),
                                                   np.frombuffer(wanted[i][2], dtype=float), equal_nan=True):
                cache["off"] = True  # evaluate chose other units at the representative: not this fast path's
                return None  # case, and the sweep's later chunks go through evaluate without trying again
        base = 0 if cache["values"] is None else len(cache["values"][rep_fields[0]])
        for j, i in enumerate(new):
            slots[wanted[i]] = base + j
        grow = lambda old, add: add if old is None else {k: np.concatenate([old[k], add[k]]) for k in old}  # noqa: E731
        cache["values"] = grow(cache["values"], {k: v[at] for k, v in values.items()})
        cache["traced"] = grow(cache["traced"], {k: v[at] for k, v in traced.items()})
    slot = np.array([slots[k] for k in wanted], dtype=np.int64)[inverse]
    out = {f: cache["values"][f][slot] for f in fields if f in cache["values"]}
    money = [f for f in fields if f in MONEY_FIELDS]
    if money:
        rep = _Gathered({**cache["traced"], **cache["values"]}, slot, (g, n_c))
        pts = _Gathered(kept, rows, (g, n_c))
        sc = {k: v[:, None] for k, v in scen.items()}
        computed = money_fields(sweep.workload.kind, sc, rep, pts, set(money))
        out.update({f: computed[f].reshape(-1) for f in money})
    return out


def _unique(key: np.ndarray, bound: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """np.unique(key, return_index=True, return_inverse=True) of integers in [0, bound): the
    distinct values (ascending), each one's first position and each position's distinct
    value; through a table of `bound` flags instead of a sort where that is the smaller."""
    if bound > 4 * len(key) + 4096:
        distinct, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        return distinct, first, inverse.reshape(-1)
    present = np.zeros(bound, dtype=bool)
    present[key] = True
    distinct = np.flatnonzero(present)
    inverse = (np.cumsum(present) - 1)[key]
    first = np.empty(len(distinct), dtype=np.int64)
    first[inverse[::-1]] = np.arange(len(key) - 1, -1, -1)  # the last write per value is its first position
    return distinct, first, inverse


def money_fields(kind: str, sc, rep, pts, wanted: set[str] = MONEY_FIELDS) -> dict[str, np.ndarray]:
    """The `wanted` MONEY_FIELDS with compare.evaluate's formulas, in its order of operations;
    arrays broadcast (scenario values `sc` (grid points x 1); the representative's purchase,
    power and fleet `rep` and the operating points `pts` (grid points x accelerators)).
    capex = purchase price x (1 + network + storage + spares + installation) [USD];
    annual capex = capex x CRF(cost of capital, server life) (or / life, straight line);
    energy = average kW x PUE x 8,760 h x price [USD/year]; facility on provisioned kW;
    opex = energy + facility + maintenance + software + staff (owned) or rent + software
    (rented), each x the workload's share; cost per query = TCO / (queries per day x 365)."""
    nan_unless = lambda arr, cond: np.where(cond, arr, np.nan)  # noqa: E731
    out: dict[str, np.ndarray] = {}
    if wanted & set(power.ENERGY_FIELDS):
        energy = power.energy_fields(rep["avg_kw"], rep["provisioned_kw"], rep["accelerators_bought"],
                                     rep["idle_fraction"], rep["busy_fraction"], pts["n"], pts["qps_replica"],
                                     sc["pue"], sc["queries_per_day"], wanted)
        out.update({k: nan_unless(v, rep["meets_slo"]) for k, v in energy.items()})
    if not wanted - out.keys():
        return out
    feasible = rep["feasible"]
    parts = {"capex_usd": "capex", "annual_energy_usd": "energy", "annual_facility_usd": "facility"}
    share = rep.uniform("share")  # a workload that pays for all it buys (dedicated): 1 everywhere
    money = cost.fleet_costs(sc, rep["purchase_price"], rep["avg_kw"], rep["provisioned_kw"], rep["units_bought"],
                             rep["software"], rep["rent"], rep["owned"], rep["rented"],
                             rep["share"] if share is None else share, {parts[f] for f in wanted if f in parts})
    out.update({f: nan_unless(money[part], feasible) for f, part in parts.items() if f in wanted})
    for field, part in (("annual_capex_usd", "annual_capex"), ("annual_opex_usd", "annual_opex")):
        if field in wanted:
            out[field] = nan_unless(money[part], feasible)
    tco = nan_unless(money["tco"], feasible)
    out["annual_tco_usd"] = tco
    if "cost_per_accelerator_hour_usd" in wanted:
        out["cost_per_accelerator_hour_usd"] = cost.per_accelerator_hour_usd(tco, rep["accelerators"])
    per_query = tco / rep["annual_queries"]  # NaN where infeasible, as tco is
    shape = np.shape(tco)
    out_tokens = np.broadcast_to(sc["output_tokens"], shape) if kind == "llm" else np.full(shape, np.nan)
    in_tokens = np.broadcast_to(sc["input_tokens"], shape) if kind == "llm" else np.full(shape, np.nan)
    out["cost_per_query_usd"] = per_query
    out.update(cost.per_query_fields(per_query, pts["input_time_share"], in_tokens, out_tokens, wanted))
    return out
