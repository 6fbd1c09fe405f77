"""Ranges of estimated, derived or disputed catalog values (data/catalog_ranges.csv).

catalog.csv keeps one value per cell; this long-form table adds, for the cells
that need it, a `low` and `high` [the column's unit], a `basis` (estimate |
derived | disputed) and the source of the range. A range applies while the
catalog value lies inside it (a user catalog or patch that sets its own value
outside the range replaces the estimate with a known number).

Uses: every chip row gets `estimated_columns` (the flag: which of its values are
estimates, with their ranges), and `inferchip uncertainty` draws each such value
from triangular(low, value, high) per sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from inferchip.csvfile import read_text_table
from inferchip.data_files import data_path
from inferchip.errors import InputError
from inferchip.runcache import persistent

BASES = ("estimate", "derived", "disputed")
COLUMNS = ("name", "column", "low", "high", "basis", "source", "as_of", "note")
# Catalog columns a range may describe: the numbers the model and the costs read.
RANGED_COLUMNS = (
    "memory_gb", "memory_bw_tbps", "sram_mb", "fp16_tflops", "bf16_tflops", "fp8_tflops", "fp4_tflops",
    "int8_tops", "int4_tops", "tdp_w", "server_power_kw", "accelerator_price_usd", "server_price_usd",
    "cloud_usd_per_hour",
)


def ranges_path() -> Path:
    return data_path("catalog_ranges.csv")


@lru_cache(maxsize=4)
@persistent({"catalog_ranges.csv": "catalog range"}, paths=(0,))
def _read(path: str) -> pd.DataFrame:
    table = read_text_table(path, COLUMNS)
    low = pd.to_numeric(table["low"], errors="coerce")
    high = pd.to_numeric(table["high"], errors="coerce")
    problems = []
    cell = {c: table[c].tolist() for c in ("column", "low", "high", "basis", "source", "as_of")}  # plain lists: no .iat per cell
    low_values, high_values = low.tolist(), high.tolist()
    for i in range(len(table)):
        line = i + 2
        if cell["column"][i] not in RANGED_COLUMNS:
            problems.append(f"{path}: line {line}: column {cell['column'][i]!r} cannot carry a range;"
                            f" one of {', '.join(RANGED_COLUMNS)}")
        if not (np.isfinite(low_values[i]) and np.isfinite(high_values[i]) and 0 <= low_values[i] <= high_values[i]):
            problems.append(f"{path}: line {line}: low {cell['low'][i]!r} and high {cell['high'][i]!r}"
                            " must be numbers with 0 <= low <= high")
        if cell["basis"][i] not in BASES:
            problems.append(f"{path}: line {line}: basis {cell['basis'][i]!r} is not one of {', '.join(BASES)}")
        if not cell["source"][i].strip() or not cell["as_of"][i].strip():
            problems.append(f"{path}: line {line}: every range names its source and as_of date")
    key = table["name"].str.lower() + "|" + table["column"]
    for i in np.flatnonzero(key.duplicated().to_numpy()):
        problems.append(f"{path}: line {i + 2}: a second range for {table['name'].iat[i]} {table['column'].iat[i]};"
                        " keep one")
    if problems:
        raise InputError("\n".join(problems))
    return table.assign(low=low, high=high, _key=table["name"].str.lower())


def read_ranges(path: Path | None = None) -> pd.DataFrame:
    """The validated range table (low/high as floats, `_key` = lower-case name)."""
    return _read(str(path or ranges_path()))


def applicable(chips: pd.DataFrame, table: pd.DataFrame | None = None) -> pd.DataFrame:
    """The ranges that apply to `chips`: one row per (chip position, column) with the
    chip's `value`, and `low`/`high`; only where the value lies inside the range."""
    table = read_ranges() if table is None else table
    position = pd.Series(np.arange(len(chips)), index=chips["name"].str.lower().to_numpy())
    position = position[~position.index.duplicated(keep="last")]
    rows = table[table["_key"].isin(position.index) & table["column"].isin(chips.columns)]
    pos = position.loc[rows["_key"]].to_numpy()
    wanted = rows["column"].tolist()
    numbers = {c: pd.to_numeric(chips[c], errors="coerce").to_numpy(dtype=float) for c in set(wanted)}  # once per column
    values = np.array([numbers[c][p] for p, c in zip(pos, wanted, strict=True)], dtype=float)
    inside = np.isfinite(values) & (values >= rows["low"].to_numpy() - 1e-9) & (values <= rows["high"].to_numpy() + 1e-9)
    return rows.assign(position=pos, value=values)[inside].reset_index(drop=True)


def attach_estimates(chips: pd.DataFrame, table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Add `estimated_columns` to every chip row: '; '-joined 'column value (low..high, basis)'
    for each of its values that is an estimate, empty when none is."""
    found = applicable(chips, table)
    text = [""] * len(chips)
    for p, column, value, low, high, basis in zip(found["position"], found["column"], found["value"], found["low"],
                                                  found["high"], found["basis"], strict=True):
        item = f"{column} {value:.10g} ({low:.10g}..{high:.10g}, {basis})"
        text[p] = f"{text[p]}; {item}" if text[p] else item
    return chips.assign(estimated_columns=pd.Series(text, index=chips.index, dtype=object).astype(str))


@dataclass(frozen=True)
class DrawnColumn:
    """One ranged column's values per sample and chip, kept compact: the catalog value
    of every chip and the draws of the ranged chips only [8 bytes x samples x ranged
    chips, not x all chips]; `rows(first, stop)` gives the full (samples x chips) block."""

    base: np.ndarray  # (chips,) catalog values
    positions: np.ndarray  # (ranged chips,) their positions
    draws: np.ndarray  # (ranged chips, samples)

    def rows(self, first: int, stop: int) -> np.ndarray:
        grid = np.tile(self.base, (stop - first, 1))
        grid[:, self.positions] = self.draws[:, first:stop].T
        return grid

    def __getitem__(self, key) -> np.ndarray:
        return self.rows(0, self.draws.shape[1])[key]


def draw_values(chips: pd.DataFrame, samples: int, rng: np.random.Generator,
                table: pd.DataFrame | None = None) -> dict[str, DrawnColumn]:
    """Per ranged column: the (samples x chips) values, triangular(low, value, high)
    where the chip's value is ranged and the catalog value elsewhere."""
    found = applicable(chips, table)
    out: dict[str, DrawnColumn] = {}
    for column in sorted(set(found["column"])):
        base = pd.to_numeric(chips[column], errors="coerce").to_numpy(dtype=float)
        ranged = found[(found["column"] == column) & (found["high"] > found["low"])]
        # one call for every ranged chip of the column: numpy fills the (chips x samples) output in
        # C order, so each chip's draws are the same as a call of its own, in the table's order
        draws = rng.triangular(ranged["low"].to_numpy()[:, None], ranged["value"].to_numpy()[:, None],
                               ranged["high"].to_numpy()[:, None], (len(ranged), samples)) if len(ranged) else (
            np.empty((0, samples)))
        out[column] = DrawnColumn(base, ranged["position"].to_numpy(dtype=np.int64), draws)
    return out


def ranged_count(chips: pd.DataFrame, table: pd.DataFrame | None = None) -> int:
    """How many (chip, column) values `draw_values` draws per sample."""
    found = applicable(chips, table)
    return int((found["high"] > found["low"]).sum())
