"""Efficiency factors of the performance model, per chip family or kind.

data/calibration.csv holds fitted (or assumed) factors with their source; a
catalog row may carry its own factors, which win."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from inferchip.data_files import data_path
from inferchip.runcache import persistent

# chips.attrs key naming a user calibration file (`--calibration FILE`); every pipeline
# attaches factors from it without threading the table through each call.
CALIBRATION_ATTR = "calibration_path"
FACTORS = ("compute_efficiency", "memory_efficiency", "attention_efficiency", "step_overhead_ms",
           "comm_overhead_ms_per_layer", "link_efficiency", "host_link_efficiency", "tail_spread")


def read_calibration(path: Path | None = None) -> pd.DataFrame:
    """The factor table of `path` (a path or a binary file), by default data/calibration.csv."""
    if path is None:
        return _bundled_calibration()
    return pd.read_csv(path, dtype={"scope": str, "key": str, "workload": str})


@persistent({"calibration.csv": "calibration"}, copy=True)
def _bundled_calibration() -> pd.DataFrame:
    return read_calibration(data_path("calibration.csv"))


def load_calibration(path: Path) -> pd.DataFrame:
    """A user calibration file (what `inferchip calibrate -o FILE` writes), checked:
    a missing file, unreadable text or missing columns are errors naming the file."""
    import io

    from inferchip.errors import InputError
    from inferchip.safeio import read_input

    raw = read_input(Path(path), "calibration", "give a CSV written by `inferchip calibrate -o FILE`")
    try:
        table = read_calibration(io.BytesIO(raw))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a calibration CSV ({exc}); see data/README.md for the columns") from None
    missing = [c for c in ("scope", "key", "source", "compute_efficiency", "memory_efficiency") if c not in table]
    if missing:
        raise InputError(f"{path}: line 1: missing column(s) {', '.join(missing)}; write it with "
                         "`inferchip calibrate -o FILE` (columns: data/README.md)")
    return table


WORKLOAD_CLASSES = ("llm", "fixed")


def for_workload(calibration: pd.DataFrame, workload_kind: str | None) -> pd.DataFrame:
    """The calibration rows that apply to a workload class (llm | fixed): factors are
    fitted per class (`workload` column; LLM decoding and fixed-work networks run
    different kernels), and a row with a blank `workload` (a file written before the
    split, or a hand-written one) applies to both. None means llm. A class the file has
    no factor rows for (a fit without any of its benchmark rows) takes the other class's."""
    if "workload" not in calibration:
        return calibration
    wanted = workload_kind if workload_kind in WORKLOAD_CLASSES else "llm"
    column = calibration["workload"].fillna("").astype(str).str.strip().str.lower()
    scoped = calibration["scope"].isin(["family", "kind"]).to_numpy()
    if not ((column == wanted).to_numpy() & scoped).any():
        wanted = next((c for c in WORKLOAD_CLASSES if ((column == c).to_numpy() & scoped).any()), wanted)
    return calibration[(column == "") | (column == wanted)]


def attach_factors(chips: pd.DataFrame, calibration: pd.DataFrame | None = None,
                   workload_kind: str | None = None) -> pd.DataFrame:
    """Add the efficiency factors and `calibration_source` to every chip row:
    the row's own value, else its family's, else its kind's, for the workload's class
    (`workload_kind` llm | fixed; see for_workload). Without `calibration`,
    the file named in chips.attrs["calibration_path"] (a --calibration FILE, set by
    inputs.load_inputs) or the bundled data/calibration.csv."""
    path = chips.attrs.get(CALIBRATION_ATTR)
    if calibration is None:
        calibration = load_calibration(Path(path)) if path else read_calibration()
    cal = for_workload(calibration, workload_kind)
    by_family = cal[cal["scope"] == "family"].set_index("key")
    by_kind = cal[cal["scope"] == "kind"].set_index("key")
    fam = chips["family"].str.lower()
    kind = chips["kind"].str.lower()
    # each chip's row in the family and kind tables (-1: none), looked up once for every factor
    at_family = by_family.index.get_indexer(fam)
    at_kind = by_kind.index.get_indexer(kind)
    has_family = at_family >= 0
    out = {}
    for factor in FACTORS:
        from_family = _gather(by_family, factor, at_family)
        from_kind = _gather(by_kind, factor, at_kind)
        own = chips[factor] if factor in chips else pd.Series(np.nan, index=chips.index)
        out[factor] = own.fillna(pd.Series(np.where(has_family, from_family, from_kind), index=chips.index))
    fam_src = "family " + fam + ": " + fam.map(by_family["source"].to_dict()).astype(object).fillna("")
    kind_src = "kind " + kind + ": " + kind.map(by_kind["source"].to_dict()).astype(object).fillna("")
    out["calibration_source"] = pd.Series(np.where(has_family, fam_src, kind_src), index=chips.index)
    if path:
        out["calibration_source"] = f"{path}: " + out["calibration_source"]
    return chips.assign(**out)


def _gather(table: pd.DataFrame, factor: str, at: np.ndarray) -> np.ndarray:
    """`table[factor]` at rows `at` (Series.map by index, vectorized), NaN where `at` is -1
    or the table lacks the factor."""
    if factor not in table or not len(table):
        return np.full(len(at), np.nan)
    values = table[factor].to_numpy()
    return np.where(at >= 0, values[np.maximum(at, 0)], np.nan)
