"""Project config (inferchip.toml found upwards) and INFERCHIP_* variables: what they
set, their precedence, and their errors."""

from __future__ import annotations

import json

import pytest

from inferchip import config
from inferchip.errors import InputError, NotFoundError


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder with inferchip.toml, quotes and a site assumptions file; the
    working directory is a subfolder of it and discovery is on."""
    (tmp_path / "quotes.csv").write_text("name,server_price_usd\nIntel Gaudi 3,150000\n")
    (tmp_path / "site.toml").write_text("pue = 1.2\ncost_of_capital = 0.1\n")
    (tmp_path / "inferchip.toml").write_text(
        'extend_catalog = ["quotes.csv"]\nassumptions = "site.toml"\n[set]\nelectricity_usd_per_kwh = 0.15\npue = 1.25\n')
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    monkeypatch.delenv("INFERCHIP_CONFIG")
    return tmp_path


def _doc(invoke, *args, env=None):
    result = invoke("compare", *args, "--format", "json", env=env)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_config_found_upwards_sets_catalog_and_assumptions(invoke, project):
    doc = _doc(invoke)
    assert doc["catalog"] == f"bundled (catalog.csv) + {project / 'quotes.csv'}"
    gaudi = next(r for r in doc["results"] if r["accelerator"] == "Intel Gaudi 3")
    assert gaudi["server_price_usd"] == 150000
    a = doc["assumptions"]
    assert a["electricity_usd_per_kwh"]["value"] == 0.15
    assert a["electricity_usd_per_kwh"]["origin"] == f"inferchip.toml ({project / 'inferchip.toml'}) [set]"
    assert a["pue"]["value"] == 1.25  # the file's [set] beats its assumptions file
    assert a["cost_of_capital"]["value"] == 0.1
    assert a["cost_of_capital"]["origin"].startswith(f"{project / 'site.toml'} (via inferchip.toml")


def test_precedence_default_file_env_profile_assumptions_set(invoke, project, tmp_path_factory):
    env = {"INFERCHIP_SET": "electricity_usd_per_kwh=0.2 server_life_years=4"}
    doc = _doc(invoke, env=env)
    assert doc["assumptions"]["electricity_usd_per_kwh"] == {**doc["assumptions"]["electricity_usd_per_kwh"],
                                                             "value": 0.2, "origin": "INFERCHIP_SET"}
    profile = tmp_path_factory.mktemp("w") / "w.toml"
    assert invoke("workloads", "init", str(profile)).exit_code == 0
    profile.write_text(profile.read_text().replace("# electricity_usd_per_kwh = 0.08", "electricity_usd_per_kwh = 0.11"))
    assert _doc(invoke, str(profile), env=env)["assumptions"]["electricity_usd_per_kwh"]["value"] == 0.11
    site = profile.parent / "cli.toml"
    site.write_text("electricity_usd_per_kwh = 0.12\n")
    assert _doc(invoke, str(profile), "--assumptions", str(site), env=env)[
        "assumptions"]["electricity_usd_per_kwh"]["value"] == 0.12
    top = _doc(invoke, str(profile), "--assumptions", str(site), "--set", "electricity_usd_per_kwh=0.13", env=env)
    assert top["assumptions"]["electricity_usd_per_kwh"]["value"] == 0.13
    assert top["assumptions"]["server_life_years"]["value"] == 4  # untouched by the later layers


def test_command_line_catalog_wins_and_extensions_add_up(invoke, project, tmp_path_factory):
    other = tmp_path_factory.mktemp("q") / "more.csv"
    other.write_text("name,server_price_usd\nAMD MI300X,100000\n")
    doc = _doc(invoke, "--extend-catalog", str(other), env={"INFERCHIP_EXTEND_CATALOG": str(other)})
    assert doc["catalog"] == f"bundled (catalog.csv) + {project / 'quotes.csv'} + {other} + {other}"


def test_assumptions_command_and_catalog_show_use_the_config(invoke, project):
    rows = json.loads(invoke("assumptions", "--format", "json").stdout)["assumptions"]
    pue = next(r for r in rows if r["key"] == "pue")
    assert pue["value"] == 1.25 and "inferchip.toml" in pue["origin"]
    shown = json.loads(invoke("catalog", "show", "Intel Gaudi 3", "--format", "json").stdout)["accelerator"]
    assert shown["server_price_usd"] == 150000


def test_empty_inferchip_config_turns_discovery_off(invoke, project):
    doc = _doc(invoke, env={"INFERCHIP_CONFIG": ""})
    assert doc["catalog"] == "bundled (catalog.csv)"
    assert doc["assumptions"]["pue"]["origin"] == "default"


def test_named_config_file(tmp_path):
    cfg = tmp_path / "team.toml"
    cfg.write_text('calibration = "cal.csv"\n')
    assert config.find_config(tmp_path / "elsewhere", {"INFERCHIP_CONFIG": str(cfg)}) == cfg
    assert config.read_config(cfg).calibration == tmp_path / "cal.csv"
    with pytest.raises(NotFoundError, match="INFERCHIP_CONFIG=.*config file not found"):
        config.find_config(tmp_path, {"INFERCHIP_CONFIG": str(tmp_path / "nope.toml")})


def test_no_config_and_no_variables_mean_no_layers(tmp_path):
    assert config.shared_layers({}, tmp_path) == []
    (tmp_path / "inferchip.toml").write_text("[set]\npue = 1.4\n")
    deeper = tmp_path / "x" / "y"
    deeper.mkdir(parents=True)
    assert [layer.sets for layer in config.shared_layers({}, deeper)] == [{"pue": 1.4}]


@pytest.mark.parametrize("text, message", [
    ('catalg = "x.csv"\n', "catalg: unknown key. Did you mean 'catalog'?"),
    ("extend_catalog = 3\n", "extend_catalog: must be a list of file paths"),
    ("set = 3\n", "set: must be a table"),
    ("catalog = 3\n", "catalog: must be a file path in quotes"),
])
def test_config_errors_name_the_file_and_key(tmp_path, text, message):
    cfg = tmp_path / "inferchip.toml"
    cfg.write_text(text)
    with pytest.raises(InputError, match=message):
        config.read_config(cfg)


def test_config_sets_take_assumption_keys_only(invoke, project):
    (project / "inferchip.toml").write_text("[set]\nqueries_per_day = 5\n")
    result = invoke("compare")
    assert result.exit_code == 2
    assert "[set]: queries_per_day: not an assumption key. Workload keys belong in the profile" in result.stderr
    bad = invoke("compare", env={"INFERCHIP_CONFIG": "", "INFERCHIP_SET": "pue"})
    assert bad.exit_code == 2 and bad.stderr.startswith("error: INFERCHIP_SET: 'pue': expected key=value")
