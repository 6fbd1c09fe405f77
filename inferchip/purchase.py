"""Purchase units: the configurations one can buy or rent for a chip, and the
cheapest combination of them that serves the peak.

`data/purchase_units.csv` lists, per accelerator and basis (own | rent), the units
on sale (1/2/4/8-GPU servers, HGX boards, NVL72 racks, cloud instance sizes) with
their source; a rented unit names its cloud `provider`, and a chip is rented on the
instance sizes of the provider its cloud price comes from (`cloud_provider`, set by
`--cloud-provider`). A chip with no listed unit for a basis (or for its provider)
falls back to what the catalog says: one server of `devices_per_server` to own, one
accelerator-hour to rent. The units are spread onto the catalog frame as fixed-width array
columns (`own_unit_size_0`, ...), so the sizer is plain array maths over
(rows x units) with no per-row Python.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from inferchip import server
from inferchip.csvfile import empty_cells, read_csv_rows, require_columns
from inferchip.data_files import data_path
from inferchip.errors import InputError
from inferchip.runcache import persistent

BASES = ("own", "rent")
UNIT_COLUMNS = ("accelerator", "basis", "provider", "unit", "accelerators_per_unit", "unit_price_usd", "unit_price_low_usd",
                "unit_price_high_usd", "price_is_estimate", "unit_max_power_kw", "unit_rack_units", "source",
                "as_of", "notes")
_NUMBERS = ("accelerators_per_unit", "unit_price_usd", "unit_price_low_usd", "unit_price_high_usd",
            "unit_max_power_kw", "unit_rack_units")
# per-unit fields spread onto the catalog frame, one column per slot
_SLOT_NUMBERS = ("size", "price", "price_low", "price_high", "power", "rack_units")
# the purchase_units.csv column behind each slot field
_UNIT_OF_SLOT = {"size": "accelerators_per_unit", "price": "unit_price_usd", "price_low": "unit_price_low_usd",
                 "price_high": "unit_price_high_usd", "power": "unit_max_power_kw", "rack_units": "unit_rack_units",
                 "estimate": "price_is_estimate", "name": "unit", "source": "source"}


def read_units(path: Path | None = None) -> pd.DataFrame:
    """data/purchase_units.csv (or `path`), validated: every row names an accelerator,
    a basis own|rent, a unit, a positive whole accelerators_per_unit, a source and a
    date; prices, power and rack units are positive numbers where given."""
    path = Path(path) if path is not None else data_path("purchase_units.csv")
    header, lines = read_csv_rows(path, "purchase unit")
    require_columns(path, header, UNIT_COLUMNS, f"; the header is: {','.join(UNIT_COLUMNS)}")
    rows, problems = [], []
    for line, row in lines:
        problems += empty_cells(path, line, row, ("accelerator", "unit", "source", "as_of"))
        if row.get("basis") not in BASES:
            problems.append(f"{path}: line {line}: column 'basis': {row.get('basis')!r} is not own or rent")
        elif row.get("basis") == "rent" and not row.get("provider"):
            problems.append(f"{path}: line {line}: column 'provider' is empty; a rented unit names the cloud "
                            "provider that sells it, as data/cloud_prices.csv spells it")
        for column in _NUMBERS:
            text = row.get(column) or ""
            if not text:
                continue
            try:
                value = float(text)
            except ValueError:
                problems.append(f"{path}: line {line}: column '{column}': {text!r} is not a number")
                continue
            if not math.isfinite(value) or value <= 0:
                problems.append(f"{path}: line {line}: column '{column}': must be a positive number")
            elif column == "accelerators_per_unit" and value != int(value):
                problems.append(f"{path}: line {line}: column '{column}': must be a whole number")
        if not row.get("accelerators_per_unit"):
            problems.append(f"{path}: line {line}: column 'accelerators_per_unit' is empty")
        problems += _range_problems(path, line, row)
        if (row.get("price_is_estimate") or "").lower() not in ("", "true", "false"):
            problems.append(f"{path}: line {line}: column 'price_is_estimate': write true, false or leave it empty")
        rows.append(row)
    if problems:
        raise InputError("\n".join(problems))
    frame = pd.DataFrame(rows, columns=list(UNIT_COLUMNS))
    for column in _NUMBERS:
        frame[column] = pd.to_numeric(frame[column].replace("", np.nan), errors="coerce").astype(float)
    frame["price_is_estimate"] = frame["price_is_estimate"].str.lower().eq("true")
    return frame


def _range_problems(path: Path, line: int, row: dict[str, str]) -> list[str]:
    """A unit price range needs its listed price and both ends, with low <= price <= high."""
    text = {c: row.get(c) or "" for c in ("unit_price_usd", "unit_price_low_usd", "unit_price_high_usd")}
    if not (text["unit_price_low_usd"] or text["unit_price_high_usd"]):
        return []
    where = f"{path}: line {line}: unit_price_low_usd/unit_price_high_usd"
    if not (text["unit_price_usd"] and text["unit_price_low_usd"] and text["unit_price_high_usd"]):
        return [f"{where}: give the listed unit_price_usd and both ends of its range (a derived price takes "
                "its range from data/catalog_ranges.csv)"]
    try:
        low, price, high = (float(text[c]) for c in ("unit_price_low_usd", "unit_price_usd", "unit_price_high_usd"))
    except ValueError:
        return []  # reported as not a number above
    return [] if low <= price <= high else [f"{where}: must hold low <= unit_price_usd <= high"]


@lru_cache(maxsize=1)
@persistent({"purchase_units.csv": "purchase unit"})
def bundled_units() -> pd.DataFrame:
    return read_units()


def slot_column(basis: str, field: str, slot: int) -> str:
    return f"{basis}_unit_{field}_{slot}"


def slots(chips: pd.DataFrame, basis: str) -> int:
    """How many unit slots the frame carries for `basis`."""
    k = 0
    while slot_column(basis, "size", k) in chips:
        k += 1
    return k


def attach_units(chips: pd.DataFrame, units: pd.DataFrame | None = None) -> pd.DataFrame:
    """The catalog frame plus fixed-width unit columns per basis, smallest unit first.
    Rented units are those of the chip's `cloud_provider` (every listed provider's when
    the frame has no cloud columns). A chip with no listed unit gets the catalog's
    fallback: to own, one server of devices_per_server (server.devices_per_server: 1 when blank); to rent, one
    accelerator-hour. Names and providers match case-insensitively."""
    bundled = units is None
    key = chips["name"].str.lower().to_numpy()
    by_provider = "cloud_provider" in chips
    provider = (chips["cloud_provider"].fillna("").astype(str).str.lower().to_numpy() if by_provider
                else np.full(len(chips), "", dtype=object))
    new: dict[str, np.ndarray] = {}
    for basis in BASES:
        tied = basis == "rent" and by_provider
        group_names, slot_row, values_of = (_bundled_slots(basis, tied) if bundled
                                            else _unit_slots(units, basis, tied))
        width = slot_row.shape[1]
        chip_key = key + ("|" + provider if tied else "")
        group = group_names.get_indexer(chip_key)  # -1: no unit listed
        rows = slot_row[group]  # per chip and slot: the unit row, -1 where empty
        listed = rows >= 0
        cols = {}
        for f in _UNIT_OF_SLOT:
            values = values_of[f]
            arr = np.full((len(chips), width), np.nan if f in _SLOT_NUMBERS else None,
                          dtype=float if f in _SLOT_NUMBERS else object)
            arr[listed] = values[rows[listed]]
            cols[f] = arr
        dps = server.devices_per_server(pd.to_numeric(chips["devices_per_server"], errors="coerce").to_numpy(dtype=float))
        fallback = dps if basis == "own" else np.ones(len(chips))
        none = group < 0  # the catalog's fallback unit in slot 0
        cols["size"][none, 0] = fallback[none]
        cols["estimate"][none, 0] = False
        cols["name"][none, 0] = "catalog server" if basis == "own" else "per accelerator-hour"
        if basis == "own":
            cols["source"][none, 0] = "no purchase unit listed: the catalog's server of devices_per_server"
        else:
            named = chips["cloud_provider"].to_numpy(dtype=object) if tied else np.full(len(chips), "", dtype=object)
            cols["source"][none, 0] = ["no instance size listed" + (f" for {named[i]}" if tied and provider[i] else "")
                                       + ": priced per accelerator-hour" for i in np.flatnonzero(none)]
        for f, arr in cols.items():
            for k in range(width):
                new[slot_column(basis, f, k)] = arr[:, k]
    if any(column in chips for column in new):  # units attached before: replace them in place
        return chips.assign(**new)
    return pd.concat([chips, pd.DataFrame(new, index=chips.index)], axis=1)  # one block per type, not a column at a time


def _unit_slots(units: pd.DataFrame, basis: str, tied: bool) -> tuple[pd.Index, np.ndarray, dict[str, np.ndarray]]:
    """The units of `basis` grouped by accelerator (and provider where `tied`), smallest first:
    the group keys, per group and slot the unit's row (-1 where empty; a last row of -1 for
    'no group'), and each slot field's values by row (read only)."""
    mine = units[units["basis"] == basis].sort_values(["accelerator", "accelerators_per_unit", "unit"],
                                                      kind="mergesort")
    group_key = (mine["accelerator"].str.lower() + ("|" + mine["provider"].fillna("").str.lower() if tied else ""))
    codes, group_names = pd.factorize(group_key.to_numpy())
    rank = pd.Series(codes).groupby(codes).cumcount().to_numpy()  # slot within the group, in sorted order
    width = int(rank.max(initial=0)) + 1
    slot_row = np.full((len(group_names) + 1, width), -1, dtype=np.int64)  # last row: no group
    slot_row[codes, rank] = np.arange(len(codes))
    return pd.Index(group_names), slot_row, {f: mine[column].to_numpy() for f, column in _UNIT_OF_SLOT.items()}


@lru_cache(maxsize=4)
@persistent({"purchase_units.csv": "purchase unit"})
def _bundled_slots(basis: str, tied: bool) -> tuple[pd.Index, np.ndarray, dict[str, np.ndarray]]:
    """_unit_slots of the bundled units, once per run (every compare, sweep and plan attaches them)."""
    return _unit_slots(bundled_units(), basis, tied)


def ranged_unit_prices(chips: pd.DataFrame) -> pd.DataFrame:
    """The listed unit prices with a range on `chips` (units attached; owned units): one row
    per (chip position, slot) with `position`, `slot`, `accelerator`, `unit`, `low`, `value`,
    `high` [USD] and `source`. A derived unit price has no range of its own: it follows the
    catalog prices it is derived from, which carry theirs (data/catalog_ranges.csv)."""
    rows = []
    for k in range(slots(chips, "own")):
        get = lambda field, k=k: chips[slot_column("own", field, k)].to_numpy()  # noqa: E731
        low, value, high = (get(f).astype(float) for f in ("price_low", "price", "price_high"))
        with np.errstate(invalid="ignore"):
            ok = np.isfinite(low) & np.isfinite(value) & np.isfinite(high) & (high > low)
        for p in np.flatnonzero(ok):
            rows.append({"position": int(p), "slot": k, "accelerator": str(chips["name"].iat[p]),
                         "unit": str(get("name")[p]), "low": low[p], "value": value[p], "high": high[p],
                         "source": str(get("source")[p])})
    return pd.DataFrame(rows, columns=["position", "slot", "accelerator", "unit", "low", "value", "high", "source"])


def draw_unit_prices(chips: pd.DataFrame, samples: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Per owned-unit price slot that holds a ranged listed price: a (samples x chips) array,
    triangular(low, listed price, high) [USD] where ranged and the listed price elsewhere;
    what `uncertainty` passes to the pipeline as per-sample catalog values."""
    found = ranged_unit_prices(chips)
    out: dict[str, np.ndarray] = {}
    for k in sorted(set(found["slot"])):
        column = slot_column("own", "price", k)
        grid = np.tile(chips[column].to_numpy(dtype=float), (samples, 1))
        mine = found[found["slot"] == k]
        draws = rng.triangular(mine["low"].to_numpy()[:, None], mine["value"].to_numpy()[:, None],
                               mine["high"].to_numpy()[:, None], (len(mine), samples))
        grid[:, mine["position"].to_numpy()] = draws.T
        out[column] = grid
    return out


def unit_price_usd(listed, size, dps, server_price, accelerator_price, host_price_fraction):
    """Price of one unit [USD]: the listed price; else the catalog server price x size /
    devices per server (the catalog server itself when size = devices per server); else
    accelerator price x size x (1 + host fraction). A per-accelerator share of the
    catalog's own server keeps every unit size of a chip on one price per accelerator."""
    with np.errstate(invalid="ignore", divide="ignore"):
        derived = np.where(np.isfinite(server_price), server_price * size / dps,
                           accelerator_price * size * (1.0 + host_price_fraction))
    return np.where(np.isfinite(listed), listed, derived)


def unit_power_kw(listed, size, dps, server_kw, tdp_w, host_power_fraction):
    """Maximum power of one unit [kW]: the listed value; else the catalog server's power
    (server.server_power_kw: its server_power_kw, else TDP x devices x (1 + host fraction))
    x size / devices per server, the server itself when size = devices per server. One kW
    per accelerator per chip, so a mix of unit sizes never draws more per accelerator than
    the catalog's server."""
    with np.errstate(invalid="ignore", divide="ignore"):
        derived = server.server_power_kw(server_kw, dps, tdp_w, host_power_fraction) * size / dps
    return np.where(np.isfinite(listed), listed, derived)


def units_for_replicas(replicas, size, chips_per_replica):
    """Units of one type to hold `replicas` model copies [count]: a unit at least as large
    as a replica holds floor(size / n) of them; a smaller one is ganged, ceil(n / size)
    units per replica. replicas, size and n broadcast (e.g. rows x 1 against rows x units)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        per_unit = np.floor(size / chips_per_replica)
        ganged = np.ceil(chips_per_replica / size)
        return np.where(per_unit >= 1, np.ceil(replicas / per_unit), replicas * ganged)


def replicas_in_units(count, size, chips_per_replica):
    """Replicas that `count` units of one type hold [count] (the inverse of units_for_replicas)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        per_unit = np.floor(size / chips_per_replica)
        return np.where(per_unit >= 1, count * per_unit, np.floor(count / np.ceil(chips_per_replica / size)))


def cheapest_mix(replicas, chips_per_replica, size, annual_cost_per_unit, distinct: bool = True):
    """The cheapest way to hold `replicas` copies with at most two unit types.

    Candidates, for every ordered pair (u, v) of a row's units: as many units of u as
    are completely filled [floor], the remaining replicas on units of v (u = v is u
    alone). Cost [USD/year] = count_u x cost_u + count_v x cost_v; the lowest wins,
    ties to the fewer accelerators, then the smaller unit. `size` and
    `annual_cost_per_unit` are (rows x units) with NaN for empty slots; replicas and
    chips_per_replica are per row. Returns (u index, count_u, v index, count_v) per
    row; counts are NaN where no unit can be priced.

    Each distinct row is solved once. A row with at most one priced unit has one
    answer whatever that unit's cost (every candidate buys units of it alone), so
    its costs count only as priced or not (a sweep over economic keys repeats the
    same few such rows for most chips). `distinct=False` skips looking for repeated rows
    (a caller whose rows differ in cost almost everywhere); the answer is the same."""
    replicas = np.asarray(replicas, dtype=float).reshape(-1)
    n = np.broadcast_to(np.asarray(chips_per_replica, dtype=float).reshape(-1), replicas.shape)
    size = np.asarray(size, dtype=float)
    cost = sizer_costs(annual_cost_per_unit)
    first, inverse = distinct_rows([replicas, n, *size.T, *cost.T]) if distinct else (slice(None), slice(None))
    replicas, n, size, cost = replicas[first], n[first], size[first], cost[first]
    # the candidates' counts depend on (replicas, size, n) only: a sweep over economic keys
    # repeats a few of those under many costs
    shape_first, shape_of = distinct_rows([replicas, n, *size.T])
    count_u, count_v = mix_counts(replicas[shape_first], n[shape_first], size[shape_first])
    u, count_u, v, count_v = mix_pick(count_u, count_v, size[shape_first], cost, shape_of)
    return u[inverse], count_u[inverse], v[inverse], count_v[inverse]


def sizer_costs(annual_cost_per_unit) -> np.ndarray:
    """The unit costs cheapest_mix compares, per row of units (last axis): the annual cost
    [USD/year] where two or more units are priced; else 1 for the priced unit and inf for
    the rest (one priced unit is bought whatever it costs)."""
    cost = np.asarray(annual_cost_per_unit, dtype=float)
    priced = np.isfinite(cost)
    return np.where((priced.sum(axis=-1) <= 1)[..., None], np.where(priced, 1.0, np.inf), cost)


_ROW_HASH = 0x9E3779B97F4A7C15  # an odd 64-bit multiplier (the golden ratio's bits)


def distinct_rows(columns) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of equal-length float columns (same bits = same row): the index
    of each distinct row's first occurrence and, per row, which distinct row it is
    (rows = first[inverse]). Rows are hashed in one pass, and every row is checked
    against its distinct row's bits, so a hash collision can never merge two rows (a
    collision falls back to factorizing column by column)."""
    bits = np.ascontiguousarray(np.column_stack([np.asarray(c, dtype=float) for c in columns])).view(np.uint64)
    mixers = np.arange(1, 2 * bits.shape[1], 2, dtype=np.uint64) * np.uint64(_ROW_HASH)
    code = pd.factorize((bits * mixers).sum(axis=1, dtype=np.uint64))[0]  # wraps around: a hash
    if not (bits[_firsts(code)[code]] == bits).all():
        code = np.zeros(len(bits), dtype=np.int64)
        for column in bits.T:
            codes, uniques = pd.factorize(column)
            code = pd.factorize(code * (len(uniques) + 1) + codes)[0]
    return _firsts(code), code


def _firsts(code: np.ndarray) -> np.ndarray:
    """Per code 0..max, the first row holding it."""
    first = np.full(int(code.max(initial=-1)) + 1, -1, dtype=np.int64)
    first[code[::-1]] = np.arange(len(code) - 1, -1, -1)  # the last write per code is its first row
    return first


def mix_counts(replicas, chips_per_replica, size):
    """Per row and ordered pair (u, v) of its units: units of u and of v that the candidate
    buys [count], as (rows x units x units) arrays (cheapest_mix's candidates)."""
    replicas = np.asarray(replicas, dtype=float)[:, None, None]
    n = np.asarray(chips_per_replica, dtype=float)[:, None, None]
    su, sv = size[:, :, None], size[:, None, :]
    full_u = np.floor(_full_units(replicas, su, n))
    rest = np.maximum(replicas - replicas_in_units(full_u, su, n), 0.0)
    count_v = np.where(rest > 0, units_for_replicas(rest, sv, n), 0.0)
    same = np.eye(size.shape[1], dtype=bool)[None, :, :]
    count_u = np.where(same, units_for_replicas(replicas, su, n), full_u)
    count_v = np.where(same, 0.0, count_v)
    return count_u, count_v


def mix_pick(count_u, count_v, size, annual_cost_per_unit, of=None):
    """cheapest_mix's choice among the candidates (mix_counts) of every row. Row i's candidates
    are row of[i] of count_u, count_v and size (rows that share candidates share them, each
    counted once); every row its own when `of` is None. annual_cost_per_unit: per row."""
    if of is not None and 2 * len(count_u) > len(of):  # few rows share: a copy per row is cheaper
        count_u, count_v, size, of = count_u[of], count_v[of], size[of], None
    su, sv = size[:, :, None], size[:, None, :]
    zero_u, zero_v = count_u == 0, count_v == 0
    with np.errstate(invalid="ignore"):
        bought = np.where(zero_u, 0.0, count_u * su) + np.where(zero_v, 0.0, count_v * sv)
    usable = (bought > 0) & np.isfinite(bought)
    flat_bought = np.where(np.isfinite(bought), bought, np.inf).reshape(len(bought), -1)
    if of is not None:
        count_u, count_v, zero_u, zero_v, usable, flat_bought = (
            a[of] for a in (count_u, count_v, zero_u, zero_v, usable, flat_bought))
    cu, cv = annual_cost_per_unit[:, :, None], annual_cost_per_unit[:, None, :]
    with np.errstate(invalid="ignore"):  # 0 units of an unpriced (inf) type cost nothing
        cost = np.where(zero_u, 0.0, count_u * cu) + np.where(zero_v, 0.0, count_v * cv)
    cost = np.where(usable & np.isfinite(cost), cost, np.inf)
    flat_cost = cost.reshape(len(cost), -1)
    # lexicographic: cost (to a relative 1e-9), then accelerators bought, then slot order
    scale = np.where(np.isfinite(flat_cost), np.abs(flat_cost), 0.0).max(axis=1, keepdims=True)
    key = np.round(flat_cost / np.where(scale > 0, scale, 1.0), 9)
    # the first of the lowest key, then of the fewest accelerators among those (no NaN here: inf at worst)
    tied = key == key.min(axis=1, keepdims=True)
    fewest = np.where(tied, flat_bought, np.inf)
    best = np.argmax(tied & (fewest == fewest.min(axis=1, keepdims=True)), axis=1)
    rows = np.arange(len(key))
    ok = np.isfinite(flat_cost[rows, best])
    width = size.shape[1]
    u, v = best // width, best % width
    cu_best = np.where(ok, count_u.reshape(len(key), -1)[rows, best], np.nan)
    cv_best = np.where(ok, count_v.reshape(len(key), -1)[rows, best], np.nan)
    return u, cu_best, v, cv_best


def _full_units(replicas, size, n):
    """Units of a type that the replicas fill completely [count, fractional before floor]."""
    with np.errstate(divide="ignore", invalid="ignore"):
        per_unit = np.floor(size / n)
        ganged = np.ceil(n / size)
        return np.where(per_unit >= 1, replicas / per_unit, replicas * ganged)


def take(matrix: np.ndarray, index: np.ndarray) -> np.ndarray:
    """matrix[row, index[row]] for every row."""
    return matrix[np.arange(len(index)), index]


def describe(count_u, name_u, count_v, name_v) -> np.ndarray:
    """'2 x HGX H100 8-GPU server + 1 x HGX H100 4-GPU server' per row ('' when unpriced)."""
    def part(count, name):
        count = np.asarray(count, dtype=float)
        show = np.isfinite(count) & (count > 0)
        digits = pd.Series(np.where(show, count, 0)).astype("int64").astype(str).to_numpy(dtype=object)
        return np.where(show, digits + " x " + np.asarray(name, dtype=object).astype(str), "")
    a, b = part(count_u, name_u), part(count_v, name_v)
    return np.where((a != "") & (b != ""), a + " + " + b, a + b).astype(object)


def _priced_units(basis: str, get, unit_cost_usd_per_year):
    """The unit slots of `basis` as (rows x units) matrices: a stacker for any slot field,
    size [accelerators], price [USD], power [kW] and the annual cost that the sizer
    compares (inf where a slot is empty or cannot be priced)."""
    width = slots_of(get, basis)
    stack = lambda field: np.stack([np.asarray(get(slot_column(basis, field, k)), dtype=float if field in (  # noqa: E731
        "size", "price", "power", "rack_units") else object) for k in range(width)], axis=1)
    size = stack("size")
    dps = server.devices_per_server(np.asarray(get("devices_per_server"), dtype=float))[:, None]
    column = lambda name: np.asarray(get(name), dtype=float).reshape(-1, 1)  # noqa: E731
    price, power, annual = unit_costs(size, stack("price"), stack("power"), dps, *map(column, UNIT_PRICE_COLUMNS),
                                      unit_cost_usd_per_year)
    return stack, dps, size, price, power, annual


# What unit_costs reads besides the unit slots and devices per server, in its order:
# catalog columns and assumptions (the host fractions)
UNIT_PRICE_COLUMNS = ("server_price_usd", "accelerator_price_usd", "host_price_fraction", "server_power_kw", "tdp_w",
                      "host_power_fraction")


def unit_costs(size, listed_price, listed_power, dps, server_price, accelerator_price, host_price_fraction, server_kw,
               tdp_w, host_power_fraction, unit_cost_usd_per_year):
    """Per unit slot: price [USD] (unit_price_usd), maximum power [kW] (unit_power_kw) and the
    annual cost the sizer compares [USD/year] = unit_cost_usd_per_year(size, price, power),
    an unknown power counting as 0 (priced on the rest), inf where the slot is empty or
    cannot be priced. Arguments broadcast: (rows x units) for the slots, (rows x 1) per row
    (or any shapes that broadcast alike, e.g. scenarios x chips x units)."""
    price = unit_price_usd(listed_price, size, dps, server_price, accelerator_price, host_price_fraction)
    power = unit_power_kw(listed_power, size, dps, server_kw, tdp_w, host_power_fraction)
    annual = unit_cost_usd_per_year(size, price, np.nan_to_num(power))
    return price, power, np.where(np.isfinite(size) & np.isfinite(annual), annual, np.inf)


def plan(basis: str, get, replicas, chips_per_replica, unit_cost_usd_per_year) -> dict[str, np.ndarray]:
    """The purchase for one basis on every row: the unit slots of `basis` gathered with
    `get(column)` (per-row arrays), priced per unit by `unit_cost_usd_per_year(size, price
    [USD], power [kW])` -> (rows x units) annual cost, and sized by cheapest_mix.
    Returns per row: the two chosen units' slot (index_u, index_v), count, size, price,
    power, rack units, name, estimate flag and source (suffix _u and _v), and `units`,
    `accelerators_bought`."""
    stack, dps, size, price, power, annual = _priced_units(basis, get, unit_cost_usd_per_year)
    rack_units = np.where(np.isfinite(stack("rack_units")), stack("rack_units"),
                          np.where(size == dps, np.asarray(get("server_rack_units"), dtype=float)[:, None], np.nan))
    listed = stack("price")
    derived = ~np.isfinite(listed) & (size != dps)  # priced by rule, not as the catalog's own server
    u, count_u, v, count_v = cheapest_mix(replicas, chips_per_replica, size, annual)
    out: dict[str, np.ndarray] = {"index_u": u, "index_v": v}
    fields = {"size": size, "price": price, "power": power, "rack_units": rack_units, "derived": derived,
              "name": stack("name"), "estimate": stack("estimate"), "source": stack("source")}
    for suffix, index, count in (("u", u, count_u), ("v", v, count_v)):
        out["count_" + suffix] = count
        for field, matrix in fields.items():
            out[f"{field}_{suffix}"] = take(matrix, index)
    has_v = np.nan_to_num(count_v) > 0
    out["units"] = count_u + np.where(has_v, count_v, 0.0)
    out["accelerators_bought"] = count_u * out["size_u"] + np.where(has_v, count_v * out["size_v"], 0.0)
    out["has_v"] = has_v
    return out


def slots_of(get, basis: str) -> int:
    """Unit slots available through `get` (a KeyError-raising column getter)."""
    k = 0
    while True:
        try:
            get(slot_column(basis, "size", k))
        except KeyError:
            return k
        k += 1


def total(out: dict[str, np.ndarray], per_unit_u, per_unit_v) -> np.ndarray:
    """Sum over the two chosen unit types of count x a per-unit quantity."""
    return out["count_u"] * per_unit_u + np.where(out["has_v"], out["count_v"] * per_unit_v, 0.0)
