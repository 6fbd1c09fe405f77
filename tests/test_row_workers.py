"""inferchip.report.row_workers: rows formatted in forked processes are the bytes the
one-process writer makes, in order; worker failures surface as one-process errors or
an OutputError; no worker outlives its RowWorkers; `sweep --output` through workers."""

import io
import json
import multiprocessing
import os
import signal

import numpy as np
import pandas as pd
import pytest

from inferchip.errors import InputError, OutputError
from inferchip.report import row_workers as rw
from inferchip.report.analysis_view import RowFormat, column_kinds, stream_document

pytestmark = pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")


def _frames(count: int, rows: int = 300, seed: int = 0) -> list[pd.DataFrame]:
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(count):
        frames.append(pd.DataFrame({
            "grid_point": np.repeat(np.arange(i * rows, (i + 1) * rows) // 3, 1),
            "chip": pd.Categorical(rng.choice(["H100 SXM", 'a "q", b', "x\ny", "=sum(1)", "é ü"], rows)),
            "ok": rng.random(rows) < 0.5,
            "cost": np.where(rng.random(rows) < 0.2, np.nan, rng.uniform(-1e6, 1e6, rows)),
            "zero": rng.choice([0.0, -0.0, 1.5], rows),
            "reason": rng.choice(np.array(["", "TPOT missed: 1,234.5 ms", None, "|pipe|"], dtype=object), rows)}))
    return frames


def _kinds(frame):
    return column_kinds(frame, int_columns=("grid_point",))


@pytest.mark.parametrize("style", ["csv", "tsv", "json", "markdown"])
def test_workers_give_the_one_process_bytes_in_order(style):
    frames = _frames(7)
    formatter = RowFormat(list(frames[0].columns), _kinds(frames[0]), style=style)
    with rw.RowWorkers(2) as workers:
        bodies = list(workers.rows(formatter, iter(frames)))
    assert bodies == [formatter.rows(frame).encode("utf-8") for frame in frames]


@pytest.mark.parametrize("style", ["csv", "json"])
def test_stream_document_through_workers_is_byte_identical(tmp_path, style):
    frames = _frames(5, seed=3)
    columns, kinds = list(frames[0].columns), _kinds(frames[0])
    head = {"schema_version": 1, "note": "é"}
    one = io.StringIO()
    written_one = stream_document(one, style, head, columns, kinds, iter(frames))
    path = tmp_path / f"out.{style}"
    with rw.RowWorkers(2) as workers, path.open("w", encoding="utf-8", errors="replace", newline="") as handle:
        written = stream_document(handle, style, head, columns, kinds, iter(frames), workers)
    assert written == written_one == sum(len(f) for f in frames)
    assert path.read_bytes() == one.getvalue().encode("utf-8")
    if style == "json":
        assert len(json.loads(path.read_text(encoding="utf-8"))["results"]) == written


class FailingFormat(RowFormat):
    """A formatter that fails on its second frame, as a bug or a bad value would."""

    def rows(self, frame) -> str:
        if int(frame["grid_point"].iloc[0]) > 0:
            raise InputError("row 7: a value the formatter refuses; fix the input")
        return super().rows(frame)


def test_a_worker_error_is_raised_here_as_in_one_process():
    frames = _frames(3, rows=30)
    formatter = FailingFormat(list(frames[0].columns), _kinds(frames[0]), style="csv")
    with rw.RowWorkers(2) as workers, pytest.raises(InputError, match="row 7: a value the formatter refuses"):
        list(workers.rows(formatter, iter(frames)))


def test_a_killed_worker_is_an_output_error():
    frames = _frames(4, rows=30)
    formatter = RowFormat(list(frames[0].columns), _kinds(frames[0]), style="csv")
    with rw.RowWorkers(1) as workers:
        (pid,) = workers.pids
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(OutputError, match="worker process was killed by signal 9; the output file is left"):
            list(workers.rows(formatter, iter(frames)))


def test_no_worker_outlives_an_interrupted_run():
    frames = _frames(6, rows=30)
    formatter = RowFormat(list(frames[0].columns), _kinds(frames[0]), style="csv")

    def interrupted():
        yield from frames[:3]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        with rw.RowWorkers(2) as workers:
            procs = list(workers._procs)
            list(workers.rows(formatter, interrupted()))
    assert procs and not any(proc.is_alive() for proc in procs)
    assert all(proc.exitcode == 0 for proc in procs)  # each ended at the end of its pipe, not by a signal


def test_worker_count(monkeypatch):
    monkeypatch.setattr(rw, "usable_cores", lambda: 8)
    monkeypatch.setattr("threading.active_count", lambda: 1)
    assert rw.worker_count(rw.MIN_ROWS - 1, 17) == 0
    assert rw.worker_count(rw.MIN_ROWS, 17) == rw.MAX_WORKERS
    assert rw.worker_count(10**7, rw.MAX_COLUMNS + 1) == 0  # wide (--fields all): a worker's memory
    monkeypatch.setattr(rw, "usable_cores", lambda: 1)
    assert rw.worker_count(10**7, 17) == 0  # one core: the one-process writer
    monkeypatch.setattr(rw, "usable_cores", lambda: 8)
    monkeypatch.setattr("threading.active_count", lambda: 2)
    assert rw.worker_count(10**7, 17) == 0  # other threads running: no fork


SWEEP = ("sweep", "--vary", "electricity_usd_per_kwh=0.05:0.2:5", "--vary", "pue=1.1,1.5", "--vary",
         "server_life_years=3,5")


@pytest.mark.parametrize("extra", [("--format", "csv"), ("--format", "json", "--fields", "all"),
                                   ("--format", "markdown", "--winners"), ("--format", "tsv", "--fields", "all")])
def test_cli_sweep_through_workers_matches_one_process(invoke, tmp_path, monkeypatch, extra):
    one, many = tmp_path / "one", tmp_path / "many"
    monkeypatch.setattr(rw, "worker_count", lambda rows, columns: 0)
    assert invoke(*SWEEP, *extra, "--output", str(one)).exit_code == 0
    started = []
    monkeypatch.setattr(rw, "worker_count", lambda rows, columns: 2)
    monkeypatch.setattr(rw.RowWorkers, "__enter__", lambda self: started.append(self) or self)
    assert invoke(*SWEEP, *extra, "--output", str(many)).exit_code == 0
    assert started and many.read_bytes() == one.read_bytes()


def test_cli_starts_workers_only_for_a_large_narrow_text_file(monkeypatch, tmp_path):
    from contextlib import nullcontext

    from inferchip.cli.analysis_cmd import _row_workers
    from inferchip.cli.common import Format

    started = []
    monkeypatch.setattr(rw, "RowWorkers", lambda count: started.append(count) or nullcontext())
    monkeypatch.setattr(rw, "usable_cores", lambda: 2)
    monkeypatch.setattr("threading.active_count", lambda: 1)
    for fmt, output, rows, columns in [(Format.csv, None, 10**7, 17), (Format.parquet, tmp_path / "x", 10**7, 17),
                                       (Format.table, tmp_path / "x", 10**7, 17),
                                       (Format.csv, tmp_path / "x", rw.MIN_ROWS - 1, 17),
                                       (Format.csv, tmp_path / "x", 10**7, 81)]:
        with _row_workers(fmt, output, rows, columns):
            pass
    assert started == []  # stdout, Parquet, a table, a small or a wide file: the one-process writer
    for fmt in (Format.csv, Format.tsv, Format.markdown, Format.json):
        with _row_workers(fmt, tmp_path / "x", rw.MIN_ROWS, 17):
            pass
    assert started == [2, 2, 2, 2]
