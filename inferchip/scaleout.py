"""Scale-out fabric per accelerator (data/scaleout.csv): how systems of a chip are
joined beyond their scale-up domain (InfiniBand or Ethernet NICs per GPU, on-chip
RoCE ports, EFA, a TPU's data-center network, a vendor's own fabric), with the
source read and its date. Shown by `catalog show` and the HTML report; no cost
or speed figure uses it.

A chip without a row, or with an empty `scaleout_fabric`, is *unknown*: nothing
was found, which is not the same as "has none".

  scaleout_gbit_per_s_per_accelerator = the fabric's bandwidth out of one system
      / its accelerators [Gb/s per accelerator, one direction], where a source gives it
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from inferchip.errors import InputError, shown

COLUMNS = ("name", "scaleout_fabric", "scaleout_gbit_per_s_per_accelerator", "source", "as_of", "source_check",
           "notes")
UNKNOWN = "unknown"


def scaleout_path() -> Path:
    from inferchip.data_files import data_path

    return data_path("scaleout.csv")


def read_scaleout(path: Path | None = None) -> pd.DataFrame:
    """The table, checked: a name and a read date on every row, a source for every row
    that states a fabric or a bandwidth, a bandwidth above 0 where given, each name
    once. Problems are collected and raised together with their line numbers."""
    from inferchip.csvfile import read_text_table

    path = path or scaleout_path()
    frame = read_text_table(path, COLUMNS)
    text = {c: frame[c].astype(str).str.strip() for c in COLUMNS}
    gbps = pd.to_numeric(text["scaleout_gbit_per_s_per_accelerator"].replace("", np.nan), errors="coerce")
    stated = (text["scaleout_fabric"] != "") | (text["scaleout_gbit_per_s_per_accelerator"] != "")
    checks = [  # (rows failing, message of a row), in the order they are reported on one line
        ((text["name"] == "") | (text["as_of"] == ""), lambda i: "name and as_of must not be empty"),
        (text["name"].str.lower().duplicated(keep="first"),
         lambda i: f"name: {shown(frame['name'].iloc[i])} is listed twice; keep one row per accelerator"),
        (stated & (text["source"] == ""), lambda i: "source: empty; every stated fabric or bandwidth needs a source"),
        ((text["scaleout_gbit_per_s_per_accelerator"] != "") & ~(gbps > 0),
         lambda i: "scaleout_gbit_per_s_per_accelerator: must be a number above 0 or empty (got "
                   f"{shown(frame['scaleout_gbit_per_s_per_accelerator'].iloc[i])})"),
        ((text["scaleout_gbit_per_s_per_accelerator"] != "") & (text["scaleout_fabric"] == ""),
         lambda i: "scaleout_fabric: empty; a bandwidth needs the fabric it belongs to"),
    ]
    lines = np.arange(2, len(frame) + 2)
    found = sorted((int(i), order) for order, (mask, _) in enumerate(checks) for i in np.flatnonzero(mask.to_numpy()))
    problems = [f"{path}:{lines[i]}: {checks[order][1](i)}" for i, order in found]
    if problems:
        raise InputError("\n".join(problems))
    return frame


def scaleout_facts(name: str, table: pd.DataFrame | None = None) -> dict[str, object]:
    """What `catalog show` and the report say about one accelerator's scale-out:
    scaleout_fabric ('unknown' where nothing was found), scaleout_gbit_per_s_per_accelerator
    (None where not given), scaleout_source and scaleout_as_of."""
    table = read_scaleout() if table is None else table
    row = table[table["name"].str.strip().str.lower() == str(name).strip().lower()]
    if not len(row) or not row["scaleout_fabric"].iloc[0].strip():
        return {"scaleout_fabric": UNKNOWN, "scaleout_gbit_per_s_per_accelerator": None,
                "scaleout_source": "not in data/scaleout.csv" if not len(row) else row["source"].iloc[0] or "none found",
                "scaleout_as_of": row["as_of"].iloc[0] if len(row) else ""}
    first = row.iloc[0]
    gbps = first["scaleout_gbit_per_s_per_accelerator"].strip()
    return {"scaleout_fabric": first["scaleout_fabric"].strip(),
            "scaleout_gbit_per_s_per_accelerator": float(gbps) if gbps else None,
            "scaleout_source": first["source"], "scaleout_as_of": first["as_of"]}
