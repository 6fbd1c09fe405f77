"""Purchase units: data integrity, the sizer's maths, and the purchase in compare."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inferchip import purchase, server
from inferchip.catalog import load_catalog
from inferchip.errors import InputError

CHAT_100K = ("--set", "queries_per_day=100000", "--set", "input_tokens=600", "--set", "output_tokens=250")


def test_bundled_units_load_and_every_row_names_a_catalog_chip_and_a_source():
    units = purchase.read_units()
    names = set(load_catalog()["name"].str.lower())
    assert len(units) >= 40
    assert set(units["accelerator"].str.lower()) <= names
    assert units["source"].str.len().gt(10).all() and units["as_of"].str.len().ge(4).all()
    assert set(units["basis"]) == {"own", "rent"}
    assert (units["accelerators_per_unit"] >= 1).all()
    assert not units.duplicated(["accelerator", "basis", "unit"]).any()
    ranged = units[units["unit_price_low_usd"].notna()]
    assert len(ranged) >= 1 and ranged["price_is_estimate"].all()  # a price with a range is an estimate
    assert ((ranged["unit_price_low_usd"] <= ranged["unit_price_usd"])
            & (ranged["unit_price_usd"] <= ranged["unit_price_high_usd"])).all()


def test_bad_unit_rows_are_reported_with_line_and_column(tmp_path):
    path = tmp_path / "units.csv"
    path.write_text(",".join(purchase.UNIT_COLUMNS) + "\n"
                    "NVIDIA H100 SXM,buy,,box,4,,,,,,,src,2026\n"
                    "NVIDIA H100 SXM,own,,box,2.5,-3,,,maybe,,,src,2026\n"
                    "NVIDIA H100 SXM,rent,,p5,8,,,,,,,src,2026\n"
                    "NVIDIA H100 SXM,own,,box2,4,,100,200,,,,src,2026\n"
                    "NVIDIA H100 SXM,own,,box3,4,300,100,200,,,,src,2026\n")
    with pytest.raises(InputError) as err:
        purchase.read_units(path)
    text = str(err.value)
    assert "line 2: column 'basis': 'buy' is not own or rent" in text
    assert "line 3: column 'accelerators_per_unit': must be a whole number" in text
    assert "line 3: column 'unit_price_usd': must be a positive number" in text
    assert "line 3: column 'price_is_estimate'" in text
    assert "line 4: column 'provider' is empty; a rented unit names the cloud provider" in text
    assert "line 5: unit_price_low_usd/unit_price_high_usd: give the listed unit_price_usd and both ends" in text
    assert "line 6: unit_price_low_usd/unit_price_high_usd: must hold low <= unit_price_usd <= high" in text


def test_every_rented_unit_names_a_provider_that_prices_the_chip():
    from inferchip.cloud import read_cloud_prices

    rent = purchase.read_units().query("basis == 'rent'")
    prices = read_cloud_prices()
    priced = set(zip(prices["accelerator"].str.lower(), prices["provider"], strict=True))
    assert {(a.lower(), p) for a, p in zip(rent["accelerator"], rent["provider"], strict=True)} <= priced


@pytest.mark.parametrize(("provider", "chip", "purchase_text", "shown"), [
    ("default", "NVIDIA A10", "32 x AWS g5.xlarge", "AWS"),
    ("Oracle Cloud", "NVIDIA A10", "8 x Oracle Cloud BM.GPU.A10.4", "Oracle Cloud"),
    ("default", "AMD MI355X", "1 x Oracle Cloud BM.GPU.MI355X.8", "Oracle Cloud"),
    ("lowest", "NVIDIA H100 SXM", "2 x per accelerator-hour", "GMI Cloud"),
])
def test_rented_rows_size_on_the_chosen_providers_instances(compare_json, provider, chip, purchase_text, shown):
    """Issue 12: a rented row buys the instance sizes its provider sells (data/purchase_units.csv
    rows of that provider), and says which provider; a provider with no listed size is priced
    per accelerator-hour and the row says so."""
    rows = compare_json("chatbot-70b-100k", "--basis", "rent", "--cloud-provider", provider)["results"]
    row = next(r for r in rows if r["accelerator"] == chip)
    assert (row["purchase"], row["provider"], row["cloud_provider"]) == (purchase_text, shown, shown)
    assert row["accelerators_bought"] >= row["accelerators_used"]
    if "per accelerator-hour" in purchase_text:
        assert row["purchase_source"] == f"no instance size listed for {shown}: priced per accelerator-hour"


def test_committed_rows_take_the_commitments_provider_and_instances(compare_json):
    rows = {r["option"]: r for r in compare_json("chatbot-70b-100k", "--basis", "commit")["results"]}
    mi350 = rows["AMD MI350X (committed)"]  # DigitalOcean sells it on a 12-month term only
    assert mi350["provider"] == "DigitalOcean" and mi350["price_source"].startswith("1yr commitment: ")
    v6e = rows["Google TPU v6e (committed)"]  # the table's 3-year price, on Google Cloud's slices
    assert v6e["cloud_usd_per_hour"] == 1.22 and v6e["purchase"].endswith("Cloud TPU v6e-1")


def test_exclude_estimated_drops_a_rented_row_on_an_estimated_cloud_price(compare_json):
    rows = compare_json("chatbot-70b-100k", "--basis", "rent")["results"]
    trn2 = next(r for r in rows if r["accelerator"] == "AWS Trainium2")  # is_estimate in data/cloud_prices.csv
    assert trn2["price_is_estimate"] is True
    kept = compare_json("chatbot-70b-100k", "--basis", "rent", "--exclude-estimated")["results"]
    assert "AWS Trainium2" not in {r["accelerator"] for r in kept}


def test_units_for_replicas_packs_and_gangs():
    # 5 replicas of 2 chips in 8-GPU units: 4 per unit -> 2 units; in 1-GPU units: 2 per replica -> 10
    assert purchase.units_for_replicas(5, 8, 2) == 2
    assert purchase.units_for_replicas(5, 1, 2) == 10
    assert purchase.replicas_in_units(2, 8, 2) == 8
    assert purchase.replicas_in_units(3, 1, 2) == 1


def test_cheapest_mix_hand_case():
    # 9 one-chip replicas; units of 4 at 100 and 8 at 150 a year:
    # 8 alone: 2 units = 300; 4 alone: 3 = 300 (more GPUs: 12 vs 16 -> 4 alone wins the tie? no: 12 < 16);
    # one 8 + one 4 = 250 is the cheapest
    size = np.array([[4.0, 8.0]])
    cost = np.array([[100.0, 150.0]])
    u, cu, v, cv = purchase.cheapest_mix(np.array([9.0]), np.array([1.0]), size, cost)
    assert (size[0, u[0]], cu[0], size[0, v[0]], cv[0]) == (8.0, 1.0, 4.0, 1.0)


def test_cheapest_mix_never_buys_a_larger_unit_than_needed_when_smaller_is_cheaper():
    size = np.array([[1.0, 2.0, 4.0, 8.0, np.nan]])
    cost = np.array([[40.0, 70.0, 130.0, 250.0, np.nan]])
    for replicas in range(1, 20):
        u, cu, v, cv = purchase.cheapest_mix(np.array([float(replicas)]), np.array([1.0]), size, cost)
        bought = cu[0] * size[0, u[0]] + cv[0] * size[0, v[0]]
        spent = cu[0] * cost[0, u[0]] + cv[0] * cost[0, v[0]]
        assert bought >= replicas
        assert spent <= replicas * 40.0  # never dearer than 1-GPU units alone


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_cheapest_mix_solves_each_distinct_row_once_with_the_same_answer(seed):
    # the de-duplicated sizer (a row with one priced unit keyed on which costs are
    # finite, not their values) answers exactly as solving every row on its own
    rng = np.random.default_rng(seed)
    rows, width = int(rng.integers(1, 40)), int(rng.integers(1, 5))
    size = rng.choice([1.0, 2.0, 4.0, 8.0, 72.0, np.nan], (rows, width))
    cost = rng.choice([np.inf, np.nan, 1.0, 3.0], (rows, width)) * rng.uniform(1e3, 1e6, (rows, width))
    single = rng.random(rows) < 0.6  # most rows: one priced unit, at a cost that varies per row
    cost[single, 1:] = np.inf
    replicas = rng.choice([0.0, 1.0, 3.0, 9.0, 1e5, np.inf, np.nan], rows)
    n = rng.choice([1.0, 2.0, 8.0, 16.0], rows)
    with np.errstate(invalid="ignore"):  # inf - inf replicas: the sizer's own NaN, in both
        got = purchase.cheapest_mix(replicas, n, size, cost)
        every_row = purchase.cheapest_mix(replicas, n, size, cost, distinct=False)
        # the reference: every row solved as given, no de-duplication
        want = purchase.mix_pick(*purchase.mix_counts(replicas, n, np.asarray(size, dtype=float)),
                                 np.asarray(size, dtype=float), np.asarray(cost, dtype=float))
    for a, b, c in zip(got, every_row, want, strict=True):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, c)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_mix_pick_on_shared_candidates_answers_as_every_candidate_of_every_row(seed):
    # many rows on a few candidate rows (a sweep's replica classes): mix_pick compares only the
    # candidates that can win (usable, first of those that buy the same); each row's answer is
    # that of all its candidates, ties, unpriced units and nothing-priced rows included
    rng = np.random.default_rng(seed)
    shapes, width = int(rng.integers(1, 6)), int(rng.integers(1, 6))
    rows = shapes * width**2 + int(rng.integers(0, 200))
    size = np.sort(rng.choice([1.0, 2.0, 4.0, 8.0, 72.0], (shapes, width)), axis=1)
    size[rng.random((shapes, width)) < 0.15] = np.nan
    replicas = rng.choice([0.0, 1.0, 2.0, 3.0, 8.0, 9.0, 13.0, 1e5, np.inf, np.nan], shapes)
    n = rng.choice([1.0, 2.0, 3.0, 8.0, 16.0], shapes)
    levels = rng.choice([np.inf, np.nan, 0.0, 1.0, 2.0, 3.0], (rows, width))  # equal costs: ties
    cost = purchase.sizer_costs(np.where(rng.random((rows, width)) < 0.5, levels,
                                         levels * rng.uniform(1e3, 1e6, (rows, width))))
    of = rng.integers(0, shapes, rows)
    with np.errstate(invalid="ignore"):
        counts = purchase.mix_counts(replicas, n, size)
        got = purchase.mix_pick(*counts, size, cost, of)
        want = purchase.mix_pick(counts[0][of], counts[1][of], size[of], cost)  # every row its own, all candidates
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("row_hash", [purchase._ROW_HASH, 0])  # 0: every row collides, the exact fallback
def test_distinct_rows_groups_equal_rows_only(monkeypatch, row_hash):
    monkeypatch.setattr(purchase, "_ROW_HASH", row_hash)
    rng = np.random.default_rng(5)
    a = rng.choice([0.0, -0.0, 1.5, np.nan, np.inf], 500)
    b = rng.choice([1.0, 2.0, 1e300], 500)
    first, inverse = purchase.distinct_rows([a, b])
    bits = np.column_stack([a, b]).view(np.uint64)
    np.testing.assert_array_equal(bits[first[inverse]], bits)  # each row is its distinct row
    assert len({row.tobytes() for row in bits}) == len(first)  # and no two distinct rows merged
    assert (first == np.sort(first)).all() and (inverse[first] == np.arange(len(first))).all()


def test_unpriced_units_are_never_chosen():
    size = np.array([[1.0, 8.0]])
    cost = np.array([[np.inf, 500.0]])
    u, cu, v, cv = purchase.cheapest_mix(np.array([1.0]), np.array([1.0]), size, cost)
    assert size[0, u[0]] == 8.0 and cu[0] == 1.0 and cv[0] == 0.0
    _, none, _, _ = purchase.cheapest_mix(np.array([1.0]), np.array([1.0]), size, np.array([[np.inf, np.inf]]))
    assert np.isnan(none[0])


def test_a_chip_without_units_falls_back_to_the_catalog_server():
    chips = pd.DataFrame({"name": ["Nobody X1"], "devices_per_server": [4.0]})
    out = purchase.attach_units(chips)
    assert out[purchase.slot_column("own", "size", 0)].iloc[0] == 4.0
    assert out[purchase.slot_column("own", "name", 0)].iloc[0] == "catalog server"
    assert out[purchase.slot_column("rent", "size", 0)].iloc[0] == 1.0


def test_no_owned_row_pays_for_more_than_the_smallest_unit_that_meets_the_peak(compare_json):
    """Done-when of issue 12 at 100,000 queries/day: an owned row buys no more accelerators
    than the smallest purchasable unit (or set of one unit type) that holds its replicas."""
    units = purchase.read_units()
    catalog = load_catalog().set_index(load_catalog()["name"].str.lower())
    for row in compare_json(*CHAT_100K, "--basis", "own")["results"]:  # every chip's owned row
        if not row["feasible"] or row["price_basis"] != "owned":
            continue
        mine = units[(units["accelerator"].str.lower() == row["accelerator"].lower()) & (units["basis"] == "own")]
        sizes = mine["accelerators_per_unit"].to_numpy()
        if len(sizes) == 0:
            sizes = np.array([server.devices_per_server(catalog.loc[row["accelerator"].lower(), "devices_per_server"])])
        n, replicas = row["chips_per_replica"], row["replicas"]
        smallest = min(purchase.units_for_replicas(replicas, s, n) * s for s in sizes)
        assert row["accelerators_bought"] <= smallest, row["accelerator"]
        assert row["stranded_accelerators"] == row["accelerators_bought"] - row["accelerators_used"]
        assert 0 < row["utilisation"] <= row["peak_utilisation"] <= 1


def test_h100_sxm_buys_a_four_gpu_board_for_a_two_gpu_fleet(compare_json):
    row = next(r for r in compare_json(*CHAT_100K)["results"] if r["accelerator"] == "NVIDIA H100 SXM")
    if row["accelerators_used"] <= 4:
        assert row["purchase"] == "1 x HGX H100 4-GPU server"
        assert row["accelerators_bought"] == 4 and row["price_is_estimate"] is True
        assert row["purchase_source"].startswith("unit price derived from the catalog (server price x accelerators / "
                                                 "devices_per_server)")
        assert row["server_price_usd"] == pytest.approx(300_000 * 4 / 8)  # the DGX H100's share, as the text says


def test_derived_unit_price_says_which_rule_priced_it(compare_json):
    """A derived unit is priced as its share of the catalog server's price where there is one,
    else from the accelerator price; purchase_source names the rule that gave the number."""
    # a 100 ms TPOT keeps the A100 fleet within four GPUs, so the 4-GPU board is the unit bought
    rows = {r["accelerator"]: r for r in compare_json(*CHAT_100K, "--set", "tpot_ms=100", "--basis", "own")["results"]}
    a100 = rows["NVIDIA A100 80GB SXM"]  # catalog: 8-GPU server 145,000 USD and accelerators 12,500 USD
    assert a100["purchase"] == "1 x HGX A100 4-GPU server"
    assert a100["server_price_usd"] == pytest.approx(145_000 * 4 / 8)
    assert a100["purchase_source"].startswith("unit price derived from the catalog (server price x accelerators")
    t4 = {r["accelerator"]: r for r in compare_json("video-analytics-resnet50", "--basis", "own")["results"]}["NVIDIA T4"]
    assert t4["purchase"].endswith("x 1-GPU server")  # no T4 server price: accelerator price x 1 x (1 + host)
    assert t4["purchase_source"].startswith("unit price derived from the catalog (accelerator price x accelerators")
    assert t4["server_price_usd"] == pytest.approx(2000 * 1.25)


def test_shared_allocation_charges_the_used_share(compare_json):
    owned = ("--basis", "own")  # by default renting four GB200s beats a dedicated 72-GPU rack
    dedicated = {r["accelerator"]: r for r in compare_json(*CHAT_100K, *owned)["results"]}
    shared = {r["accelerator"]: r for r in compare_json(*CHAT_100K, *owned, "--allocation", "shared")["results"]}
    row, base = shared["NVIDIA GB200 NVL72"], dedicated["NVIDIA GB200 NVL72"]
    assert row["allocation"] == "shared" and base["allocation"] == "dedicated" and base["cost_share"] == 1
    assert row["cost_share"] == pytest.approx(row["accelerators_used"] / row["accelerators_bought"])
    assert row["annual_capex_usd"] == pytest.approx(base["annual_capex_usd"] * row["cost_share"])
    assert row["cost_per_query_usd"] < base["cost_per_query_usd"]


def test_allocation_flag_equals_the_set_override(compare_json):
    a = compare_json(*CHAT_100K, "--allocation", "shared")
    b = compare_json(*CHAT_100K, "--set", "allocation=shared")
    assert a["results"] == b["results"]


def test_bad_allocation_is_a_usage_error(invoke):
    result = invoke("compare", "--set", "allocation=half")
    assert result.exit_code != 0 and "allocation" in result.stderr
