"""Efficiency factors of the performance model, per chip family or kind.

data/calibration.csv holds fitted (or assumed) factors with their source; a
catalog row may carry its own factors, which win."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from inferchip.data_files import data_path

FACTORS = ("compute_efficiency", "memory_efficiency", "attention_efficiency", "step_overhead_ms",
           "comm_overhead_ms_per_layer", "link_efficiency", "host_link_efficiency", "tail_spread")


def read_calibration(path: Path | None = None) -> pd.DataFrame:
    return pd.read_csv(path or data_path("calibration.csv"), dtype={"scope": str, "key": str})


def attach_factors(chips: pd.DataFrame, calibration: pd.DataFrame | None = None) -> pd.DataFrame:
    """Add the four factors and `calibration_source` to every chip row:
    the row's own value, else its family's, else its kind's."""
    cal = read_calibration() if calibration is None else calibration
    by_family = cal[cal["scope"] == "family"].set_index("key")
    by_kind = cal[cal["scope"] == "kind"].set_index("key")
    fam = chips["family"].str.lower()
    kind = chips["kind"].str.lower()
    has_family = fam.isin(by_family.index).to_numpy()
    out = {}
    for factor in FACTORS:
        from_family = fam.map(by_family[factor]) if factor in by_family else np.nan
        from_kind = kind.map(by_kind[factor]) if factor in by_kind else np.nan
        own = chips[factor] if factor in chips else pd.Series(np.nan, index=chips.index)
        out[factor] = own.fillna(pd.Series(np.where(has_family, from_family, from_kind), index=chips.index))
    fam_src = "family " + fam + ": " + fam.map(by_family["source"].to_dict()).astype(object).fillna("")
    kind_src = "kind " + kind + ": " + kind.map(by_kind["source"].to_dict()).astype(object).fillna("")
    out["calibration_source"] = pd.Series(np.where(has_family, fam_src, kind_src), index=chips.index)
    return chips.assign(**out)
