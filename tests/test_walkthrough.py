"""The scripted walkthroughs in the docs (blocks between <!-- walkthrough --> markers),
run as written under `set -euo pipefail` in an empty folder, with `inferchip` on PATH."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"<!-- walkthrough -->\n```sh\n(.*?)```\n<!-- /walkthrough -->", re.S)


def walkthroughs() -> list[tuple[str, str]]:
    found = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for index, script in enumerate(BLOCK.findall(page.read_text(encoding="utf-8"))):
            found.append((f"{page.relative_to(ROOT)}#{index + 1}", script))
    return found


def run_script(script: str, folder: Path) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Run `script` with bash under set -euo pipefail; `inferchip` is this interpreter's
    inferchip, timed per call into timings.log (seconds, command)."""
    bin_dir = folder / ".bin"
    bin_dir.mkdir()
    log = folder / ".timings.log"
    wrapper = bin_dir / "inferchip"
    wrapper.write_text(f'#!/usr/bin/env bash\nstart=$(date +%s.%N)\nrc=0\n"{sys.executable}" -m inferchip "$@" || rc=$?\n'
                       f'echo "$(echo "$(date +%s.%N) - $start" | bc) inferchip $*" >> "{log}"\nexit $rc\n')
    wrapper.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFERCHIP_")}  # discovery on
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", NO_COLOR="1", COLUMNS="120")
    done = subprocess.run(["bash", "-c", "set -euo pipefail\n" + script], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=600)
    timings = log.read_text().splitlines() if log.exists() else []
    return done, timings


def test_the_procurement_page_holds_the_walkthrough():
    assert [name for name, _ in walkthroughs()] == ["docs/procurement.md#1"]


@pytest.mark.skipif(not any(os.access(Path(p) / "bc", os.X_OK) for p in os.environ.get("PATH", "").split(os.pathsep)),
                    reason="bc (used to time the calls) is not installed")
@pytest.mark.parametrize("name, script", walkthroughs(), ids=[n for n, _ in walkthroughs()])
def test_walkthrough_runs_under_strict_bash(tmp_path, name, script):
    done, timings = run_script(script, tmp_path)
    assert done.returncode == 0, f"{name}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    print("\n".join([f"{name}:", *timings]))
    if name.startswith("docs/procurement.md"):
        _check_procurement(tmp_path, done.stdout)


def _check_procurement(folder: Path, stdout: str) -> None:
    runs = {p.name: json.loads(p.read_text()) for p in folder.glob("run-*.json")}
    assert sorted(runs) == ["run-assistant-8b-high-volume.json", "run-rag-long-context-70b.json", "run-svc.json"]
    for doc in runs.values():  # the project config reached every run
        electricity = doc["assumptions"]["electricity_usd_per_kwh"]
        assert electricity["value"] == 0.10 and electricity["origin"].startswith("inferchip.toml (")
        assert doc["catalog"].endswith("quotes.csv")
        mi300x = next(r for r in doc["results"] if r["accelerator"] == "AMD MI300X")
        assert mi300x["server_price_usd"] == 210000 and mi300x["price_is_estimate"] is False
    gated = json.loads((folder / "gated.json").read_text())
    assert gated["gates"][0]["held"] is True
    memo = (folder / "memo.md").read_text()
    assert "# Inference hardware comparison" in memo and "AMD MI300X" in memo
    assert "NVIDIA H100 SXM" in memo  # the baseline, though the filters leave it out of the rows
    results = memo.split("## Results")[1].split("## ")[0]
    assert "NVIDIA" not in results and "(est.)" not in results
    assert (folder / "changes.tsv").read_text().startswith("accelerator\t")
    # the diff's exit code picked one branch of the script's `case` (0 = no material change,
    # 7 = a --fail-on condition held); which one depends on the data, the branch taken must be one
    assert ("material change: see changes.tsv" in stdout) != ("no material change" in stdout)
    assert len(stdout.strip().splitlines()[-3:]) == 3  # the top three names from `cut -f1`
