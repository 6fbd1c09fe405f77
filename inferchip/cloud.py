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
from inferchip.runcache import persistent

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
@persistent({"cloud_prices.csv": "cloud price"}, paths=(0,))
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


def _lowest(rows: list[dict]) -> dict[str, dict]:
    """Per accelerator key: the cheapest row (ties: provider name, then region, then table order)."""
    out: dict[str, dict] = {}
    for row in sorted(rows, key=lambda r: (r["_key"], r["usd_per_accelerator_hour"], r["provider"], r["region"])):
        out.setdefault(row["_key"], row)
    return out


def choose(table: pd.DataFrame, policy: str) -> tuple[dict[str, dict], dict[str, dict], dict[str, str]]:
    """(on-demand pick, commitment pick, basis text) per accelerator key under `policy`, as
    dicts of table rows: a run resolves a few dozen rows, where plain dicts cost far less
    than frame operations."""
    columns = ("_key", "usd_per_accelerator_hour", "provider", "provider_class", "region", "term", "instance",
               "is_estimate", "as_of", "source")
    rows = table[list(columns)].to_dict("records")
    on_demand = [r for r in rows if r["term"] == "on-demand"]
    commit = [r for r in rows if r["term"] in COMMIT_TERMS]
    if policy == "default":
        hyper = _lowest([r for r in on_demand if r["provider_class"] == "hyperscaler"])
        pick = {**hyper, **{k: r for k, r in _lowest(on_demand).items() if k not in hyper}}
        basis = {k: "default policy: lowest hyperscaler on-demand list price" if k in hyper
                 else "default policy: no hyperscaler rents it; lowest on-demand price of any provider" for k in pick}
        hyper_commit = _lowest([r for r in commit if r["provider_class"] == "hyperscaler"])
        commit_pick = {**hyper_commit, **{k: r for k, r in _lowest(commit).items() if k not in hyper_commit}}
    elif policy == "lowest":
        pick = _lowest(on_demand)
        basis = dict.fromkeys(pick, "--cloud-provider lowest: lowest on-demand price of any provider")
        commit_pick = _lowest(commit)
    else:
        pick = _lowest([r for r in on_demand if r["provider"] == policy])
        basis = dict.fromkeys(pick, f"--cloud-provider {policy}: its lowest on-demand price")
        commit_pick = _lowest([r for r in commit if r["provider"] == policy])
    return pick, commit_pick, basis


def attach_cloud(chips: pd.DataFrame, policy: str = "default", table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Add the resolved cloud columns to every chip row (see the module docstring):
    a row's own cloud_usd_per_hour wins (provider `catalog`), else the policy's pick."""
    table = read_cloud_prices() if table is None else table
    policy = check_policy(policy, table)
    pick, commit_pick, basis = choose(table, policy)
    keys = [str(name).lower() for name in chips["name"].tolist()]
    own = pd.to_numeric(chips["cloud_usd_per_hour"], errors="coerce").to_numpy(dtype=float) \
        if "cloud_usd_per_hour" in chips else np.full(len(chips), np.nan)
    has_own = ~np.isnan(own)
    text = lambda col: chips[col].astype(str).to_numpy(dtype=object) if col in chips \
        else np.full(len(chips), "", dtype=object)  # noqa: E731

    def mapped(picked: dict[str, dict], column: str, missing: object = "") -> np.ndarray:
        return np.array([picked[k][column] if k in picked else missing for k in keys],
                        dtype=float if isinstance(missing, float) else object)

    table_price = mapped(pick, "usd_per_accelerator_hour", np.nan)
    listed = ~np.isnan(table_price)
    estimate = np.array([bool(pick[k]["is_estimate"]) if k in pick else False for k in keys], dtype=bool)
    out = {
        "cloud_usd_per_hour": np.where(has_own, own, table_price),
        "cloud_provider": np.where(has_own, "catalog", mapped(pick, "provider")),
        "cloud_basis": np.where(has_own, "the catalog's own cloud_usd_per_hour",
                                np.where(listed, np.array([basis.get(k, "") for k in keys], dtype=object)
                                         + np.where(estimate, " (an estimate)", ""), "")),
        "cloud_region": np.where(has_own, "", mapped(pick, "region")),
        "cloud_instance": np.where(has_own, "", mapped(pick, "instance")),
        "cloud_source": np.where(has_own, text("cloud_source"), mapped(pick, "source")),
        "cloud_as_of": np.where(has_own, text("cloud_as_of"), mapped(pick, "as_of")),
        "cloud_commit_usd_per_hour": mapped(commit_pick, "usd_per_accelerator_hour", np.nan),
        "cloud_commit_term": mapped(commit_pick, "term"),
        "cloud_commit_provider": mapped(commit_pick, "provider"),
        "cloud_commit_instance": mapped(commit_pick, "instance"),
        "cloud_commit_source": mapped(commit_pick, "source"),
        "cloud_commit_as_of": mapped(commit_pick, "as_of"),
        # a price the table marks as an estimate (the catalog's own price: the row's price_is_estimate has it)
        "cloud_is_estimate": ~has_own & estimate,
        "cloud_commit_is_estimate": np.array([bool(commit_pick[k]["is_estimate"]) if k in commit_pick else False
                                              for k in keys], dtype=bool),
    }
    columns = {k: pd.Series(np.asarray(v, dtype=float), index=chips.index) if k in RESOLVED_NUMBERS
               else pd.Series(np.asarray(v, dtype=bool), index=chips.index) if k in RESOLVED_FLAGS
               else pd.Series(np.asarray(v, dtype=object), index=chips.index).astype(str) for k, v in out.items()}
    return chips.assign(**columns)
