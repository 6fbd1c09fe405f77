"""Own vs rent vs commit vs API rows (`compare --basis`)."""

from __future__ import annotations

import pytest

from inferchip import basis
from inferchip.errors import UsageError


def test_parse():
    assert basis.parse(None) == ("best", "api")
    assert basis.parse("all") == ("own", "rent", "commit", "api")
    assert basis.parse("own, api") == ("own", "api")
    with pytest.raises(UsageError, match="unknown basis lease"):
        basis.parse("own,lease")
    with pytest.raises(UsageError, match="auto already picks own or rent"):
        basis.parse("auto,own")
    with pytest.raises(UsageError, match="best already picks own or rent"):
        basis.parse("best,auto")


@pytest.fixture(scope="module")
def every_basis():
    from typer.testing import CliRunner

    from inferchip.cli import app

    out = CliRunner().invoke(app, ["compare", "chatbot-70b-100k", "--basis", "all", "--baseline", "Groq API",
                                   "--format", "json"], catch_exceptions=False)
    assert out.exit_code == 0, out.stderr
    import json

    return json.loads(out.stdout)


def test_every_basis_is_a_row_with_a_unique_option(every_basis):
    rows = every_basis["results"]
    options = [r["option"] for r in rows]
    assert len(options) == len(set(options))
    kinds = {r["price_basis"] for r in rows}
    assert {"owned", "rented", "committed", "api"} <= kinds
    h100 = {r["price_basis"]: r for r in rows if r["accelerator"] == "NVIDIA H100 SXM"}
    assert set(h100) == {"owned", "rented", "committed"}
    # committed = on demand x (1 - committed_use_discount), same instances
    d = every_basis["assumptions"]["committed_use_discount"]["value"]
    assert h100["committed"]["cost_per_query_usd"] == pytest.approx(h100["rented"]["cost_per_query_usd"] * (1 - d))
    assert h100["committed"]["purchase"] == h100["rented"]["purchase"] == "1 x AWS p5.48xlarge"


def test_api_rows_price_tokens_at_the_providers_list_prices(every_basis):
    groq = next(r for r in every_basis["results"] if r["option"] == "Groq API (llama-3.3-70b-versatile)")
    # data/api_prices.csv: 0.59 in, 0.79 out per million; 600 in / 250 out
    assert groq["cost_per_query_usd"] == pytest.approx((600 * 0.59 + 250 * 0.79) / 1e6)
    assert groq["cost_per_million_input_tokens_usd"] == 0.59 and groq["cost_per_million_output_tokens_usd"] == 0.79
    assert groq["cost_per_million_tokens_blended_usd"] == pytest.approx(groq["cost_per_query_usd"] / 850 * 1e6)
    assert groq["annual_tco_usd"] == pytest.approx(groq["cost_per_query_usd"] * 100_000 * 365)
    assert groq["meets_slo"] is None and groq["provider"] == "Groq" and groq["price_source"].startswith("https://")


def test_baseline_across_bases_gives_daily_and_yearly_savings(every_basis):
    assert every_basis["baseline"]["accelerator"] == "Groq API (llama-3.3-70b-versatile)"
    base = every_basis["baseline"]["cost_per_query_usd"]
    for row in every_basis["results"]:
        if row["feasible"]:
            saving = base - row["cost_per_query_usd"]
            assert row["savings_per_day_usd"] == pytest.approx(saving * 100_000)
            assert row["savings_per_year_usd"] == pytest.approx(saving * 100_000 * 365)


def test_default_is_one_row_per_chip_plus_the_apis(compare_json):
    doc = compare_json()
    rows = doc["results"]
    chips = [r for r in rows if r["price_basis"] != "api"]
    apis = [r for r in rows if r["price_basis"] == "api"]
    assert len({r["accelerator"] for r in chips}) == len(chips) and all(r["option"] == r["accelerator"] for r in chips)
    # the default workload is llama-2-70b: data/api_prices.csv has one comparable API (Together AI)
    assert [r["option"] for r in apis] == ["Together AI API (meta-llama/Llama-2-70b-hf)"]
    assert len({r["option"] for r in rows}) == len(rows)  # option is the unique row key
    assert doc["schema_version"] == 2
    # the per-basis summary names the cheapest feasible row of each basis, cheapest first
    cheapest = doc["cheapest"]
    costs = [c["cost_per_query_usd"] for c in cheapest]
    assert costs == sorted(costs) and cheapest[0]["option"] == next(r["option"] for r in rows if r["feasible"])
    for c in cheapest:
        assert c["cost_per_query_usd"] == min(r["cost_per_query_usd"] for r in rows
                                              if r["feasible"] and r["price_basis"] == c["price_basis"])


def test_best_basis_is_the_cheaper_of_owning_and_renting_each_chip(invoke):
    import json

    def run(*basis):
        out = invoke("compare", "chatbot-70b-100k", *basis, "--format", "json")
        return {r["option"]: r for r in json.loads(out.stdout)["results"]}

    best, every = run(), run("--basis", "own,rent")
    for name, row in best.items():
        if row["price_basis"] == "api" or not row["feasible"]:
            continue
        owned, rented = every.get(f"{name} (owned)"), every.get(f"{name} (rented)")
        costs = [r["cost_per_query_usd"] for r in (owned, rented) if r and r["feasible"]]
        assert row["cost_per_query_usd"] == min(costs), name
    # right-sizing: the H100 NVL needs 2 accelerators; renting 2 beats buying a 3-server fleet here
    assert best["NVIDIA H100 NVL"]["price_basis"] == "rented"


def test_from_option_accepts_issue_13_filter_values_and_lists():
    assert basis.from_option(None) == (("best", "api"), None)
    assert basis.from_option(["best"]) == (("best",), None)
    assert basis.from_option(["rented"]) == (("rent",), ["rented"])
    assert basis.from_option(["own,api", "committed"]) == (("own", "api", "commit"), ["owned", "api", "committed"])
    assert basis.from_option(["all"]) == (("own", "rent", "commit", "api"), None)


def test_done_when_the_default_table_shows_the_apis_and_the_blended_token_cost(invoke):
    """Issue 12 done-when at 100,000 queries/day (chatbot-70b-100k): the API rows, Groq's own
    among them, and the blended cost per million tokens are in the default table, and the
    cheapest way per basis is named under it."""
    table = invoke("compare", "chatbot-70b-100k", "--format", "table", env={"COLUMNS": "120"}).stdout
    assert "Cost/M tok" in table and "in+out USD" in table
    for api in ("Groq API", "Cerebras API", "SambaNova API", "Together AI API"):
        assert f"│{api}" in table.replace(" │", "│")
    assert "Cheapest way to serve, per basis (USD per query): api " in table
    assert "Groq API = llama-3.3-70b-versatile (0.59 in / 0.79 out USD per M tokens" in " ".join(table.split())
