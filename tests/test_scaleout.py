"""Scale-out fabric facts (data/scaleout.csv): data integrity (every stated fact has a
URL and a read date, names are catalog rows), the loader's one-line errors, and what
`catalog show` and the HTML report data say, 'unknown' where nothing was found."""

from __future__ import annotations

import json
import re

import pytest

from inferchip import scaleout
from inferchip.catalog import load_catalog
from inferchip.errors import InputError


@pytest.fixture(scope="module")
def table():
    return scaleout.read_scaleout()


def test_every_row_names_a_catalog_chip_and_every_fact_has_a_url_and_date(table):
    names = set(load_catalog()["name"])
    assert set(table["name"]) <= names and table["name"].is_unique
    stated = table[table["scaleout_fabric"] != ""]
    assert len(stated) >= 20  # most data-centre chips have a sourced fabric
    for row in table.itertuples(index=False):
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row.as_of), row.name
        if row.scaleout_fabric or row.scaleout_gbit_per_s_per_accelerator:
            assert re.search(r"https://\S+", row.source), row.name
            assert row.source_check, row.name  # how the source was read


def test_bandwidths_are_plausible_nic_speeds(table):
    """Per-accelerator scale-out from 50 Gb/s to one 1.6 Tb/s NIC each; a derived share
    says how it was derived."""
    given = table[table["scaleout_gbit_per_s_per_accelerator"] != ""]
    assert len(given) >= 10
    for row in given.itertuples(index=False):
        gbps = float(row.scaleout_gbit_per_s_per_accelerator)
        assert 50 <= gbps <= 1600, row.name
        shared = re.search(r"/ (\d+) (chips|cards)", row.notes)
        if shared:  # e.g. "3,200 Gb/s / 16 chips = 200 Gb/s per chip"
            assert "derived" in row.notes, row.name


def test_hand_checked_rows(table):
    rows = table.set_index("name")
    gaudi3 = rows.loc["Intel Gaudi 3"]
    assert float(gaudi3["scaleout_gbit_per_s_per_accelerator"]) == 3 * 200  # 3 scale-out ports x 200 GbE
    trn2 = rows.loc["AWS Trainium2"]
    assert float(trn2["scaleout_gbit_per_s_per_accelerator"]) == 3200 / 16  # EFA per trn2.48xlarge / chips
    assert "InfiniBand" in rows.loc["NVIDIA H100 SXM", "scaleout_fabric"]


@pytest.mark.parametrize("line, message", [
    (",fabric,,https://x,2026-12-01,,", "name and as_of must not be empty"),
    ("NVIDIA T4,Ethernet,,,2026-12-01,,", "source: empty; every stated fabric or bandwidth needs a source"),
    ("NVIDIA T4,Ethernet,-5,https://x,2026-12-01,,", "must be a number above 0 or empty (got -5)"),
    ("NVIDIA T4,,100,https://x,2026-12-01,,", "scaleout_fabric: empty; a bandwidth needs the fabric"),
])
def test_bad_rows_are_named_by_line(tmp_path, line, message):
    path = tmp_path / "s.csv"
    path.write_text(",".join(scaleout.COLUMNS) + "\n" + line + "\n")
    with pytest.raises(InputError) as caught:
        scaleout.read_scaleout(path)
    assert str(caught.value).startswith(f"{path}:2: ") and message in str(caught.value)


def test_a_missing_column_and_a_duplicate_are_refused(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("name,source\nNVIDIA T4,x\n")
    with pytest.raises(InputError, match="line 1: missing column"):
        scaleout.read_scaleout(path)
    row = "NVIDIA T4,Ethernet,,https://x,2026-12-01,,"
    path.write_text(",".join(scaleout.COLUMNS) + f"\n{row}\n{row.replace('NVIDIA T4', 'nvidia t4')}\n")
    with pytest.raises(InputError, match=r":3: name: nvidia t4 is listed twice"):
        scaleout.read_scaleout(path)


def test_facts_say_unknown_without_a_row(table):
    assert scaleout.scaleout_facts("NVIDIA T4", table) == {
        "scaleout_fabric": "unknown", "scaleout_gbit_per_s_per_accelerator": None,
        "scaleout_source": "not in data/scaleout.csv", "scaleout_as_of": ""}
    facts = scaleout.scaleout_facts("intel gaudi 2", table)
    assert facts["scaleout_gbit_per_s_per_accelerator"] == 300 and facts["scaleout_as_of"] == "2026-12-01"
    assert "docs.habana.ai" in facts["scaleout_source"]


def test_catalog_show_prints_the_fabric(invoke):
    shown = json.loads(invoke("catalog", "show", "intel gaudi 3", "--format", "json").stdout)["accelerator"]
    assert shown["scaleout_fabric"].startswith("on-chip RoCE Ethernet")
    assert shown["scaleout_gbit_per_s_per_accelerator"] == 600
    t4 = json.loads(invoke("catalog", "show", "t4", "--format", "json").stdout)["accelerator"]
    assert t4["scaleout_fabric"] == "unknown" and t4["scaleout_gbit_per_s_per_accelerator"] is None
    table = invoke("catalog", "show", "intel gaudi 3", "--format", "csv").stdout
    assert "scaleout_gbit_per_s_per_accelerator,600.0,Gb/s per accelerator" in table


def test_docs_count_the_sourced_rows(table):
    from pathlib import Path

    page = (Path(__file__).resolve().parent.parent / "docs" / "catalog.md").read_text(encoding="utf-8")
    fabric = int((table["scaleout_fabric"] != "").sum())
    gbps = int((table["scaleout_gbit_per_s_per_accelerator"] != "").sum())
    assert re.search(rf"{fabric}\s+chips have a sourced fabric, {gbps} of them with a bandwidth", page)
