"""`inferchip report`: the self-contained HTML report (size, offline, every chart),
the missing-extra message, and a real headless Chromium opening it: no console
message, every chart in the rendered DOM, a screenshot of the right shape.

The browser tests skip only when INFERCHIP_NO_BROWSER=1 is set; otherwise a missing
Chromium fails them (`.ci/run` installs Debian's chromium)."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from inferchip.report.html import CHARTS

MAX_REPORT_BYTES = 2_000_000
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--enable-logging=stderr", "--v=0"]


@pytest.fixture(scope="module")
def report_file(tmp_path_factory) -> Path:
    from typer.testing import CliRunner

    from inferchip.cli import app

    path = tmp_path_factory.mktemp("report") / "report.html"
    result = CliRunner().invoke(app, ["report", "--samples", "500", "--output", str(path)], env={},
                                catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return path


def test_report_is_small_self_contained_and_has_every_chart(report_file):
    text = report_file.read_text(encoding="utf-8")
    assert report_file.stat().st_size < MAX_REPORT_BYTES
    assert "<script" not in text.lower()
    # nothing is fetched: no element loads a URL (links to sources are text, never src=)
    assert not re.search(r"""\b(src|href)\s*=\s*["']?(https?:)?//""", text, re.I)
    assert not re.search(r"<(link|img|iframe|object|embed)\b", text, re.I)
    for name in CHARTS:
        figure = re.search(rf'<figure class="chart" data-chart="{name}">(.*?)</figure>', text, re.S)
        assert figure and "<svg" in figure.group(1) and "<path" in figure.group(1), name
    for section in ("ranking", "breakeven", "sensitivity", "uncertainty", "plan", "scalability", "flags",
                    "assumptions"):
        assert f'id="{section}"' in text
    scale = re.search(r'<table id="scalability-table">(.*?)</table>', text, re.S).group(1)
    assert "InfiniBand" in scale and "docs.nvidia.com" in scale  # sourced scale-out facts of the ranked chips
    assert "electricity_usd_per_kwh" in text and "Data-quality flags" in text


def test_missing_matplotlib_is_one_line(invoke, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    result = invoke("report", "--output", str(tmp_path / "r.html"))
    assert result.exit_code == 2
    assert result.stderr == ("error: the HTML report draws its charts with matplotlib, which is not installed: "
                             "pip install 'inferchip[report]' (or pip install matplotlib)\n")
    assert not (tmp_path / "r.html").exists()


def test_report_output_must_be_html(invoke, tmp_path):
    result = invoke("report", "--output", str(tmp_path / "r.json"))
    assert result.exit_code == 2 and "name the file *.html" in result.stderr


def _chromium() -> str:
    if os.environ.get("INFERCHIP_NO_BROWSER") == "1":
        pytest.skip("INFERCHIP_NO_BROWSER=1: browser tests skipped on request")
    for name in (os.environ.get("INFERCHIP_CHROMIUM", ""), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    pytest.fail("no Chromium found: apt-get install -y chromium (what .ci/run does), or set "
                "INFERCHIP_NO_BROWSER=1 to skip the browser tests explicitly")


def _browse(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    argv = [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, page.resolve().as_uri()]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


def _console(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def test_the_console_check_catches_an_error(tmp_path):
    """The detector used below sees a console.error (so its silence on the report means something)."""
    page = tmp_path / "control.html"
    page.write_text('<!DOCTYPE html><html><body><script>console.error("inferchip-control")</script></body></html>')
    run = _browse(page, tmp_path / "profile", "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    assert any("inferchip-control" in line for line in _console(run.stderr))


def test_chromium_renders_every_chart_without_console_messages(report_file, tmp_path):
    run = _browse(report_file, tmp_path / "profile", "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    assert _console(run.stderr) == []
    dom = run.stdout
    for name in CHARTS:
        figure = re.search(rf'<figure class="chart" data-chart="{name}">(.*?)</figure>', dom, re.S)
        assert figure and "<svg" in figure.group(1), name
    assert len(re.findall(r'<figure class="chart"', dom)) == len(CHARTS)
    assert "<table" in dom and "Assumptions and sources" in dom


def _png(path: Path) -> tuple[int, int, bytes]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    at, idat, size = 8, b"", None
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    assert size is not None
    return size[0], size[1], zlib.decompress(idat)


def test_screenshot_has_the_requested_shape_and_content(report_file, tmp_path):
    shot = tmp_path / "shot.png"
    run = _browse(report_file, tmp_path / "profile", "--window-size=1200,900", "--hide-scrollbars",
                  f"--screenshot={shot}")
    assert run.returncode == 0 and shot.exists(), run.stderr[-2000:]
    width, height, pixels = _png(shot)
    assert (width, height) == (1200, 900)
    assert len(set(pixels[: len(pixels) // 2])) > 20  # text, tables and charts: not a blank page


def test_report_numbers_are_the_commands_numbers():
    """The ranked rows are compare's rows, the plan's year 1 is compare's, the curves are
    compare at each volume: the report adds no number of its own."""
    from inferchip.compare import run_compare
    from inferchip.inputs import load_inputs
    from inferchip.plan_inputs import Facility, Horizon
    from inferchip.report_data import build

    inputs = load_inputs(None)
    data = build(inputs, Facility(), Horizon(years=2), samples=200, seed=1, top=5)
    from inferchip.basis import DEFAULT

    shown = run_compare(inputs.workload, inputs.assumptions, inputs.chips, bases=DEFAULT)  # compare's default rows
    expected = shown[shown["feasible"]].head(5)
    assert [r["option"] for r in data["ranked"]] == list(expected["option"])
    assert [r["cost_per_query_usd"] for r in data["ranked"]] == pytest.approx(list(expected["cost_per_query_usd"]))
    cmp = run_compare(inputs.workload, inputs.assumptions, inputs.chips)  # plan: one row per chip, own else rent
    best = data["plan"]["best"]["accelerator"]
    year1 = data["plan"]["years"][0]["cost_per_query_usd"]
    assert year1 == pytest.approx(float(cmp.set_index("accelerator").loc[best, "cost_per_query_usd"]), rel=1e-9)
    volume = data["breakeven"]["volumes_queries_per_day"][6]
    chip = next(k for k in data["breakeven"]["curves"] if k.endswith("(owned)"))
    at = load_inputs(None, sets=[f"queries_per_day={volume!r}"])
    row = run_compare(at.workload, at.assumptions, at.chips).set_index("accelerator").loc[chip.removesuffix(" (owned)")]
    assert data["breakeven"]["curves"][chip][6] == pytest.approx(float(row["cost_per_query_usd"]), rel=1e-9)


def test_markdown_memo_links_the_same_charts(invoke, tmp_path):
    memo = tmp_path / "memo.md"
    result = invoke("report", "--samples", "200", "--output", str(memo))
    assert result.exit_code == 0, result.stderr
    text = memo.read_text(encoding="utf-8")
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert [Path(link).stem for link in links] == list(CHARTS)
    for link in links:
        svg = (tmp_path / link).read_text(encoding="utf-8")
        assert svg.startswith("<svg") and "<path" in svg
    assert "## Assumptions and sources" in text and "| electricity_usd_per_kwh |" in text
    assert "## Software and scalability" in text and "| Scale-out fabric |" in text
    bad = invoke("report", "--format", "markdown")
    assert bad.exit_code == 2 and "add --output FILE.md" in bad.stderr


def test_a_missing_chromium_fails_unless_skipped_on_request(monkeypatch, tmp_path):
    """CI never skips the browser tests silently: without Chromium they fail (with the
    install command); only INFERCHIP_NO_BROWSER=1 skips them, and .ci/run installs it."""
    monkeypatch.setenv("PATH", str(tmp_path))  # no chromium on this PATH
    monkeypatch.delenv("INFERCHIP_CHROMIUM", raising=False)
    monkeypatch.delenv("INFERCHIP_NO_BROWSER", raising=False)
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y chromium"):
        _chromium()
    monkeypatch.setenv("INFERCHIP_NO_BROWSER", "1")
    with pytest.raises(pytest.skip.Exception, match="skipped on request"):
        _chromium()
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "apt-get install" in ci and " chromium" in ci and "make test" in ci
