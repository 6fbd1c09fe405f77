"""Chip-to-chip links for tensor-parallel collectives (data/interconnect.csv).

A catalog may carry the columns itself (its values win); otherwise the bundled
table fills them by accelerator name. Unknown links leave NaN, and the model
then counts only the per-layer collective latency, not the traffic."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from inferchip.data_files import data_path
from inferchip.runcache import persistent

LINK_COLUMNS = ("scaleup_gbps", "scaleup_domain", "host_link_gbps")


@lru_cache(maxsize=4)
@persistent({"interconnect.csv": "interconnect"}, paths=(0,))
def _read(path: str) -> pd.DataFrame:
    table = pd.read_csv(path, dtype={"name": str, "source": str})
    return table.assign(_key=table["name"].str.lower()).drop_duplicates("_key", keep="last").set_index("_key")


def read_interconnect(path: Path | None = None) -> pd.DataFrame:
    """The link table, indexed by lower-case accelerator name."""
    return _read(str(path or data_path("interconnect.csv")))


def attach_interconnect(chips: pd.DataFrame, table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Add scaleup_gbps [GB/s bidirectional], scaleup_domain [chips] and host_link_gbps
    [GB/s bidirectional] to every chip row: the row's own value, else the table's."""
    table = read_interconnect() if table is None else table
    key = chips["name"].str.lower()
    out = {}
    for column in LINK_COLUMNS:
        bundled = key.map(table[column]).astype(float)
        own = pd.to_numeric(chips[column], errors="coerce") if column in chips else pd.Series(np.nan, index=chips.index)
        out[column] = own.fillna(bundled)
    return chips.assign(**out)
