"""Software support per accelerator (data/software_support.csv): which serving
frameworks the vendors' and frameworks' own documentation confirm, `--require-framework`
and the weighted ranking of `--weights cost=0.6,energy=0.2,software=0.2`.

A framework missing from a row means *not confirmed by the sources read*, not
"unsupported"; a chip absent from the file (a user catalog row) has none confirmed.

Scores (each 0..1, 1 = best among the rows ranked; null where the input is null):
  cost_score     = min(cost_per_query_usd) / cost_per_query_usd                 [fraction]
  energy_score   = min(energy_per_query_j) / energy_per_query_j                 [fraction]
  software_score = confirmed frameworks / the most any ranked row has          [fraction]
  weighted_score = sum(w_k x score_k) / sum(w_k) over the weights given        [fraction]
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from inferchip import server
from inferchip.errors import InputError, UsageError, did_you_mean, shown
from inferchip.units import Field

FRAMEWORKS = ("vllm", "tensorrt-llm", "sglang", "jax", "neuron")
COLUMNS = ("accelerator", "serving_frameworks", "fp8_in_vllm", "source", "as_of", "notes")
WEIGHT_KEYS = ("cost", "energy", "software")
SCORE_INPUT = {"cost": "cost_per_query_usd", "energy": "energy_per_query_j"}

# Result fields added by --require-framework / --weights (schema: compare).
SOFTWARE_FIELDS: dict[str, Field] = {
    "serving_frameworks": Field("", "serving frameworks confirmed for the chip in data/software_support.csv, "
                                    "';'-separated ('' = none confirmed; API rows: '')"),
}
WEIGHT_FIELDS: dict[str, Field] = {
    "cost_score": Field("fraction", "min(cost_per_query_usd) / cost_per_query_usd over the ranked rows (1 = cheapest)",
                        True),
    "energy_score": Field("fraction", "min(energy_per_query_j) / energy_per_query_j over the ranked rows "
                                      "(1 = least energy; null on API rows)", True),
    "software_score": Field("fraction", "confirmed serving frameworks / the most any ranked row has "
                                        "(null on API rows)", True),
    "weighted_score": Field("fraction", "sum(weight x score) / sum(weights) over --weights; ranks the rows, "
                                        "highest first", True),
}


def support_path() -> Path:
    from inferchip.data_files import data_path

    return data_path("software_support.csv")


def read_support(path: Path | None = None) -> pd.DataFrame:
    """The software-support table, checked: known columns and framework names, a
    source for every row that confirms something, fp8_in_vllm true/false/empty.
    Problems are collected and raised together with their line numbers."""
    from inferchip.csvfile import read_text_table

    path = path or support_path()
    frame = read_text_table(path, COLUMNS)
    lines = np.arange(2, len(frame) + 2)
    text = {c: frame[c].astype(str) for c in ("serving_frameworks", "source", "fp8_in_vllm", "accelerator", "as_of")}
    names = text["serving_frameworks"].str.split(";").map(lambda parts: [n for n in parts if n])
    unknown = names.map(lambda parts: next((n for n in parts if n not in FRAMEWORKS), ""))
    checks = [  # (rows failing, message of a row), in the order they are reported on one line
        (unknown != "", lambda i: f"serving_frameworks: unknown '{unknown.iloc[i]}'; use {', '.join(FRAMEWORKS)}"),
        ((names.str.len() > 0) & (text["source"].str.strip() == ""),
         lambda i: "source: empty; every confirmed framework needs a source"),
        (~text["fp8_in_vllm"].isin(["true", "false", ""]),
         lambda i: f"fp8_in_vllm: must be true, false or empty (got {shown(frame['fp8_in_vllm'].iloc[i])})"),
        ((text["accelerator"].str.strip() == "") | (text["as_of"].str.strip() == ""),
         lambda i: "accelerator and as_of must not be empty"),
    ]
    found = sorted((int(i), order) for order, (mask, _) in enumerate(checks) for i in np.flatnonzero(mask.to_numpy()))
    problems = [f"{path}:{lines[i]}: {checks[order][1](i)}" for i, order in found]
    if problems:
        raise InputError("\n".join(problems))
    return frame


def frameworks_for(names: pd.Series, support: pd.DataFrame | None = None) -> pd.Series:
    """Confirmed frameworks ('a;b') per accelerator name; '' for names not in the file."""
    support = read_support() if support is None else support
    table = dict(zip(support["accelerator"].str.lower(), support["serving_frameworks"], strict=True))
    return names.str.lower().map(table).fillna("").astype(str)


def parse_frameworks(names: list[str] | None) -> list[str]:
    """--require-framework values, lower-cased and checked against FRAMEWORKS."""
    out = []
    for name in names or []:
        key = name.strip().lower()
        if key not in FRAMEWORKS:
            raise UsageError(f"--require-framework {shown(name)}: unknown framework.{did_you_mean(key, FRAMEWORKS)}"
                             f" Frameworks: {', '.join(FRAMEWORKS)} (data/software_support.csv)")
        out.append(key)
    return out


def require(results: pd.DataFrame, frameworks: list[str]) -> pd.DataFrame:
    """Rows whose accelerator has every framework in `frameworks` confirmed (API rows drop out)."""
    listed = ";" + results["serving_frameworks"].astype(str) + ";"
    keep = np.ones(len(results), dtype=bool)
    for name in frameworks:
        keep &= listed.str.contains(f";{name};", regex=False).to_numpy()
    return results[keep].reset_index(drop=True)


def parse_weights(text: str) -> dict[str, float]:
    """'cost=0.6,energy=0.2,software=0.2' -> {key: weight}: keys from WEIGHT_KEYS, each
    weight a number >= 0, at least one above 0. Weights need not sum to 1 (they are normalised)."""
    weights: dict[str, float] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        key, sep, value = item.partition("=")
        key = key.strip().lower()
        if not sep or key not in WEIGHT_KEYS:
            raise UsageError(f"--weights {shown(item)}: use KEY=WEIGHT with KEY one of {', '.join(WEIGHT_KEYS)}, "
                             "e.g. --weights cost=0.6,energy=0.2,software=0.2")
        try:
            weight = float(value)
        except ValueError:
            weight = math.nan
        if not math.isfinite(weight) or weight < 0:
            raise UsageError(f"--weights {key}: the weight must be a number >= 0 (got {shown(value)})")
        if key in weights:
            raise UsageError(f"--weights: {key} given twice; give each key once")
        weights[key] = weight
    if not weights or sum(weights.values()) <= 0:
        raise UsageError("--weights: give at least one weight above 0, e.g. --weights cost=0.6,energy=0.2,software=0.2")
    return weights


def score(results: pd.DataFrame, weights: dict[str, float], inputs: dict[str, str] | None = None,
          scored: np.ndarray | None = None) -> pd.DataFrame:
    """Add the scores (module docstring) and rank by weighted_score, highest first;
    infeasible rows and rows whose weighted score is null last (by name).

    `inputs` maps cost/energy to the columns scored (default SCORE_INPUT: compare's
    per-query figures; `plan` scores its net present cost per query); `scored` marks
    the rows that take part (default: `feasible`)."""
    feasible = results["feasible"].to_numpy(dtype=bool) if scored is None else np.asarray(scored, dtype=bool)
    api = (results["price_basis"] == "api").to_numpy()
    scores = {}
    for key, column in (inputs or SCORE_INPUT).items():
        value = pd.to_numeric(results[column], errors="coerce").to_numpy(float)
        value = np.where(feasible & (value > 0), value, np.nan)
        best = np.nanmin(value) if np.isfinite(value).any() else np.nan
        scores[f"{key}_score"] = best / value
    listed = results["serving_frameworks"].astype(str)
    count = (listed.str.count(";") + (listed != "")).to_numpy(float)
    count = np.where(feasible & ~api, count, np.nan)
    most = np.nanmax(count) if np.isfinite(count).any() else np.nan
    scores["software_score"] = np.where(most > 0, count / most, np.where(np.isfinite(count), 0.0, np.nan))
    total = sum(weights.values())
    weighted = sum(w * np.asarray(scores[f"{k}_score"]) for k, w in weights.items() if w > 0) / total
    frame = results.assign(**scores, weighted_score=weighted)
    order = frame.assign(_last=~np.isfinite(weighted), _key=-np.nan_to_num(weighted),
                         _name=frame["accelerator"].str.lower())
    order = order.sort_values(["_last", "_key", "_name"], kind="mergesort")
    return frame.loc[order.index].reset_index(drop=True)


def weights_block(weights: dict[str, float], fields: dict[str, Field] | None = None) -> dict[str, object]:
    """The weights as given and normalised, with each score's definition (`fields`, default
    compare's WEIGHT_FIELDS): echoed in the output."""
    total = sum(weights.values())
    return {"given": dict(weights), "normalised": {k: w / total for k, w in weights.items()},
            "scores": {k: f.description for k, f in (fields or WEIGHT_FIELDS).items() if k.endswith("score")}}


def extra_fields(required: bool, weighted: bool) -> list[str]:
    """The result fields --require-framework / --weights add, in output order."""
    if not (required or weighted):
        return []
    return [*SOFTWARE_FIELDS, *(WEIGHT_FIELDS if weighted else {})]


def apply(results: pd.DataFrame, frameworks: list[str], weights: dict[str, float] | None) -> pd.DataFrame:
    """serving_frameworks on every row, then the --require-framework filter, then the weighted ranking."""
    results = results.assign(serving_frameworks=frameworks_for(results["accelerator"]).to_numpy())
    if frameworks:
        results = require(results, frameworks)
    if weights is not None and len(results):
        results = score(results, weights)
    return results


def chip_facts(row: dict, support: pd.DataFrame | None = None) -> dict[str, object]:
    """What `catalog show` adds for one accelerator: software support (with its source and
    date, 'unknown' where the file has nothing) and scalability: the smallest unit it is
    bought (or rented) in, from data/purchase_units.csv (else the catalog server), the
    scale-up domain from data/interconnect.csv and the scale-out fabric from data/scaleout.csv."""
    from inferchip.interconnect import read_interconnect
    from inferchip.purchase import read_units

    support = read_support() if support is None else support
    name = str(row["name"])
    match = support[support["accelerator"].str.lower() == name.lower()]
    facts: dict[str, object] = {}
    if len(match):
        first = match.iloc[0]
        facts.update(serving_frameworks=first["serving_frameworks"] or "unknown",
                     fp8_in_vllm=first["fp8_in_vllm"] or "unknown",
                     software_source=first["source"] or "none found", software_as_of=first["as_of"],
                     software_notes=first["notes"])
    else:
        facts.update(serving_frameworks="unknown", fp8_in_vllm="unknown",
                     software_source="not in data/software_support.csv", software_as_of="", software_notes="")
    units = read_units()
    basis = "rent" if str(row.get("rent_only", "")).lower() == "true" else "own"
    mine = units[(units["accelerator"].str.lower() == name.lower()) & (units["basis"] == basis)]
    if len(mine):
        smallest = mine.sort_values("accelerators_per_unit", kind="mergesort").iloc[0]
        facts.update(smallest_purchase_unit=f"{smallest['unit']} ({basis})",
                     smallest_purchase_unit_accelerators=float(smallest["accelerators_per_unit"]),
                     purchase_unit_source=str(smallest["source"]))
    elif basis == "own":  # compare's fallback (purchase.attach_units): the catalog server, blank rule applied
        dps = row.get("devices_per_server")
        dps = dps if isinstance(dps, (int, float)) else float("nan")
        blank = " is blank: 1 accelerator" if server.is_default(dps) else ""
        facts.update(smallest_purchase_unit=f"the catalog server (devices_per_server{blank})",
                     smallest_purchase_unit_accelerators=float(server.devices_per_server(dps)),
                     purchase_unit_source="data/catalog.csv")
    else:
        facts.update(smallest_purchase_unit="one accelerator-hour (rent)", smallest_purchase_unit_accelerators=1.0,
                     purchase_unit_source="no instance size in data/purchase_units.csv: priced per accelerator-hour")
    links = read_interconnect()
    link = links[links["name"].str.lower() == name.lower()] if "name" in links else links.iloc[:0]
    domain = pd.to_numeric(link["scaleup_domain"], errors="coerce").dropna() if len(link) else pd.Series(dtype=float)
    facts["scaleup_domain_accelerators"] = float(domain.iloc[0]) if len(domain) else None
    facts["scaleup_source"] = str(link["source"].iloc[0]) if len(link) else "not in data/interconnect.csv"
    from inferchip.scaleout import scaleout_facts

    facts.update(scaleout_facts(name))
    return facts
