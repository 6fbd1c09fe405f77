"""Hostile input II (issue 16): inputs are never overwritten, non-regular files never
hang, blanks never change meaning, nothing traces back, memory is bounded, text
from files cannot steer a terminal or split a table, signals clean up."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
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


# --- silent reinterpretation: what an empty cell means, per column type -----------

def test_a_blank_memory_gb_is_an_error_not_an_sram_chip(invoke, tmp_path):
    lines = (CORPUS / "catalog" / "crlf.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    at = header.index("memory_gb")
    row = lines[1].split(",")
    row[at] = ""
    catalog = tmp_path / "blank.csv"
    catalog.write_text("\n".join([lines[0], ",".join(row), lines[2]]) + "\n", encoding="utf-8")
    result = invoke("compare", "--catalog", str(catalog), "--format", "json")
    assert result.exit_code == 2
    assert result.stderr == (f"error: {catalog}: line 2: column 'memory_gb' is empty; write the off-chip memory"
                             " in GB (0 when the weights live only on die)\n")
    assert result.stdout == ""


def test_a_blank_cell_in_a_patch_file_leaves_the_value_unchanged(tmp_path):
    from inferchip.catalog import load_catalog

    base = load_catalog()
    flagged = base[base["price_is_estimate"]].iloc[0]
    patch = tmp_path / "quotes.csv"
    patch.write_text("name,price_is_estimate,rent_only,memory_gb,server_price_usd,price_source\n"
                     f"{flagged['name']},,,,123456,my quote\n", encoding="utf-8")
    row = load_catalog(None, [patch]).set_index("name").loc[flagged["name"]]
    assert bool(row["price_is_estimate"]) is True
    assert bool(row["rent_only"]) is bool(flagged["rent_only"])
    assert row["memory_gb"] == flagged["memory_gb"]
    assert row["server_price_usd"] == 123456 and row["price_source"] == "my quote"


def test_an_explicit_false_in_a_patch_file_still_applies(tmp_path):
    from inferchip.catalog import load_catalog

    base = load_catalog()
    flagged = base[base["price_is_estimate"]].iloc[0]
    patch = tmp_path / "quotes.csv"
    patch.write_text(f"name,price_is_estimate\n{flagged['name']},false\n", encoding="utf-8")
    row = load_catalog(None, [patch]).set_index("name").loc[flagged["name"]]
    assert bool(row["price_is_estimate"]) is False


# --- tracebacks: every failure is one line and an exit code ------------------------

def test_a_negative_seed_is_a_usage_error(invoke):
    result = invoke("uncertainty", "--seed", "-1", "--samples", "10", "--format", "json")
    assert result.exit_code == 2
    assert "Invalid value for '--seed': -1 is not in the range x>=0." in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_a_negative_seed_is_refused_by_the_library_too():
    from inferchip import assumptions, uncertainty, workload
    from inferchip.catalog import read_catalog
    from inferchip.errors import UsageError

    with pytest.raises(UsageError, match=r"^--seed -5: must be 0 or more$"):
        uncertainty.run(workload.load(None), assumptions.resolve([]), read_catalog(CORPUS / "catalog" / "crlf.csv"),
                        10, -5)


@pytest.mark.parametrize("nested", [
    "x = " + "{a = " * 2000 + "1" + "}" * 2000,
    "x = " + "[" * 5000 + "]" * 5000,
])
def test_deeply_nested_toml_is_refused_by_depth(invoke, tmp_path, nested):
    site = tmp_path / "deep.toml"
    site.write_text("# deep\n" + nested + "\n", encoding="utf-8")
    for args in (["compare", "--assumptions", str(site)], ["compare", str(site)]):
        result = invoke(*args, "--format", "json")
        assert result.exit_code == 2
        assert result.stderr == (f"error: {site}: line 2: values nested more than 64 levels deep;"
                                 " TOML input to inferchip is at most a few levels deep: flatten it\n")


def test_brackets_inside_toml_strings_and_comments_are_not_nesting(tmp_path):
    from inferchip.tomlfile import read_toml

    path = tmp_path / "ok.toml"
    path.write_text('a = "' + "[" * 100 + '"  # ' + "{" * 100 + "\nb = '''\n" + "[" * 100 + "\n'''\n"
                    "c = [[1, 2], [3]]\n", encoding="utf-8")
    assert read_toml(path)["c"] == [[1, 2], [3]]


def test_deeply_nested_json_given_to_diff_is_refused_by_depth(invoke, tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text('{"results": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    result = invoke("diff", str(deep), str(deep))
    assert result.exit_code == 2
    assert result.stderr == (f"error: {deep}: line 1: values nested more than 64 levels deep;"
                             " JSON input to inferchip is at most a few levels deep: flatten it\n")


def _cli(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "inferchip", *args], capture_output=kwargs.pop("capture", True),
                          text=True, timeout=600, **kwargs)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("args", [["compare", "--format", "csv"], ["sweep", "--vary", "pue=1:2:50", "--format", "csv"],
                                  ["compare", "--format", "json"]])
def test_stdout_on_a_full_device_is_one_line_and_exit_5(args):
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "inferchip", *args], stdout=full, stderr=subprocess.PIPE,
                                text=True, timeout=600)
    assert result.returncode == 5
    assert result.stderr == ("error: stdout: cannot write (No space left on device); free some space or write to"
                             " a file with --output FILE\n")


@pytest.mark.parametrize("fmt", ["csv", "json", "table"])
def test_sweep_into_a_closed_pipe_exits_0_quietly(fmt):
    """`inferchip sweep ... | head -1`: the reader leaves after one line."""
    proc = subprocess.Popen([sys.executable, "-m", "inferchip", "sweep", "--vary", "pue=1:2:3000", "--format", fmt],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=600) == 0
    assert stderr == ""


def test_sigterm_during_a_large_write_removes_the_temporary_file(tmp_path):
    target = tmp_path / "grid.csv"
    target.write_text("previous result")
    proc = subprocess.Popen([sys.executable, "-m", "inferchip", "sweep", "--vary", "pue=1:2:200000",
                             "--vary", "electricity_usd_per_kwh=0.05:0.2:20", "--format", "csv", "-o", str(target)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while proc.poll() is None:  # wait for the temporary file to hold data, then terminate
        temps = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        if temps and temps[0].stat().st_size > 1_000_000:
            proc.send_signal(signal.SIGTERM)
            break
    stdout, stderr = proc.communicate(timeout=600)
    assert temps, "the sweep finished before it was terminated; make it larger"
    assert proc.returncode == 143
    assert stderr == "error: terminated (SIGTERM); an --output file is left as it was\n"
    assert stdout == ""
    assert [p.name for p in tmp_path.iterdir()] == ["grid.csv"]
    assert target.read_text() == "previous result"


def test_ctrl_c_exits_130_and_keeps_the_old_file(invoke, tmp_path, monkeypatch):
    from inferchip import report

    target = tmp_path / "out.json"
    target.write_text("previous result")

    def interrupted(fd):
        raise KeyboardInterrupt()

    monkeypatch.setattr(report.os, "fsync", interrupted)
    result = invoke("compare", "--format", "json", "--output", str(target))
    assert result.exit_code == 130
    assert result.stderr == "error: interrupted (Ctrl-C); an --output file is left as it was\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
    assert target.read_text() == "previous result"
