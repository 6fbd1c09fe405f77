"""document: clean JSON values from result frames (records) and the cheapest row of each basis."""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from inferchip.document import (
    _clean_floats,
    cheapest_by_basis,
    clean_number,
    records,
    round_significant,
)

FUZZ = settings(max_examples=int(os.environ.get("INFERCHIP_FUZZ_EXAMPLES", "100")), deadline=None)
SHOWN = ["price_basis", "option", "provider", "cost_per_query_usd", "cost_per_million_tokens_blended_usd",
         "times_cheapest"]


def cheapest_by_sorting(results: pd.DataFrame) -> list[dict]:
    """The definition: sort the feasible rows by cost (stable), keep each basis's first."""
    feasible = results[results["feasible"].astype(bool) & results["cost_per_query_usd"].notna()]
    if feasible.empty:
        return []
    best = feasible.sort_values("cost_per_query_usd", kind="mergesort").drop_duplicates("price_basis")
    best = best.assign(times_cheapest=best["cost_per_query_usd"] / best["cost_per_query_usd"].iloc[0])
    return [{k: clean_number(v) for k, v in row.items()} for row in best.reindex(columns=SHOWN).to_dict("records")]


def frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["price_basis", "option", "provider", "feasible", "cost_per_query_usd",
                                       "cost_per_million_tokens_blended_usd", "ttft_ms"])


def test_cheapest_hand_case():
    results = frame([("owned", "A", "", True, 0.004, 2.0, 10.0),
                     ("rented", "A on X", "X", True, 0.002, 1.0, 10.0),
                     ("owned", "B", "", False, 0.001, 0.5, 10.0),      # infeasible: not a candidate
                     ("owned", "C", "", True, 0.003, 1.5, 10.0),
                     ("api", "D API", "D", True, float("nan"), 3.0, 10.0),  # no cost: not a candidate
                     ("rented", "C on Y", "Y", True, 0.002, 1.25, 10.0)])  # ties with "A on X", comes later
    assert cheapest_by_basis(results) == [
        {"price_basis": "rented", "option": "A on X", "provider": "X", "cost_per_query_usd": 0.002,
         "cost_per_million_tokens_blended_usd": 1.0, "times_cheapest": 1.0},
        {"price_basis": "owned", "option": "C", "provider": "", "cost_per_query_usd": 0.003,
         "cost_per_million_tokens_blended_usd": 1.5, "times_cheapest": 1.5}]


def test_cheapest_ties_across_bases_keep_the_row_order_and_a_missing_column_is_null():
    results = frame([("owned", "B", "", True, 0.002, 1.0, 1.0), ("rented", "A", "X", True, 0.002, 1.0, 1.0)])
    results = results.drop(columns=["cost_per_million_tokens_blended_usd"])
    assert [(r["option"], r["cost_per_million_tokens_blended_usd"]) for r in cheapest_by_basis(results)] == \
        [("B", None), ("A", None)]


def test_cheapest_of_nothing_feasible_is_empty():
    assert cheapest_by_basis(frame([("owned", "A", "", False, 0.1, 1.0, 1.0)])) == []


ROWS = st.lists(st.tuples(st.sampled_from(["owned", "rented", "committed", "api"]), st.sampled_from("ABCDE"),
                          st.sampled_from(["", "X"]), st.booleans(),
                          st.sampled_from([0.001, 0.002, 0.0035, 1 / 3, float("nan"), 2e-7]),
                          st.floats(0, 10) | st.just(float("nan")), st.floats(0, 100)), max_size=30)


@given(ROWS)
@FUZZ
def test_cheapest_is_the_sorted_definition(rows):
    results = frame(rows)
    assert cheapest_by_basis(results) == cheapest_by_sorting(results)


@given(ROWS)
@FUZZ
def test_cheapest_on_a_filtered_frame_with_gaps_in_its_index(rows):
    results = frame(rows)
    results = results[results["option"] != "C"].iloc[::-1]
    assert cheapest_by_basis(results) == cheapest_by_sorting(results)


def test_records_cleans_each_kind_of_column():
    data = pd.DataFrame({
        "text": pd.Series(["a", None, "c"], dtype="str"),
        "text_full": pd.Series(["x", "y", "=z"], dtype="str"),
        "objects": pd.Series(["a", 1, None], dtype=object),
        "mixed": pd.Series([np.float64(1 / 3), np.nan, pd.NA], dtype=object),
        "flag": [True, False, True],
        "whole": np.array([1, 2, 3], dtype=np.int64),
        "cost_usd": [1 / 3, float("inf"), 12345.678901234],
        "servers": [2.0, 2.5, float("nan")],  # a count field: whole floats as int
    })
    assert records(data) == [
        {"text": "a", "text_full": "x", "objects": "a", "mixed": 0.3333333333, "flag": True, "whole": 1,
         "cost_usd": 0.3333333333, "servers": 2},
        {"text": None, "text_full": "y", "objects": 1, "mixed": None, "flag": False, "whole": 2, "cost_usd": None,
         "servers": 2.5},
        {"text": "c", "text_full": "=z", "objects": None, "mixed": None, "flag": True, "whole": 3,
         "cost_usd": 12345.6789, "servers": None}]
    assert records(data[[]]) == [{}, {}, {}]  # no column: one empty row per row
    assert type(records(data)[0]["servers"]) is int and type(records(data, ["cost_usd"])[0]["cost_usd"]) is float
    assert math.isnan(data["servers"].iloc[2])  # the frame is not changed


# --- rounding to SIGNIFICANT_DIGITS in one vectorized pass --------------------------

def same_float(a: object, b: object) -> bool:
    """Equal as JSON writes them: the same type and repr (so -0.0 is not 0.0)."""
    return type(a) is type(b) and repr(a) == repr(b)


def by_text(values: np.ndarray) -> list[float]:
    return [float(f"{v:.10g}") for v in values.tolist()]


def check_rounding(values: np.ndarray) -> None:
    rounded, exact = round_significant(values)
    for v, r, e, t in zip(values.tolist(), rounded.tolist(), exact.tolist(), by_text(values), strict=True):
        if e:
            assert same_float(r, t), (v, r, t)
        else:
            assert same_float(r, v) or math.isnan(v)  # left as it is for the text formatting


@given(st.lists(st.floats(), min_size=1, max_size=50))
@FUZZ
def test_round_significant_is_the_text_rounding(values):
    check_rounding(np.array(values))


@given(st.lists(st.integers(10**9, 10**11 - 1), min_size=1, max_size=20), st.integers(-25, 12),
       st.sampled_from(["", "5", "49999", "50001"]))
@FUZZ
def test_round_significant_on_decimal_halves(digits, exponent, tail):
    # decimals with 11+ significant digits, ending on (or next to) a half of the 10th digit
    values = np.array([float(f"{d}{tail}e{exponent}") for d in digits])
    check_rounding(np.concatenate([values, np.nextafter(values, np.inf), np.nextafter(values, -np.inf), -values]))


def test_round_significant_on_exact_halves_powers_of_ten_and_ranges():
    rng = np.random.default_rng(7)
    halves = np.concatenate([rng.integers(10**9, 10**10, 2000) + 0.5,  # n.5: exactly a half, to even
                             (rng.integers(10**8, 10**9, 2000) * 4 + rng.choice([1, 3], 2000)) / 4,
                             (rng.integers(10**7, 10**8, 2000) * 8 + rng.choice([1, 3, 5, 7], 2000)) / 8 * 2.0**-30])
    powers = np.array([10.0**k for k in range(-25, 25)])
    spread = 10 ** rng.uniform(-16, 13, 20000) * rng.choice([-1, 1], 20000)
    for values in (halves, powers, np.nextafter(powers, 0), np.nextafter(powers, np.inf), spread,
                   rng.integers(-10**12, 10**12, 2000).astype(float),
                   np.array([0.0, -0.0, 5e-324, -2.2e-308, 1.7976931348623157e308, np.inf, -np.inf, np.nan])):
        check_rounding(values)
    rounded, exact = round_significant(spread)
    inside = (np.abs(spread) >= 1e-12) & (np.abs(spread) < 1e10)  # the range the vectorized pass covers
    assert exact[inside].mean() > 0.999 and not exact[np.abs(spread) < 1e-14].any() and not exact[~inside].all()


@given(st.lists(st.tuples(st.floats(), st.floats(), st.floats(-1e12, 1e12).map(round)), max_size=20),
       st.lists(st.booleans(), min_size=3, max_size=3))
@FUZZ
def test_clean_floats_is_clean_number_per_value(rows, integer):
    columns = [np.array(c, dtype=float) for c in zip(*rows, strict=True)] if rows else [np.array([])] * 3
    cleaned = _clean_floats(columns, integer)
    for values, count, out in zip(columns, integer, cleaned, strict=True):
        expected = [clean_number(v, count) for v in values.tolist()]
        assert len(out) == len(expected) and all(same_float(a, b) for a, b in zip(out, expected, strict=True))
