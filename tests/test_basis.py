"""Own vs rent vs commit vs API rows (`compare --basis`)."""

from __future__ import annotations

import pytest

from inferchip import basis
from inferchip.errors import UsageError


def test_parse():
    assert basis.parse(None) == ("auto",)
    assert basis.parse("all") == ("own", "rent", "commit", "api")
    assert basis.parse("own, api") == ("own", "api")
    with pytest.raises(UsageError, match="unknown basis lease"):
        basis.parse("own,lease")
    with pytest.raises(UsageError, match="auto already means own"):
        basis.parse("auto,own")


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


def test_default_is_one_row_per_chip(compare_json):
    rows = compare_json()["results"]
    assert len({r["accelerator"] for r in rows}) == len(rows)
    assert all(r["option"] == r["accelerator"] for r in rows)


def test_from_option_accepts_issue_13_filter_values_and_lists():
    assert basis.from_option(None) == (("auto",), None)
    assert basis.from_option(["rented"]) == (("rent",), ["rented"])
    assert basis.from_option(["own,api", "committed"]) == (("own", "api", "commit"), ["owned", "api", "committed"])
    assert basis.from_option(["all"]) == (("own", "rent", "commit", "api"), None)
