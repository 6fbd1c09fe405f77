from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inferchip.cli import app

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def invoke(runner):
    """Run the CLI; returns the Result (stdout and stderr kept apart)."""

    def _invoke(*args: str, env: dict | None = None):
        return runner.invoke(app, list(args), env=env or {}, catch_exceptions=False)

    return _invoke


@pytest.fixture
def compare_json(invoke):
    def _run(*args: str) -> dict:
        result = invoke("compare", *args, "--format", "json")
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    return _run


@pytest.fixture(autouse=True)
def _no_shared_config(monkeypatch):
    """Tests see neither an inferchip.toml above the working directory nor INFERCHIP_*
    variables of the machine; tests of the project config set them themselves."""
    import os

    keep = ("INFERCHIP_FUZZ_EXAMPLES", "INFERCHIP_NO_BROWSER", "INFERCHIP_CHROMIUM")  # test switches, not config
    for name in [n for n in os.environ if n.startswith("INFERCHIP_") and n not in keep]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("INFERCHIP_CONFIG", "")
    # no cache of parsed bundled data between runs (inferchip.runcache): a test that
    # changes a data path in process must see the change; tests/test_runcache.py turns it on
    monkeypatch.setenv("INFERCHIP_CACHE_DIR", "")
    from inferchip import runcache

    runcache.reset()
