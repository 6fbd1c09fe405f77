"""Own vs rent vs commit vs API as rows of one comparison.

`compare --basis` chooses which ways of serving the workload become rows:

- own: buy the cheapest mix of purchase units (capital + running costs);
- rent: rent instances on demand at the catalog's `cloud_usd_per_hour`;
- commit: the same instances at a 1- or 3-year commitment, `cloud_commit_usd_per_hour`
  when the catalog has it, else on demand x (1 - committed_use_discount);
- api: pay a per-token API (data/api_prices.csv) for a model comparable to the workload's
  preset: cost per query = (input tokens x input price + output tokens x output price) / 1e6;
- best: per chip, the cheaper of own and rent (on demand) that serves the workload (one row
  per chip); ties go to own;
- auto: per chip, own when it has a purchase price, else rent (one row per chip).

The default is best + api: one row per chip on its cheaper basis, plus a row per API
serving the workload's model, so the cheapest way to serve is in one ranking.

Every row carries `option`, the unique row key (schema_version 2): the accelerator name
on a best/auto row, 'NVIDIA H100 SXM (rented)' on an explicit basis, 'Groq API (model)'
on an API row. `accelerator` keeps naming the chip (the API service on an API row);
diff, --fail-if examples, --baseline and the ranking's tie-break key on `option`.
Every row also carries `provider` (cloud or API provider where known) and its price source.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from inferchip.errors import UsageError
from inferchip.units import DAYS_PER_YEAR, QUERIES_PER_THOUSAND, RESULT_FIELDS, TOKENS_PER_MILLION

BASES = ("own", "rent", "commit", "api", "best", "auto")
ALL = ("own", "rent", "commit", "api")
PER_CHIP = ("best", "auto")  # one row per chip: its `option` is the accelerator name
DEFAULT = ("best", "api")  # each chip on its cheaper basis, plus the APIs for the workload's model


def parse(text: str | None) -> tuple[str, ...]:
    """'own,rent,api' -> ('own', 'rent', 'api'); 'all' = own,rent,commit,api; None = best,api."""
    if text is None:
        return DEFAULT
    items = [t.strip().lower() for t in text.split(",") if t.strip()]
    if items == ["all"]:
        return ALL
    bad = [t for t in items if t not in BASES]
    if bad or not items:
        raise UsageError(f"--basis {text}: unknown basis {', '.join(bad) or '(empty)'}; "
                         f"use a comma list of {', '.join(BASES)}, or all")
    per_chip = [t for t in PER_CHIP if t in items]
    if len(per_chip) > 1 or (per_chip and ({"own", "rent"} & set(items))):
        raise UsageError(f"--basis {text}: {per_chip[0]} already picks own or rent per chip; "
                         "keep one of best, auto, or own/rent")
    return tuple(dict.fromkeys(items))


ALIASES = {"owned": "own", "rented": "rent", "committed": "commit"}
SHOWN = {"own": "owned", "rent": "rented", "commit": "committed", "api": "api"}


def from_option(values: list[str] | None) -> tuple[tuple[str, ...], list[str] | None]:
    """`compare --basis` values (repeatable, comma-separated; own|owned, rent|rented,
    commit|committed, api, all, best, auto) -> (bases to compute, price_basis values to keep, or
    None to keep every row)."""
    if not values:
        return DEFAULT, None
    items = [ALIASES.get(t.strip().lower(), t.strip().lower()) for v in values for t in v.split(",") if t.strip()]
    bases = parse(",".join(items))
    if set(PER_CHIP) & set(bases) or set(bases) == set(ALL):
        return bases, None
    return bases, [SHOWN[b] for b in bases]


def option_label(accelerator: pd.Series, price_basis: pd.Series, basis: str) -> pd.Series:
    """'NVIDIA H100 SXM' for the best and auto bases, else 'NVIDIA H100 SXM (rented)' etc."""
    if basis in PER_CHIP:
        return accelerator.astype(str)
    return accelerator.astype(str) + " (" + price_basis.astype(str) + ")"


def cheaper(own: pd.DataFrame, rent: pd.DataFrame) -> pd.DataFrame:
    """The best basis per chip: `own` and `rent` are the same chips in the same order
    (evaluate with basis own and rent); a row is taken from `rent` where renting serves
    the workload for less per query than owning [USD/query], or where only renting has a
    price; else from `own` (ties to own: the owned row is the purchase decision)."""
    inf = np.inf
    cost_own = own["cost_per_query_usd"].where(own["feasible"].astype(bool), inf).fillna(inf).to_numpy(float)
    cost_rent = rent["cost_per_query_usd"].where(rent["feasible"].astype(bool), inf).fillna(inf).to_numpy(float)
    only_rent = (own["price_basis"] == "unpriced").to_numpy() & (rent["price_basis"] != "unpriced").to_numpy()
    take_rent = (cost_rent < cost_own) | only_rent
    return pd.concat([own[~take_rent], rent[take_rent]]).sort_index(kind="mergesort")


def key(results: pd.DataFrame) -> pd.Series:
    """The unique row key, lower-case: `option` where the frame has it, else the accelerator
    (frames and runs written before schema_version 2)."""
    names = results["accelerator"].astype(str)
    if "option" not in results:
        return names.str.lower()
    option = results["option"]
    return option.where(option.notna() & (option.astype(str) != ""), names).astype(str).str.lower()


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
    from inferchip.schema import field_type

    # text fields an API row has no value for are empty text, never null (schema: string)
    data.update({k: np.full(n, "", dtype=object) for k, f in RESULT_FIELDS.items() if field_type(k, f) == "string"})
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


def commit_columns(chips: pd.DataFrame, discount: float) -> dict[str, pd.Series]:
    """The catalog columns a committed-use row prices on: the committed price (commit_price)
    and, where the price table lists one, the provider, instance, source, date and estimate
    flag of that commitment; else the on-demand pick's, with the discount named in the source."""
    price = commit_price(chips, discount)
    on_demand = pd.to_numeric(chips["cloud_usd_per_hour"], errors="coerce")
    listed = (pd.to_numeric(chips["cloud_commit_usd_per_hour"], errors="coerce").notna()
              if "cloud_commit_usd_per_hour" in chips else pd.Series(False, index=chips.index))
    text = lambda name: chips[name].fillna("").astype(str) if name in chips else pd.Series("", index=chips.index)  # noqa: E731
    derived_source = ("committed use: on demand x (1 - committed_use_discount " f"{discount:g}) on "
                      + text("cloud_source"))
    out = {
        "cloud_usd_per_hour": price.where(listed | on_demand.notna()),
        "cloud_provider": text("cloud_commit_provider").where(listed, text("cloud_provider")),
        "cloud_instance": text("cloud_commit_instance").where(listed, text("cloud_instance")),
        "cloud_source": (text("cloud_commit_term") + " commitment: " + text("cloud_commit_source")).where(
            listed, derived_source),
        "cloud_as_of": text("cloud_commit_as_of").where(listed, text("cloud_as_of")),
    }
    if "cloud_is_estimate" in chips:
        commit_estimate = (chips["cloud_commit_is_estimate"].astype(bool) if "cloud_commit_is_estimate" in chips
                           else pd.Series(False, index=chips.index))
        out["cloud_is_estimate"] = commit_estimate.where(listed, chips["cloud_is_estimate"].astype(bool))
    return out


def commit_price(chips: pd.DataFrame, discount: float) -> pd.Series:
    """Committed price per accelerator-hour [USD/h]: the catalog's `cloud_commit_usd_per_hour`
    where present, else on demand x (1 - committed_use_discount)."""
    on_demand = pd.to_numeric(chips["cloud_usd_per_hour"], errors="coerce")
    derived = on_demand * (1.0 - discount)
    if "cloud_commit_usd_per_hour" in chips:
        listed = pd.to_numeric(chips["cloud_commit_usd_per_hour"], errors="coerce")
        return listed.where(listed.notna(), derived)
    return derived
