"""Hostile input II (issue 16): inputs are never overwritten, non-regular files never
hang, blanks never change meaning, nothing traces back, memory is bounded, text
from files cannot steer a terminal or split a table, signals clean up."""

from __future__ import annotations

import json
import os
import shutil
import stat
import threading
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parent / "corpus"
ROOT = Path(__file__).resolve().parent.parent
WORKLOAD = ROOT / "data" / "workloads" / "support-chatbot-70b.toml"


@pytest.fixture
def inputs(tmp_path) -> dict[str, Path]:
    """Copies of a catalog, a workload, an assumptions file and a patch file."""
    (tmp_path / "sub").mkdir()
    files = {
        "catalog": tmp_path / "catalog.csv",
        "workload": tmp_path / "work.toml",
        "assumptions": tmp_path / "site.toml",
        "extend": tmp_path / "quotes.csv",
    }
    shutil.copy(CORPUS / "catalog" / "crlf.csv", files["catalog"])
    shutil.copy(WORKLOAD, files["workload"])
    files["assumptions"].write_text("pue = 1.3\n", encoding="utf-8")
    files["extend"].write_text("name,server_price_usd\nFixture GPU A,240000\n", encoding="utf-8")
    return files


def _args(files: dict[str, Path]) -> list[str]:
    return [str(files["workload"]), "--catalog", str(files["catalog"]), "--extend-catalog", str(files["extend"]),
            "--assumptions", str(files["assumptions"])]


def _snapshot(files: dict[str, Path]) -> dict[str, bytes]:
    return {k: p.read_bytes() for k, p in files.items()}


# --- data loss: --output never names an input ------------------------------------

@pytest.mark.parametrize("which", ["catalog", "workload", "assumptions", "extend"])
@pytest.mark.parametrize("spelling", ["same", "dotdot", "symlink", "hardlink"])
def test_output_naming_an_input_is_refused(invoke, inputs, tmp_path, which, spelling):
    before = _snapshot(inputs)
    target = inputs[which]
    if spelling == "dotdot":
        out = tmp_path / "sub" / ".." / target.name
    elif spelling == "symlink":
        out = tmp_path / "link.out"
        out.symlink_to(target)
    elif spelling == "hardlink":
        out = tmp_path / "hard.out"
        os.link(target, out)
    else:
        out = target
    result = invoke("compare", *_args(inputs), "--format", "json", "--output", str(out))
    what = {"catalog": "catalog", "extend": "catalog", "workload": "TOML", "assumptions": "TOML"}[which]
    assert result.exit_code == 5, result.stderr
    assert result.stderr == (f"error: --output {out}: is the {what} file {target} this command reads;"
                             " writing there would destroy it: choose another file name\n")
    assert result.stdout == ""
    assert _snapshot(inputs) == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_output_naming_a_diff_input_is_refused(invoke, tmp_path):
    run = tmp_path / "run.json"
    assert invoke("compare", "--format", "json", "--output", str(run)).exit_code == 0
    before = run.read_bytes()
    result = invoke("diff", str(run), str(run), "--format", "json", "--output", str(tmp_path / "." / "run.json"))
    assert result.exit_code == 5
    assert "is the run file" in result.stderr
    assert run.read_bytes() == before


def test_the_guard_forgets_inputs_between_commands(invoke, inputs, tmp_path):
    """A file read by one command can be the output of the next."""
    assert invoke("catalog", "validate", str(inputs["catalog"])).exit_code == 0
    result = invoke("compare", "--format", "json", "--output", str(inputs["catalog"]))
    assert result.exit_code == 0, result.stderr
    assert json.loads(inputs["catalog"].read_text())["results"]


def test_output_through_a_symlink_replaces_the_target_and_keeps_the_link(invoke, tmp_path):
    real = tmp_path / "real" / "result.json"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "latest.json"
    link.symlink_to(real)
    result = invoke("compare", "--format", "json", "--output", str(link))
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert json.loads(real.read_text())["results"]
    assert sorted(p.name for p in real.parent.iterdir()) == ["result.json"]


def test_output_through_a_dangling_symlink_creates_the_target(invoke, tmp_path):
    link = tmp_path / "latest.json"
    link.symlink_to(tmp_path / "new.json")
    assert invoke("compare", "--format", "json", "--output", str(link)).exit_code == 0
    assert link.is_symlink() and json.loads((tmp_path / "new.json").read_text())["results"]


def test_output_to_a_device_is_written_into_not_replaced(invoke):
    result = invoke("compare", "--format", "csv", "--output", os.devnull)
    assert result.exit_code == 0, result.stderr
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_output_to_a_fifo_is_written_into(invoke, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = invoke("compare", "--format", "json", "--output", str(fifo))
    reader.join(30)
    assert result.exit_code == 0, result.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert json.loads(received[0])["results"]


# --- hangs and double reads: one reader, regular files only, read once -----------

def _without_hanging(invoke, *args):
    """Run the CLI in a thread; a run still blocked after 20 s is a hang (the test
    then unblocks it by opening and closing the FIFO's other end)."""
    box = []
    worker = threading.Thread(target=lambda: box.append(invoke(*args)), daemon=True)
    worker.start()
    worker.join(20)
    if worker.is_alive():
        for arg in args:
            if Path(arg).exists() and stat.S_ISFIFO(os.stat(arg).st_mode):
                os.close(os.open(arg, os.O_RDWR))  # EOF for a reader blocked on the FIFO
        pytest.fail(f"inferchip {' '.join(args)} hangs")
    return box[0]


@pytest.mark.parametrize(("option", "what", "fix"), [
    ("--catalog", "catalog", "give the path of a CSV catalog file"),
    ("--extend-catalog", "catalog", "give the path of a CSV catalog file"),
    ("--assumptions", "TOML", "give the path of a TOML file"),
    ("workload", "TOML", "give the path of a TOML file"),
])
def test_a_fifo_input_is_refused_without_hanging(invoke, tmp_path, option, what, fix):
    fifo = tmp_path / "in.pipe"
    os.mkfifo(fifo)
    args = [str(fifo)] if option == "workload" else [option, str(fifo)]
    result = _without_hanging(invoke, "compare", *args, "--format", "json")
    assert result.exit_code == 2
    assert result.stderr == f"error: {fifo}: is a FIFO (named pipe), not a regular file; {fix}\n"


def test_a_fifo_given_to_diff_is_refused(invoke, tmp_path):
    fifo = tmp_path / "run.pipe"
    os.mkfifo(fifo)
    result = _without_hanging(invoke, "diff", str(fifo), str(fifo))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {fifo}: is a FIFO (named pipe), not a regular file;")


def test_a_device_input_is_refused(invoke):
    result = invoke("catalog", "validate", "/dev/zero")
    assert result.exit_code == 2
    assert result.stderr == "error: /dev/zero: is a device, not a regular file; give the path of a CSV catalog file\n"


def test_every_input_is_read_once(invoke, inputs, monkeypatch):
    from inferchip import safeio

    calls: list[str] = []
    real = safeio.read_input

    def counting(path, *args, **kwargs):
        calls.append(os.path.realpath(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(safeio, "read_input", counting)
    for module in ("catalog", "tomlfile", "csvfile", "diff"):
        monkeypatch.setattr(f"inferchip.{module}.read_input", counting)
    result = invoke("compare", *_args(inputs), "--format", "json")
    assert result.exit_code == 0, result.stderr
    for path in inputs.values():
        assert calls.count(os.path.realpath(path)) == 1, path


def test_an_oversized_input_is_refused_before_it_is_read(invoke, tmp_path, monkeypatch):
    from inferchip import safeio

    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * 2048)
    monkeypatch.setattr(safeio, "MAX_INPUT_BYTES", 1024)
    result = invoke("catalog", "validate", str(big))
    assert result.exit_code == 2
    assert result.stderr == (f"error: {big}: 2,048 bytes, above the limit of 1,024 bytes for a catalog file;"
                             " give the path of a CSV catalog file\n")
