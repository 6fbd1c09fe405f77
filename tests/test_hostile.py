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
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CORPUS = Path(__file__).resolve().parent / "corpus"
SMALL_CATALOG = str(CORPUS / "catalog" / "crlf.csv")  # two chips: subprocess runs stay quick
ROOT = Path(__file__).resolve().parent.parent
WORKLOAD = ROOT / "data" / "workloads" / "support-chatbot-70b.toml"
FUZZ = settings(max_examples=int(os.environ.get("INFERCHIP_FUZZ_EXAMPLES", "40")), deadline=None,
               suppress_health_check=[HealthCheck.too_slow])


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


def test_output_to_a_device_is_written_into_not_replaced(invoke, tmp_path):
    """On a private copy of /dev/null: a regression must not replace the system's."""
    device = tmp_path / "null"
    try:
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except (PermissionError, AttributeError):
        pytest.skip("creating a device node needs root")
    result = invoke("compare", "--format", "csv", "--output", str(device))
    assert result.exit_code == 0, result.stderr
    assert stat.S_ISCHR(os.stat(device).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["null"]


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
        result = subprocess.run([sys.executable, "-m", "inferchip", *args, "--catalog", SMALL_CATALOG],
                                stdout=full, stderr=subprocess.PIPE,
                                text=True, timeout=600)
    assert result.returncode == 5
    assert result.stderr == ("error: stdout: cannot write (No space left on device); free some space or write to"
                             " a file with --output FILE\n")


@pytest.mark.parametrize("fmt", ["csv", "json", "table"])
def test_sweep_into_a_closed_pipe_exits_0_quietly(fmt):
    """`inferchip sweep ... | head -1`: the reader leaves after one line."""
    proc = subprocess.Popen([sys.executable, "-m", "inferchip", "sweep", "--vary", "pue=1:2:3000", "--format", fmt,
                             "--catalog", SMALL_CATALOG],
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
                             "--vary", "electricity_usd_per_kwh=0.05:0.2:20", "--format", "csv", "-o", str(target),
                             "--catalog", SMALL_CATALOG],
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


def test_sigterm_in_process_exits_143_and_gives_the_signal_back(invoke, tmp_path, monkeypatch):
    """Run in-process (CliRunner, an embedding program): a SIGTERM during the command
    ends that command with 143, and afterwards SIGTERM reaches the caller's handler
    again instead of being turned into an exception nobody catches."""
    from inferchip import report

    heard = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: heard.append(signum))
    try:
        def terminated(fd):
            os.kill(os.getpid(), signal.SIGTERM)  # arrives while the output is being written

        monkeypatch.setattr(report.os, "fsync", terminated)
        result = invoke("compare", "--format", "json", "--output", str(tmp_path / "out.json"))
        assert result.exit_code == 143
        assert result.stderr == "error: terminated (SIGTERM); an --output file is left as it was\n"
        assert heard == []  # the command handled it
        monkeypatch.undo()
        assert invoke("catalog", "list", "--format", "json").exit_code == 0
        os.kill(os.getpid(), signal.SIGTERM)
        assert heard == [signal.SIGTERM]  # the caller's handler is back
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_a_sigterm_handler_installed_outside_python_is_left_at_the_default(monkeypatch):
    """signal.signal returns None for a handler it did not install: restore the default
    action (the process still ends on SIGTERM), never leave the command's handler behind."""
    from inferchip import safeio

    calls = []
    real = signal.signal

    def recording(signum, handler):
        calls.append(handler)
        return None if len(calls) == 1 else real(signum, handler)

    previous = signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(safeio.signal, "signal", recording)
    try:
        with safeio.guarded_command():
            pass
    finally:
        real(signal.SIGTERM, previous)
    assert calls == [safeio._terminate, signal.SIG_DFL]


# --- unsafe text: one safe-text function behind every renderer ---------------------

HOSTILE_NAME = "Evil\x1b[2J\x1b]0;pwned\x07 GPU \u202egnp.exe\u202c"


@pytest.fixture
def hostile_catalog(tmp_path) -> Path:
    """Two chips: one named with terminal escapes and a bidi override, one whose
    source holds a carriage return and a pipe."""
    lines = (CORPUS / "catalog" / "crlf.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    first, second = lines[1].split(","), lines[2].split(",")
    first[header.index("name")] = f'"{HOSTILE_NAME}"'
    second[header.index("source")] = '"vendor sheet\rrow | split"'
    path = tmp_path / "hostile.csv"
    path.write_text("\n".join([lines[0], ",".join(first), ",".join(second)]) + "\n", encoding="utf-8")
    return path


UNSAFE_CHARS = ("\x1b", "\x07", "\u202e", "\u202c", "\r")


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv", "tsv"])
def test_control_and_bidi_characters_never_reach_a_view(invoke, hostile_catalog, fmt):
    result = invoke("compare", "--catalog", str(hostile_catalog), "--format", fmt, env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.stderr
    for char in UNSAFE_CHARS:
        assert char not in result.stdout, (fmt, repr(char))
    assert "Evil\\x1b[2J" in result.stdout.replace("\n", "")


def test_json_keeps_the_text_exact_and_valid(invoke, hostile_catalog):
    result = invoke("compare", "--catalog", str(hostile_catalog), "--format", "json")
    assert result.exit_code == 0
    names = {r["accelerator"] for r in json.loads(result.stdout)["results"]}
    assert HOSTILE_NAME in names
    assert "\x1b" not in result.stdout  # escaped by the encoder as \u001b


def test_a_carriage_return_cannot_split_a_markdown_row(invoke, hostile_catalog):
    memo = invoke("compare", "--catalog", str(hostile_catalog), "--format", "markdown").stdout
    assert "\r" not in memo
    source_rows = [line for line in memo.splitlines() if "vendor sheet" in line]
    assert source_rows and all(line.startswith("|") and line.endswith("|") for line in source_rows)
    assert all("row \\| split" in line for line in source_rows)


def test_missing_cells_in_a_breakeven_memo_are_a_plain_dash(invoke):
    memo = invoke("breakeven", "--format", "markdown").stdout
    assert "| - |" in memo or "| - " in memo
    assert "'-" not in memo


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS refuses non-UTF-8 file names")
def test_a_non_utf8_file_name_gives_valid_utf8_output(tmp_path):
    folder = os.fsencode(tmp_path)
    name = folder + b"/cat\xff\xfe.csv"
    shutil.copy(CORPUS / "catalog" / "crlf.csv", name)
    for fmt in ("json", "markdown"):
        result = subprocess.run([os.fsencode(sys.executable), b"-m", b"inferchip", b"compare", b"--catalog", name,
                                 b"--format", fmt.encode()], capture_output=True, timeout=600)
        assert result.returncode == 0, result.stderr
        text = result.stdout.decode("utf-8")  # strict: raises on invalid UTF-8
        assert "cat\ufffd\ufffd.csv" in text
        if fmt == "json":
            assert json.loads(text)["catalog"].endswith("cat\ufffd\ufffd.csv")
    out = folder + b"/out\xff.json"
    result = subprocess.run([os.fsencode(sys.executable), b"-m", b"inferchip", b"compare", b"--catalog", name,
                             b"--output", out], capture_output=True, timeout=600)
    assert result.returncode == 0, result.stderr
    json.loads(open(out, "rb").read().decode("utf-8"))


@pytest.mark.parametrize("text", ["plain", "a\x1bb", "\u202e", "x\r\ny", "\t", "\udcff", "=cmd|x", "-"])
def test_safe_text_is_idempotent_and_single_line(text):
    from inferchip.report.safetext import markdown_cell, safe_text

    once = safe_text(text)
    assert safe_text(once) == once
    assert "\n" not in once and "\r" not in once and "\x1b" not in once
    once.encode("utf-8")
    cell = markdown_cell(text)
    assert "\n" not in cell and "|" not in cell.replace("\\|", "")


# --- unbounded resources: refused up front with the estimate ----------------------

PEAK_RSS = ("import resource, subprocess, sys; "
            "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True); "
            "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024); "
            "print(r.stderr, file=sys.stderr)")


def _peak_rss(args: list[str], env: dict) -> tuple[int, int, str]:
    """(exit code, peak resident memory in bytes, stderr) of `inferchip ARGS` in its own process."""
    result = subprocess.run([sys.executable, "-c", PEAK_RSS, sys.executable, "-m", "inferchip", *args],
                            capture_output=True, text=True, env={**os.environ, **env}, timeout=1200)
    code, peak = result.stdout.split()
    return int(code), int(peak), result.stderr


def _largest_accepted(args: list[str], env: dict, pattern: str) -> int:
    import re

    result = subprocess.run([sys.executable, "-m", "inferchip", *args], capture_output=True, text=True,
                            env={**os.environ, **env}, timeout=600)
    assert result.returncode == 2, result.stderr
    return int(re.search(pattern, result.stderr).group(1).replace(",", ""))


def test_uncertainty_over_the_ceiling_is_refused_up_front_with_the_estimate(invoke):
    result = invoke("uncertainty", "--samples", "9000000", "--format", "json")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --samples 9,000,000: needs about ")
    assert "GB of memory for" in result.stderr and "above the 2.00 GB ceiling; use --samples " in result.stderr


@pytest.mark.parametrize("catalog", [
    ["--catalog", str(CORPUS / "catalog" / "crlf.csv")],  # two chips with no ranged catalog values
    ["--chip", "NVIDIA B200", "--chip", "NVIDIA H100 SXM"],  # two bundled chips whose estimates are drawn
], ids=["fixed-catalog", "ranged-catalog"])
def test_the_largest_accepted_uncertainty_request_stays_under_the_ceiling(catalog):
    """With the ceiling lowered to 700 MB (so the run takes seconds, not minutes): the
    request one step above the largest accepted is refused, the largest accepted one
    runs below the ceiling."""
    env = {"INFERCHIP_MEMORY_CEILING_MB": "700"}
    args = ["uncertainty", *catalog, "--format", "json"]
    largest = _largest_accepted([*args, "--samples", "10000000"], env, r"use --samples ([\d,]+) or fewer")
    assert largest > 100_000
    code, _, stderr = _peak_rss([*args, "--samples", str(largest + 1)], env)
    assert code == 2 and "above the 0.70 GB ceiling" in stderr
    code, peak, stderr = _peak_rss([*args, "--samples", str(largest)], env)
    assert code == 0, stderr
    assert peak < 700_000_000


def test_the_largest_accepted_sweep_chart_stays_under_the_ceiling():
    env = {"INFERCHIP_MEMORY_CEILING_MB": "850"}
    catalog = str(CORPUS / "catalog" / "crlf.csv")
    args = ["sweep", "--catalog", catalog, "--chart", "--format", "csv", "--output", os.devnull]
    needed = _largest_accepted([*args, "--vary", "pue=1:2:5000000"], env, r"--chart: ([\d,]+) points")
    assert needed == 5_000_000
    from inferchip import limits

    points = (850_000_000 - limits.BASE_BYTES - limits.SWEEP_CHUNK_BYTES - 2 * limits.PER_CHIP_BYTES) // (
        2 * limits.PER_CHART_ROW_BYTES)
    code, _, stderr = _peak_rss([*args, "--vary", f"pue=1:2:{points + 1}"], env)
    assert code == 2 and "above the 0.85 GB ceiling" in stderr
    code, peak, stderr = _peak_rss([*args, "--vary", f"pue=1:2:{points}"], env)
    assert code == 0, stderr
    assert peak < 850_000_000


def test_a_huge_value_is_cut_short_in_a_message(tmp_path):
    from inferchip.catalog import read_catalog
    from inferchip.errors import InputError, shown

    assert shown("x" * 5_000_000) == "x" * 30 + "...xxxxxxxx (5,000,000 characters)"
    lines = (CORPUS / "catalog" / "crlf.csv").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "wide.csv"
    header, row = lines[0].split(","), lines[1].split(",")
    row[header.index("tdp_w")] = "9" * 100_000  # implausibly large, echoed in the message
    path.write_text(lines[0] + "\n" + ",".join(row) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_catalog(path)
    assert len(info.value.message) < 300


def test_a_huge_option_value_is_cut_short(invoke):
    for args in (["compare", "--set", "k" * 100_000 + "=1"], ["compare", "--sort", "s" * 100_000],
                 ["sweep", "--vary", "v" * 100_000], ["compare", "--fail-if", "f" * 100_000]):
        result = invoke(*args, "--format", "json")
        assert result.exit_code == 2
        assert len(result.stderr) < 1000, args[:2]


# --- properties (run longer by `make fuzz`) ---------------------------------------

HOSTILE_CHARS = st.characters(codec="utf-8") | st.sampled_from(
    ["\x1b", "\x00", "\x07", "\r", "\n", "\t", "\x85", "\u2028", "\u202e", "\u2066", "\x9b", "|", "=", "-", "\udcff"])


@given(st.text(HOSTILE_CHARS, max_size=60))
@FUZZ
def test_fuzz_safe_text_is_one_clean_line(text):
    from inferchip.report.safetext import markdown_cell, safe_text

    flat = safe_text(text)
    assert safe_text(flat) == flat
    assert not any(_unsafe(c) for c in flat)
    flat.encode("utf-8")
    kept = safe_text(text, line_breaks=True)
    assert not any(_unsafe(c) for c in kept if c not in "\n\t")
    cell = markdown_cell(text)
    assert "\n" not in cell and "|" not in cell.replace("\\|", "")
    from inferchip import report

    assert not cell.startswith(("=", "+", "-", "@")) or cell.startswith("'") or report._PLAIN_NUMBER.fullmatch(cell)


def _unsafe(char: str) -> bool:
    """A control, line or paragraph separator, surrogate or bidi embedding/override/isolate."""
    import unicodedata

    return (unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp")
            or "\u202a" <= char <= "\u202e" or "\u2066" <= char <= "\u2069")


def _nested(depth: int, kind: str) -> str:
    return ("[" * depth + "1" + "]" * depth) if kind == "array" else ('{"a": ' * depth + "1" + "}" * depth)


@given(st.integers(1, 200), st.sampled_from(["array", "object"]), st.text(HOSTILE_CHARS.filter(lambda c: c not in '"\\'), max_size=20))
@FUZZ
def test_fuzz_json_nesting_limit_matches_the_real_depth(depth, kind, noise):
    from inferchip.errors import InputError

    text = '{"s": "' + noise + "[{" * 10 + '", "v": ' + _nested(depth, kind) + "}"
    try:
        json.loads(text)
    except json.JSONDecodeError:
        return  # noise made it invalid JSON: the parser's own message follows
    if depth + 1 <= safeio_limit():
        safe_check(text)
    else:
        with pytest.raises(InputError, match="nested more than 64 levels"):
            safe_check(text)


def safeio_limit() -> int:
    from inferchip.safeio import MAX_NESTING

    return MAX_NESTING


def safe_check(text: str) -> None:
    from inferchip.safeio import check_nesting

    check_nesting(Path("x.json"), text, "JSON")


def test_a_calibration_file_is_an_input_like_the_others(invoke, tmp_path, monkeypatch):
    """--calibration FILE: refused as a FIFO, protected from --output, opened once
    however often the pipeline asks for its factors."""
    from inferchip import safeio

    fifo = tmp_path / "cal.pipe"
    os.mkfifo(fifo)
    result = _without_hanging(invoke, "compare", "--calibration", str(fifo), "--format", "json")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {fifo}: is a FIFO (named pipe), not a regular file;")
    calibration = tmp_path / "cal.csv"
    shutil.copy(ROOT / "data" / "calibration.csv", calibration)
    before = calibration.read_bytes()
    result = invoke("compare", "--calibration", str(calibration), "--format", "json", "--output", str(calibration))
    assert result.exit_code == 5 and "is the calibration file" in result.stderr
    assert calibration.read_bytes() == before
    opened: list[str] = []
    real_open = safeio.os.open

    def counting(path, *args, **kwargs):
        opened.append(os.path.realpath(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(safeio.os, "open", counting)
    for command in (["compare"], ["uncertainty", "--samples", "20"], ["explain", "--chip", "h100 sxm"]):
        opened.clear()
        result = invoke(*command, "--calibration", str(calibration), "--format", "json")
        assert result.exit_code == 0, result.stderr
        assert opened.count(os.path.realpath(calibration)) == 1, command


def test_workloads_show_opens_the_file_once(invoke, inputs, monkeypatch):
    from inferchip import safeio

    opened: list[str] = []
    real_open = safeio.os.open

    def counting(path, *args, **kwargs):
        opened.append(os.path.realpath(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(safeio.os, "open", counting)
    result = invoke("workloads", "show", str(inputs["workload"]))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == inputs["workload"].read_text(encoding="utf-8")
    assert opened.count(os.path.realpath(inputs["workload"])) == 1
