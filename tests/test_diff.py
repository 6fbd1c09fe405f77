"""Savings against a baseline (`compare --baseline`) and `inferchip diff` of two runs."""

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inferchip.diff import BASELINE_FIELDS, DIFF_FIELDS, add_baseline, diff_runs, load_run
from inferchip.errors import InputError, NotFoundError, UsageError


def _results(costs: dict[str, float | None]) -> pd.DataFrame:
    names = list(costs)
    cost = [np.nan if costs[n] is None else costs[n] for n in names]
    return pd.DataFrame({"accelerator": names, "feasible": [c is not None for c in costs.values()],
                         "infeasible_reason": ["" if c is not None else "no price" for c in costs.values()],
                         "cost_per_query_usd": cost})


def test_add_baseline_by_hand():
    frame = add_baseline(_results({"A": 0.001, "B": 0.004, "C": None}), "b", 100_000)
    a, b, c = frame.to_dict("records")
    assert a["savings_per_query_usd"] == pytest.approx(0.003)
    assert a["savings_per_day_usd"] == pytest.approx(300.0)
    assert a["savings_per_year_usd"] == pytest.approx(109_500.0)
    assert a["savings_percent"] == pytest.approx(75.0)
    assert (b["savings_per_query_usd"], b["savings_per_year_usd"], b["savings_percent"]) == (0.0, 0.0, 0.0)
    assert all(np.isnan(c[k]) for k in BASELINE_FIELDS)


def test_add_baseline_errors():
    with pytest.raises(UsageError, match="--baseline 'C': not feasible for this workload \\(no price\\)"):
        add_baseline(_results({"A": 0.001, "C": None}), "C", 1000)
    with pytest.raises(NotFoundError):
        add_baseline(_results({"A": 0.001}), "Z", 1000)


@settings(max_examples=50, deadline=None)
@given(costs=st.lists(st.floats(1e-7, 1.0), min_size=2, max_size=12), qpd=st.floats(1.0, 1e9),
       which=st.integers(0, 11))
def test_savings_order_mirrors_cost_order(costs, qpd, which):
    names = [f"chip{i}" for i in range(len(costs))]
    base = names[which % len(names)]
    frame = add_baseline(_results(dict(zip(names, costs, strict=True))), base, qpd)
    by_cost = np.argsort(frame["cost_per_query_usd"].to_numpy(), kind="stable")
    savings = frame["savings_per_year_usd"].to_numpy()[by_cost]
    assert np.all(np.diff(savings) <= 1e-9 * np.abs(savings).max() + 1e-12)  # cheaper rows save more
    assert frame.loc[frame["accelerator"] == base, "savings_percent"].item() == 0.0
    np.testing.assert_allclose(frame["savings_per_year_usd"], frame["savings_per_day_usd"] * 365)


def test_cli_baseline(compare_json):
    rows = compare_json()["results"]
    feasible = [r for r in rows if r["feasible"]]
    base = feasible[2]
    doc = compare_json("--baseline", base["accelerator"].lower())
    assert doc["baseline"] == {"accelerator": base["accelerator"], "cost_per_query_usd": base["cost_per_query_usd"],
                               "queries_per_day": doc["workload"]["queries_per_day"]}
    qpd = doc["workload"]["queries_per_day"]
    for row in doc["results"]:
        if not row["feasible"]:
            assert all(row[k] is None for k in BASELINE_FIELDS)
            continue
        per_query = base["cost_per_query_usd"] - row["cost_per_query_usd"]
        # the JSON prints 10 significant digits: a difference of two printed costs carries their
        # rounding (up to 1e-9 of the larger), however small the difference itself
        printed = 1e-9 * max(base["cost_per_query_usd"], row["cost_per_query_usd"])
        assert row["savings_per_query_usd"] == pytest.approx(per_query, rel=1e-8, abs=printed)
        assert row["savings_per_day_usd"] == pytest.approx(per_query * qpd, rel=1e-8, abs=max(1e-9, printed * qpd))
        assert row["savings_per_year_usd"] == pytest.approx(per_query * qpd * 365, rel=1e-8,
                                                            abs=max(1e-9, printed * qpd * 365))
        # per year is also the difference of annual TCOs
        assert row["savings_per_year_usd"] == pytest.approx(base["annual_tco_usd"] - row["annual_tco_usd"], rel=1e-6)
        assert row["savings_percent"] == pytest.approx(per_query / base["cost_per_query_usd"] * 100, rel=1e-8,
                                                       abs=max(1e-9, printed / base["cost_per_query_usd"] * 100))
    assert doc["results"][0]["savings_per_query_usd"] > 0


def test_cli_baseline_answers_the_buyers_question(compare_json):
    """'What does switching from H100 save us at 100,000 queries a day?'"""
    doc = compare_json("--baseline", "NVIDIA H100 SXM", "--set", "queries_per_day=100000")
    assert doc["workload"]["queries_per_day"] == 100000
    best = doc["results"][0]
    assert best["savings_per_day_usd"] == pytest.approx(best["savings_per_query_usd"] * 100000, rel=1e-8)


def test_cli_baseline_survives_top(compare_json):
    rows = [r for r in compare_json()["results"] if r["feasible"]]
    doc = compare_json("--baseline", rows[-1]["accelerator"], "--top", "2")
    assert len(doc["results"]) == 2
    assert doc["baseline"]["cost_per_query_usd"] == rows[-1]["cost_per_query_usd"]
    assert all(r["savings_percent"] > 0 for r in doc["results"])


def test_cli_baseline_errors(invoke, compare_json):
    unknown = invoke("compare", "--baseline", "NVIDIA H100 SMX")
    assert unknown.exit_code == 3 and "Did you mean 'NVIDIA H100 SXM'?" in unknown.stderr
    blocked = next(r for r in compare_json()["results"] if not r["feasible"])
    result = invoke("compare", "--baseline", blocked["accelerator"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: --baseline '{blocked['accelerator']}': not feasible for this workload")


def test_cli_baseline_table_and_csv(invoke):
    table = invoke("compare", "--baseline", "NVIDIA H100 SXM", "--format", "table", env={"COLUMNS": "250"}).stdout
    assert "Saves/year" in table and "Baseline: NVIDIA H100 SXM at " in table
    header = invoke("compare", "--baseline", "NVIDIA H100 SXM", "--format", "csv").stdout.splitlines()[0].split(",")
    assert header[-4:] == list(BASELINE_FIELDS)


# --- diff ---------------------------------------------------------------------------------

def _doc(rows: list[dict], **extra) -> dict:
    base = {"schema_version": 1, "inferchip_version": "0.1.0", "command": "compare",
            "workload": {"name": "w", "queries_per_day": 1000.0, "origin": "w.toml"}, "catalog": "bundled",
            "assumptions": {"pue": {"value": 1.3, "unit": "ratio", "origin": "default", "source": "s"}},
            "results": rows}
    return {**base, **extra}


def _row(name: str, cost: float | None, **extra) -> dict:
    return {"accelerator": name, "feasible": cost is not None, "cost_per_query_usd": cost,
            "annual_tco_usd": None if cost is None else cost * 365_000, **extra}


BEFORE = _doc([_row("A", 0.002, server_price_usd=300000.0), _row("B", 0.001), _row("C", None), _row("D", 0.003)])
AFTER = _doc([_row("A", 0.0005, server_price_usd=250000.0), _row("B", 0.0015), _row("C", 0.004), _row("E", 0.0001)],
             assumptions={"pue": {"value": 1.2, "unit": "ratio", "origin": "--set", "source": "s"}},
             catalog="bundled + mine.csv")


def test_diff_by_hand():
    doc = diff_runs(BEFORE, AFTER, "before.json", "after.json")
    rows = {r["accelerator"]: r for r in doc["rows"]}
    assert [r["accelerator"] for r in doc["rows"]] == ["E", "A", "B", "C", "D"]
    a = rows["A"]
    assert a["change"] == "cheaper"
    assert a["delta_cost_per_query_usd"] == pytest.approx(-0.0015)
    assert a["delta_percent"] == pytest.approx(-75.0)
    assert (a["rank_before"], a["rank_after"], a["rank_change"]) == (2, 2, 0)
    assert a["drivers"] == "server_price_usd 300,000 -> 250,000"
    b = rows["B"]
    assert (b["change"], b["rank_before"], b["rank_after"], b["rank_change"]) == ("dearer", 1, 3, -2)
    assert b["delta_percent"] == pytest.approx(50.0)
    c = rows["C"]
    assert (c["change"], c["feasible_before"], c["feasible_after"]) == ("now_feasible", False, True)
    assert c["cost_per_query_usd_before"] is None and c["delta_percent"] is None and c["rank_before"] is None
    assert rows["D"]["change"] == "removed" and rows["D"]["cost_per_query_usd_after"] is None
    assert rows["E"]["change"] == "added" and rows["E"]["rank_after"] == 1
    assert doc["before"]["winner"] == "B" and doc["after"]["winner"] == "E" and doc["winner_changed"] is True
    assert doc["before"]["winner_cost_per_query_usd"] == 0.001
    assert doc["inputs_changed"] == [
        {"what": "assumption", "key": "pue", "before": 1.3, "after": 1.2},
        {"what": "catalog", "key": "catalog", "before": "bundled", "after": "bundled + mine.csv"},
    ]
    assert set(doc["rows"][0]) == set(DIFF_FIELDS)


def test_diff_of_identical_runs_is_quiet():
    doc = diff_runs(BEFORE, BEFORE)
    assert doc["inputs_changed"] == [] and doc["winner_changed"] is False
    assert {r["change"] for r in doc["rows"]} == {"unchanged", "infeasible"}
    assert all(r["delta_cost_per_query_usd"] in (0.0, None) and r["drivers"] == "" for r in doc["rows"])


def test_diff_matches_names_case_insensitively():
    after = _doc([_row("a", 0.002), _row("b", 0.001), _row("c", None), _row("d", 0.003)])
    assert {r["change"] for r in diff_runs(BEFORE, after)["rows"]} == {"unchanged", "infeasible"}


@pytest.mark.parametrize("content, error, message", [
    (None, NotFoundError, "file not found; save a run with `inferchip compare"),
    ("{not json", InputError, "line 1: not valid JSON"),
    ('{"schema_version": 1, "rows": []}', InputError, "not an `inferchip compare --format json` document"),
    ('{"schema_version": 3, "command": "compare", "results": []}', InputError, "schema_version 3 is not supported"),
    ('{"schema_version": 1, "command": "compare", "results": [{"accelerator": "A"}]}', InputError,
     "results[0]: missing feasible, cost_per_query_usd"),
])
def test_load_run_errors(tmp_path, content, error, message):
    path = tmp_path / "run.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(error) as info:
        load_run(path)
    assert info.value.message.startswith(f"{path}: ") and message in info.value.message


def test_cli_diff_price_and_assumption_change(invoke, tmp_path):
    before, after = tmp_path / "before.json", tmp_path / "after.json"
    assert invoke("compare", "--output", str(before)).exit_code == 0
    assert invoke("compare", "--set", "electricity_usd_per_kwh=0.24", "--output", str(after)).exit_code == 0
    result = invoke("diff", str(before), str(after), "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["inputs_changed"] == [{"what": "assumption", "key": "electricity_usd_per_kwh",
                                      "before": 0.08, "after": 0.24}]
    old = {r["accelerator"]: r for r in json.loads(before.read_text())["results"]}
    for row in doc["rows"]:
        basis = old[row["accelerator"]]["price_basis"]
        if row["change"] == "infeasible":
            continue
        if basis == "owned":
            assert row["change"] == "dearer" and row["delta_cost_per_query_usd"] > 0
        elif basis == "rented":
            assert row["change"] == "unchanged" and row["delta_cost_per_query_usd"] == 0
    assert doc["before"]["file"] == str(before)


def test_cli_diff_formats(invoke, tmp_path):
    before, after = tmp_path / "b.json", tmp_path / "a.json"
    invoke("compare", "--output", str(before))
    invoke("compare", "--set", "queries_per_day=3e6", "--output", str(after))
    table = invoke("diff", str(before), str(after), "--format", "table", env={"COLUMNS": "200"}).stdout
    assert "winner" in table and "workload queries_per_day: 1,000,000 -> 3,000,000" in table
    markdown = invoke("diff", str(before), str(after), "--format", "markdown").stdout
    assert markdown.startswith("# What changed: ") and "| Option | Before USD/query |" in markdown
    csv_out = invoke("diff", str(before), str(after), "--format", "csv").stdout
    assert csv_out.splitlines()[0] == ",".join(DIFF_FIELDS)
    piped = invoke("diff", str(before), str(after)).stdout  # not a terminal: TSV
    assert piped.splitlines()[0] == "\t".join(DIFF_FIELDS)


def test_cli_diff_errors(invoke, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    missing = invoke("diff", str(tmp_path / "nope.json"), str(bad))
    assert missing.exit_code == 3 and "nope.json: file not found" in missing.stderr
    wrong = invoke("diff", str(bad), str(bad))
    assert wrong.exit_code == 2 and "not an `inferchip compare --format json` document" in wrong.stderr
