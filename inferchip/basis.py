"""Own vs rent vs commit vs API as rows of one comparison.

`compare --basis` chooses which ways of serving the workload become rows:

- own: buy the cheapest mix of purchase units (capital + running costs);
- rent: rent instances on demand at the catalog's `cloud_usd_per_hour`;
- commit: the same instances at a 1- or 3-year commitment, `cloud_commit_usd_per_hour`
  when the catalog has it, else on demand x (1 - committed_use_discount);
- api: pay a per-token API (data/api_prices.csv) for a model comparable to the workload's
  preset: cost per query = (input tokens x input price + output tokens x output price) / 1e6;
- auto: per chip, own when it has a purchase price, else rent (one row per chip).

Every row carries `option` (a unique label: the accelerator and its basis, or the API),
`provider` (cloud or API provider where known) and its price source.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from inferchip.errors import UsageError
from inferchip.units import DAYS_PER_YEAR, QUERIES_PER_THOUSAND, RESULT_FIELDS, TOKENS_PER_MILLION

BASES = ("own", "rent", "commit", "api", "auto")
ALL = ("own", "rent", "commit", "api")
DEFAULT = ("auto",)  # one row per chip: `accelerator` stays a unique key for scripts, diff and gates
LABEL = {"own": "owned", "rent": "rented", "commit": "committed", "auto": ""}


def parse(text: str | None) -> tuple[str, ...]:
    """'own,rent,api' -> ('own', 'rent', 'api'); 'all' = own,rent,commit,api; None = auto."""
    if text is None:
        return DEFAULT
    items = [t.strip().lower() for t in text.split(",") if t.strip()]
    if items == ["all"]:
        return ALL
    bad = [t for t in items if t not in BASES]
    if bad or not items:
        raise UsageError(f"--basis {text}: unknown basis {', '.join(bad) or '(empty)'}; "
                         f"use a comma list of {', '.join(BASES)}, or all")
    if "auto" in items and ({"own", "rent"} & set(items)):
        raise UsageError(f"--basis {text}: auto already means own (else rent) per chip; drop auto or own/rent")
    return tuple(dict.fromkeys(items))


ALIASES = {"owned": "own", "rented": "rent", "committed": "commit"}
SHOWN = {"own": "owned", "rent": "rented", "commit": "committed", "api": "api"}


def from_option(values: list[str] | None) -> tuple[tuple[str, ...], list[str] | None]:
    """`compare --basis` values (repeatable, comma-separated; own|owned, rent|rented,
    commit|committed, api, all, auto) -> (bases to compute, price_basis values to keep, or
    None to keep every row)."""
    if not values:
        return DEFAULT, None
    items = [ALIASES.get(t.strip().lower(), t.strip().lower()) for v in values for t in v.split(",") if t.strip()]
    bases = parse(",".join(items))
    if "auto" in bases or set(bases) == set(ALL):
        return bases, None
    return bases, [SHOWN[b] for b in bases]


def option_label(accelerator: pd.Series, price_basis: pd.Series, basis: str) -> pd.Series:
    """'NVIDIA H100 SXM' for the auto basis, else 'NVIDIA H100 SXM (rented)' etc."""
    if basis == "auto":
        return accelerator.astype(str)
    return accelerator.astype(str) + " (" + price_basis.astype(str) + ")"


def api_rows(workload, prices: pd.DataFrame) -> pd.DataFrame:
    """One result row per API comparable to the workload's preset, with every result
    field: the API's own input/output prices as the per-million-token costs, cost per
    query = (in x input price + out x output price) / 1e6, annual cost = cost per query x
    queries per day x 365. Hardware fields are null; `meets_slo` is null (a provider's
    latency is not modelled)."""
    from inferchip.breakeven import api_options

    options = api_options(workload, prices)
    n = len(options)
    data: dict[str, object] = {k: np.full(n, np.nan) for k in RESULT_FIELDS}
    if n == 0:
        return pd.DataFrame(data)
    per_query = options["cost_per_query_usd"].to_numpy(float)
    inp, out = float(workload.input_tokens), float(workload.output_tokens)
    provider = options["provider"].astype(str).to_numpy(dtype=object)
    model = options["model"].astype(str).to_numpy(dtype=object)
    text = {
        "accelerator": provider + " API", "vendor": provider, "kind": np.full(n, "api", dtype=object),
        "price_basis": np.full(n, "api", dtype=object), "infeasible_reason": np.full(n, "", dtype=object),
        "throughput_source": np.full(n, "api", dtype=object), "throughput_reference": model,
        "precision_used": np.full(n, "", dtype=object), "precision_note": np.full(n, "", dtype=object),
        "purchase": "per-token API: " + model, "allocation": np.full(n, "", dtype=object),
        "calibration_source": np.full(n, "", dtype=object),
        "price_source": options["source"].astype(str).to_numpy(dtype=object),
        "price_as_of": options["as_of"].astype(str).to_numpy(dtype=object),
        "purchase_source": options["notes"].astype(str).to_numpy(dtype=object),
        "provider": provider, "option": provider + " API (" + model + ")",
    }
    data.update({k: v for k, v in text.items() if k in data or k in ("provider", "option")})
    data.update({
        "feasible": np.full(n, True), "meets_slo": np.full(n, None, dtype=object),
        "price_is_estimate": np.full(n, False),
        "cost_per_query_usd": per_query,
        "cost_per_thousand_queries_usd": per_query * QUERIES_PER_THOUSAND,
        "annual_tco_usd": per_query * workload.queries_per_day * DAYS_PER_YEAR,
        "annual_opex_usd": per_query * workload.queries_per_day * DAYS_PER_YEAR,
        "annual_capex_usd": np.zeros(n), "capex_usd": np.zeros(n),
        "cost_per_million_tokens_usd": per_query / out * TOKENS_PER_MILLION,
        "cost_per_million_tokens_blended_usd": per_query / (inp + out) * TOKENS_PER_MILLION,
        "cost_per_million_input_tokens_usd": options["usd_per_million_input_tokens"].to_numpy(float),
        "cost_per_million_output_tokens_usd": options["usd_per_million_output_tokens"].to_numpy(float),
        "cost_share": np.full(n, np.nan),
    })
    return pd.DataFrame(data)


def commit_price(chips: pd.DataFrame, discount: float) -> pd.Series:
    """Committed price per accelerator-hour [USD/h]: the catalog's `cloud_commit_usd_per_hour`
    where present, else on demand x (1 - committed_use_discount)."""
    on_demand = pd.to_numeric(chips["cloud_usd_per_hour"], errors="coerce")
    derived = on_demand * (1.0 - discount)
    if "cloud_commit_usd_per_hour" in chips:
        listed = pd.to_numeric(chips["cloud_commit_usd_per_hour"], errors="coerce")
        return listed.where(listed.notna(), derived)
    return derived
