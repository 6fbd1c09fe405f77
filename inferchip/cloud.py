"""Cloud rental prices (data/cloud_prices.csv) and the policy that picks one per accelerator.

The table holds one row per (accelerator, provider, region, term) with its price
per accelerator-hour, date and source. The catalog frame keeps one resolved
on-demand price per accelerator, `cloud_usd_per_hour` [USD per accelerator-hour],
plus where it came from (`cloud_provider`, `cloud_basis`, `cloud_source`,
`cloud_as_of`) and the lowest commitment price (`cloud_commit_usd_per_hour`,
`cloud_commit_term`).

Policies (`--cloud-provider`):
- `default`: the lowest on-demand list price among the hyperscalers (AWS, Google
  Cloud, Microsoft Azure, Oracle Cloud); where no hyperscaler rents the chip, the
  lowest on-demand price of any provider (a neocloud), said so in `cloud_basis`;
- `lowest`: the lowest on-demand price of any provider;
- a provider name (case-insensitive): that provider's lowest on-demand price; chips
  it does not rent get no cloud price.
A catalog row that carries its own `cloud_usd_per_hour` (a user catalog or patch)
keeps it: provider `catalog`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from inferchip.csvfile import read_text_table
from inferchip.data_files import data_path
from inferchip.errors import InputError, UsageError, did_you_mean

TERMS = ("on-demand", "spot", "1yr", "3yr")
COMMIT_TERMS = ("1yr", "3yr")
PROVIDER_CLASSES = ("hyperscaler", "neocloud")
POLICIES = ("default", "lowest")
COLUMNS = ("accelerator", "provider", "provider_class", "region", "term", "usd_per_accelerator_hour",
           "instance", "is_estimate", "as_of", "source", "notes")
# Columns the resolution adds to the catalog frame (text unless numeric below).
RESOLVED_TEXT = ("cloud_provider", "cloud_basis", "cloud_region", "cloud_instance", "cloud_commit_term",
                 "cloud_source", "cloud_as_of", "cloud_commit_provider", "cloud_commit_instance",
                 "cloud_commit_source", "cloud_commit_as_of")
RESOLVED_NUMBERS = ("cloud_usd_per_hour", "cloud_commit_usd_per_hour")
RESOLVED_FLAGS = ("cloud_is_estimate", "cloud_commit_is_estimate")


def cloud_prices_path() -> Path:
    return data_path("cloud_prices.csv")


@lru_cache(maxsize=4)
def _read(path: str) -> pd.DataFrame:
    table = read_text_table(path, COLUMNS)
    problems = []
    price = pd.to_numeric(table["usd_per_accelerator_hour"], errors="coerce")
    for i in np.flatnonzero(~(price > 0).to_numpy()):
        problems.append(f"{path}: line {i + 2}: usd_per_accelerator_hour {table['usd_per_accelerator_hour'].iat[i]!r}"
                        " must be a positive number")
    for column, allowed in (("term", TERMS), ("provider_class", PROVIDER_CLASSES)):
        for i in np.flatnonzero(~table[column].isin(allowed).to_numpy()):
            problems.append(f"{path}: line {i + 2}: {column} {table[column].iat[i]!r} is not one of {', '.join(allowed)}")
    for column in ("accelerator", "provider", "as_of", "source"):
        for i in np.flatnonzero((table[column].str.strip() == "").to_numpy()):
            problems.append(f"{path}: line {i + 2}: column '{column}' is empty; every price names its {column}")
    if problems:
        raise InputError("\n".join(problems))
    return table.assign(usd_per_accelerator_hour=price, _key=table["accelerator"].str.lower(),
                        is_estimate=table["is_estimate"].str.lower().isin(("true", "yes", "1")))


def read_cloud_prices(path: Path | None = None) -> pd.DataFrame:
    """The validated cloud price table (prices as floats, `_key` = lower-case accelerator)."""
    return _read(str(path or cloud_prices_path()))


def providers(table: pd.DataFrame | None = None) -> list[str]:
    table = read_cloud_prices() if table is None else table
    return sorted(set(table["provider"]), key=str.lower)


def check_policy(policy: str, table: pd.DataFrame | None = None) -> str:
    """The policy as given (`default`, `lowest`) or the provider's name as the table spells it."""
    names = providers(table)
    wanted = policy.strip().lower()
    if wanted in POLICIES:
        return wanted
    for name in names:
        if name.lower() == wanted:
            return name
    raise UsageError(f"--cloud-provider {policy}: unknown provider.{did_you_mean(policy, names + list(POLICIES))}"
                     f" Choose default, lowest or one of: {', '.join(names)}")


def _lowest(rows: pd.DataFrame) -> pd.DataFrame:
    """Per accelerator key: the cheapest row (ties: provider name, then region)."""
    ordered = rows.sort_values(["_key", "usd_per_accelerator_hour", "provider", "region"], kind="mergesort")
    return ordered.drop_duplicates("_key").set_index("_key")


def choose(table: pd.DataFrame, policy: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """(on-demand pick, commitment pick, basis text) per accelerator key under `policy`."""
    on_demand = table[table["term"] == "on-demand"]
    commit = table[table["term"].isin(COMMIT_TERMS)]
    if policy == "default":
        hyper = _lowest(on_demand[on_demand["provider_class"] == "hyperscaler"])
        any_pick = _lowest(on_demand)
        fallback = any_pick[~any_pick.index.isin(hyper.index)]
        pick = pd.concat([hyper, fallback])
        basis = pd.Series(np.where(pick.index.isin(hyper.index),
                                   "default policy: lowest hyperscaler on-demand list price",
                                   "default policy: no hyperscaler rents it; lowest on-demand price of any provider"),
                          index=pick.index)
        hyper_commit = _lowest(commit[commit["provider_class"] == "hyperscaler"])
        commit_pick = pd.concat([hyper_commit, _lowest(commit).loc[lambda f: ~f.index.isin(hyper_commit.index)]])
    elif policy == "lowest":
        pick = _lowest(on_demand)
        basis = pd.Series("--cloud-provider lowest: lowest on-demand price of any provider", index=pick.index)
        commit_pick = _lowest(commit)
    else:
        pick = _lowest(on_demand[on_demand["provider"] == policy])
        basis = pd.Series(f"--cloud-provider {policy}: its lowest on-demand price", index=pick.index)
        commit_pick = _lowest(commit[commit["provider"] == policy])
    return pick, commit_pick, basis


def attach_cloud(chips: pd.DataFrame, policy: str = "default", table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Add the resolved cloud columns to every chip row (see the module docstring):
    a row's own cloud_usd_per_hour wins (provider `catalog`), else the policy's pick."""
    table = read_cloud_prices() if table is None else table
    policy = check_policy(policy, table)
    pick, commit_pick, basis = choose(table, policy)
    key = chips["name"].str.lower()
    own = pd.to_numeric(chips["cloud_usd_per_hour"], errors="coerce") if "cloud_usd_per_hour" in chips \
        else pd.Series(np.nan, index=chips.index)
    has_own = own.notna().to_numpy()
    text = lambda col: chips[col].astype(str) if col in chips else pd.Series("", index=chips.index)  # noqa: E731

    def mapped(frame: pd.DataFrame, column: str) -> pd.Series:
        return key.map(frame[column]) if len(frame) else pd.Series(np.nan, index=chips.index)

    table_price = mapped(pick, "usd_per_accelerator_hour").astype(float)
    listed = table_price.notna().to_numpy()
    estimate = mapped(pick, "is_estimate").astype(object).fillna(False).astype(bool).to_numpy()
    out = {
        "cloud_usd_per_hour": np.where(has_own, own, table_price),
        "cloud_provider": np.where(has_own, "catalog", mapped(pick, "provider").astype(object).fillna("")),
        "cloud_basis": np.where(has_own, "the catalog's own cloud_usd_per_hour",
                                np.where(listed, key.map(basis).astype(object).fillna("") + np.where(estimate, " (an estimate)", ""),
                                         "")),
        "cloud_region": np.where(has_own, "", mapped(pick, "region").astype(object).fillna("")),
        "cloud_instance": np.where(has_own, "", mapped(pick, "instance").astype(object).fillna("")),
        "cloud_source": np.where(has_own, text("cloud_source"), mapped(pick, "source").astype(object).fillna("")),
        "cloud_as_of": np.where(has_own, text("cloud_as_of"), mapped(pick, "as_of").astype(object).fillna("")),
        "cloud_commit_usd_per_hour": mapped(commit_pick, "usd_per_accelerator_hour").astype(float).to_numpy(),
        "cloud_commit_term": mapped(commit_pick, "term").astype(object).fillna("").to_numpy(),
        "cloud_commit_provider": mapped(commit_pick, "provider").astype(object).fillna("").to_numpy(),
        "cloud_commit_instance": mapped(commit_pick, "instance").astype(object).fillna("").to_numpy(),
        "cloud_commit_source": mapped(commit_pick, "source").astype(object).fillna("").to_numpy(),
        "cloud_commit_as_of": mapped(commit_pick, "as_of").astype(object).fillna("").to_numpy(),
        # a price the table marks as an estimate (the catalog's own price: the row's price_is_estimate has it)
        "cloud_is_estimate": ~has_own & estimate,
        "cloud_commit_is_estimate": mapped(commit_pick, "is_estimate").astype(object).fillna(False).astype(bool).to_numpy(),
    }
    columns = {k: pd.Series(np.asarray(v, dtype=float), index=chips.index) if k in RESOLVED_NUMBERS
               else pd.Series(np.asarray(v, dtype=bool), index=chips.index) if k in RESOLVED_FLAGS
               else pd.Series(np.asarray(v, dtype=object), index=chips.index).astype(str) for k, v in out.items()}
    return chips.assign(**columns)
