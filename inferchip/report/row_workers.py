"""Text rows of a large streamed document (`sweep --output FILE`) made in other
processes: RowFormat is pure Python and holds the GIL, so in one process it takes
turns with the evaluation of the next chunks; forked workers format chunk k while
this process evaluates chunk k+1 and writes chunk k-1, so a second core is used.

Each worker is a fork of this process made before any thread is started (the
sweep's prefetch thread comes later), receives (RowFormat, frame) pairs (the frame's
numeric columns as raw bytes, not pickled) and answers
with the rows as UTF-8 bytes; chunks are dealt out in turn and read back in the same
order, so the document is byte-identical to the one-process writer's. A worker that
fails sends its exception back (raised here as it would be in one process); a worker
that dies is an OutputError. Workers ignore Ctrl-C and SIGTERM and end when this process closes
their pipe or ends (the pipe reaches end of file), so none is left behind."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterable, Iterator

from inferchip.errors import OutputError

# Below this many output rows a one-process writer is as fast (a worker costs a fork
# and a pickled copy of each chunk; a 100,000-row CSV formats in about 0.2 s).
MIN_ROWS = 200_000
MAX_WORKERS = 2  # one chunk in flight per worker: memory holds about two chunks more than one process
# Each worker holds one chunk's cells and text at a time: about 70 MB (PSS) for the default
# 17 columns of a sweep, about 290 MB for the 81 of --fields all (three processes then
# peak near 800 MB against 330 MB for one), so wider documents keep the one-process writer.
MAX_COLUMNS = 24


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def worker_count(rows: int, columns: int) -> int:
    """Workers for a document of `rows` rows of `columns` columns: none below MIN_ROWS,
    above MAX_COLUMNS, on one core, where fork is not available or when this process
    already runs other threads (a fork copies only the calling thread, and a lock another
    thread holds would stay held in the worker), and the one-process writer runs; else
    up to MAX_WORKERS."""
    import multiprocessing
    import threading

    cores = usable_cores()
    if (rows < MIN_ROWS or columns > MAX_COLUMNS or cores < 2 or "fork" not in multiprocessing.get_all_start_methods()
            or threading.active_count() > 1):
        return 0
    return min(MAX_WORKERS, cores)


def _serve(conn, inherited) -> None:
    """A worker: format each (RowFormat, frame) received until the pipe closes."""
    # Ctrl-C and SIGTERM (sent to the whole process group) are the parent's to handle:
    # it cleans up and closes the pipes, and the worker ends at their end of file
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for other in inherited:  # the parent's ends: else no end of file when the parent goes
        other.close()
    try:
        while True:
            try:
                formatter, frame = _receive_frame(conn)
            except EOFError:
                return
            try:
                body = formatter.rows(frame).encode("utf-8", "replace")  # as atomic_file's text handle encodes
            except Exception as exc:  # sent back whole: the parent raises it as one process would
                conn.send(("error", _portable(exc)))
                continue
            conn.send(("rows", len(body)))
            conn.send_bytes(body)
    except (BrokenPipeError, ConnectionResetError, EOFError):  # the parent has gone or given up
        return


def _send_frame(conn, formatter, frame) -> None:
    """A frame as one pickled message of its layout (and of any column that is not a plain
    numpy array), then the bytes of each numpy column and of each categorical's codes:
    no pickled copy of the numbers on either side."""
    import numpy as np
    import pandas as pd

    layout, arrays = [], []
    for name in frame.columns:
        series = frame[name]
        if isinstance(series.dtype, pd.CategoricalDtype):
            layout.append((name, "codes", series.dtype, series.cat.codes.dtype.str))
            arrays.append(np.ascontiguousarray(series.cat.codes.to_numpy()))
        elif isinstance(series.dtype, np.dtype) and series.dtype.kind in "biuf":
            layout.append((name, "array", None, series.dtype.str))
            arrays.append(np.ascontiguousarray(series.to_numpy()))
        else:
            layout.append((name, "pickled", series.to_numpy(), None))
    conn.send((formatter, len(frame), layout))
    for array in arrays:
        conn.send_bytes(memoryview(array).cast("B"))


def _receive_frame(conn):
    """(formatter, frame) as _send_frame sent them."""
    import numpy as np
    import pandas as pd

    formatter, rows, layout = conn.recv()
    columns = {}
    for name, how, extra, dtype in layout:
        if how == "pickled":
            columns[name] = pd.Series(extra, copy=False)
            continue
        array = np.frombuffer(conn.recv_bytes(), dtype=np.dtype(dtype))
        columns[name] = (pd.Series(pd.Categorical.from_codes(array, dtype=extra)) if how == "codes"
                         else pd.Series(array, copy=False))
    return formatter, pd.DataFrame(columns, index=pd.RangeIndex(rows), copy=False)


def _portable(exc: Exception) -> Exception:
    """The exception itself when it can be pickled, else a RuntimeError with its text."""
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        import traceback

        return RuntimeError("".join(traceback.format_exception(exc)))


class RowWorkers:
    """`count` forked formatting processes; use as a context manager (closes them)."""

    def __init__(self, count: int) -> None:
        import multiprocessing

        context = multiprocessing.get_context("fork")
        sys.stdout.flush()  # nothing buffered is copied into a worker
        sys.stderr.flush()
        self._conns: list = []
        self._procs: list = []
        try:
            for _ in range(count):
                mine, theirs = context.Pipe()
                proc = context.Process(target=_serve, args=(theirs, [*self._conns, mine]), daemon=True,
                                       name="inferchip-rows")
                proc.start()
                theirs.close()
                self._conns.append(mine)
                self._procs.append(proc)
        except BaseException:
            self.close()
            raise

    @property
    def pids(self) -> list[int]:
        return [proc.pid for proc in self._procs]

    def rows(self, formatter, frames: Iterable) -> Iterator[bytes]:
        """Each frame's rows (RowFormat.rows) as UTF-8 bytes, in the frames' order.
        Frame k goes to worker k mod count; at most one frame per worker is in flight
        (a second would let a worker block on its answer while this process blocks
        sending to it)."""
        count = len(self._conns)
        in_flight: list = []
        for index, frame in enumerate(frames):
            worker = index % count
            done = self._receive(in_flight.pop(0)) if len(in_flight) == count else None
            self._send(worker, formatter, frame)  # before writing `done`: the worker is not kept waiting
            in_flight.append(worker)
            del frame  # sent: not held while the next one is made
            if done is not None:
                yield done
                del done  # written: not held while the next one is received
        while in_flight:
            yield self._receive(in_flight.pop(0))

    def _send(self, worker: int, formatter, frame) -> None:
        try:
            _send_frame(self._conns[worker], formatter, frame)
        except (BrokenPipeError, ConnectionResetError):
            raise self._died(worker) from None

    def _receive(self, worker: int) -> bytes:
        conn = self._conns[worker]
        try:
            kind, value = conn.recv()
            if kind == "error":
                raise value
            return conn.recv_bytes()
        except (EOFError, ConnectionResetError):
            raise self._died(worker) from None

    def _died(self, worker: int) -> OutputError:
        proc = self._procs[worker]
        proc.join(timeout=1.0)
        code = proc.exitcode
        how = (f"was killed by signal {-code}" if code is not None and code < 0
               else f"ended with exit code {code}" if code is not None else "stopped answering")
        return OutputError(f"a row-formatting worker process {how}; the output file is left as it was; "
                           "run again, or free some memory if it was killed for lack of it")

    def close(self) -> None:
        """Close the pipes (a worker ends at end of file) and reap the workers."""
        for conn in self._conns:
            conn.close()
        for proc in self._procs:
            proc.join(timeout=2.0)
            if proc.is_alive():
                proc.kill()
                proc.join()
        self._conns, self._procs = [], []

    def __enter__(self) -> RowWorkers:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
