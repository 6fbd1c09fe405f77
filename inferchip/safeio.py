"""The one door for input files and the guard on output targets.

Every input file (catalog, workload, assumptions, extend-catalog, calibration,
config, a run given to `diff`) is read by `read_input`: it opens the path without
blocking, refuses anything that is not a regular file (a FIFO, a directory, a
device) with a one-line error and reads it once. While a command runs
(`guarded_command`, entered by the CLI's error handler) it remembers each input's
identity (device, inode and resolved path) and bytes: a second request for the
same unchanged file gets the same bytes without a second read, and `check_output`
refuses an --output that is one of those inputs, however it is spelled
(`sub/../name`, a symlink, a hard link), so a result can never overwrite the file
it was computed from.

`output_target` says how an --output path is written: a regular file (or a new
one) atomically, through a symlink to the link's target, a character device or
FIFO directly (e.g. /dev/null), anything else refused."""

from __future__ import annotations

import os
import re
import signal
import stat
import sys
from contextlib import contextmanager
from pathlib import Path

from inferchip.errors import InputError, NotFoundError, OutputError, shown

# An input larger than this is refused before it is read: no catalog, workload or
# run document comes near it, and reading it whole would take that much memory.
MAX_INPUT_BYTES = 256 * 1024 * 1024
# Nesting depth of TOML or JSON values: the bundled files use 3, a compare run 4.
MAX_NESTING = 64
PATH_MAX = 4096  # a path is quoted whole in a message up to this length

# the inputs of the running command: (st_dev, st_ino) -> (what, path as given), and
# resolved path -> (what, path as given, bytes, signature) so a second request is not a second read
_read: dict[tuple[int, int], tuple[str, str]] = {}
_read_paths: dict[str, tuple] = {}
_command = False  # inside guarded_command


def forget_inputs() -> None:
    """Start a new command: no file has been read yet."""
    _read.clear()
    _read_paths.clear()


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_input(path: Path, what: str, fix: str, missing: str | None = None) -> bytes:
    """The bytes of the regular file `path`, read once. `what` names the file in
    messages ("catalog", "workload"), `fix` says what to give instead, `missing`
    replaces the default message for a file that does not exist."""
    path = Path(path)
    again = _read_paths.get(os.path.realpath(path)) if _command else None
    if again is not None and again[3] == _signature(path):
        return again[2]  # a command reads each input once (pipelines may ask for a file twice)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise NotFoundError(missing or f"{path}: {what} file not found; check the path") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory; {fix}") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror}); check the file's permissions") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InputError(f"{path}: is a directory; {fix}")
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{path}: is {_kind(info.st_mode)}, not a regular file; {fix}")
        if info.st_size > MAX_INPUT_BYTES:
            raise InputError(f"{path}: {info.st_size:,} bytes, above the limit of {MAX_INPUT_BYTES:,} bytes"
                             f" for a {what} file; {fix}")
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(MAX_INPUT_BYTES + 1)
        if len(data) > MAX_INPUT_BYTES:
            raise InputError(f"{path}: above the limit of {MAX_INPUT_BYTES:,} bytes for a {what} file; {fix}")
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror}); check the file's permissions") from None
    finally:
        os.close(fd)
    if _command:  # remembered for the running command only (library calls leave no trace)
        _read[(info.st_dev, info.st_ino)] = (what, str(path))
        _read_paths[os.path.realpath(path)] = (what, str(path), data, _signature(info))
    return data


def note_inputs(paths, what: str) -> None:
    """Count `paths` as inputs of the running command without reading them (a result
    computed from them came from inferchip.runcache), so check_output refuses them."""
    if not _command:
        return
    for path in paths:
        try:
            info = os.stat(path)
        except OSError:
            continue
        _read.setdefault((info.st_dev, info.st_ino), (what, str(path)))


def _signature(source) -> tuple[int, ...] | None:
    """(device, inode, size, mtime) of a path or stat result: the same file, unchanged."""
    try:
        info = source if isinstance(source, os.stat_result) else os.stat(source)
    except OSError:
        return None
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns


def check_output(path: Path) -> None:
    """Refuse an --output that names a file this command read (by inode, so hard
    links, symlinks and `sub/../name` spellings are caught, and by resolved path)."""
    hit = _read_paths.get(os.path.realpath(path))
    if hit is None:
        try:
            info = os.stat(path)
        except OSError:
            return
        hit = _read.get((info.st_dev, info.st_ino))
    if hit is not None:
        what, source = hit[:2]
        raise OutputError(f"--output {shown(path, PATH_MAX)}: is the {what} file {shown(source, PATH_MAX)}"
                          " this command reads;"
                          " writing there would destroy it: choose another file name")


def output_target(path: Path) -> tuple[str, Path]:
    """("atomic", file to replace) or ("direct", device or FIFO to write into).
    A symlink is followed: its target is replaced atomically, the link stays a link."""
    path = Path(path)
    check_output(path)
    real = Path(os.path.realpath(path))
    try:
        mode = os.stat(real).st_mode
    except OSError:  # a new file; the writer reports a missing or unusable folder
        return "atomic", real
    if stat.S_ISREG(mode):
        return "atomic", real
    if stat.S_ISDIR(mode):
        raise OutputError(f"{path}: is a directory; give a file name for --output")
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return "direct", real
    raise OutputError(f"{path}: is {_kind(mode)}; give a regular file (or a character device such as"
                      " /dev/null) for --output")


_TOML_TOKENS = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:\\.|[^"\\\n])*"|\'[^\'\n]*\'|#[^\n]*|[\[\]{}\n]')
_JSON_TOKENS = re.compile(r'"(?:\\.|[^"\\])*"|[\[\]{}\n]')


def check_nesting(path: Path, text: str, syntax: str) -> None:
    """Refuse TOML or JSON nested deeper than MAX_NESTING (arrays and tables inside
    each other) before a recursive parser sees it. One pass over the text; strings
    and comments are skipped."""
    depth, line = 0, 1
    for match in (_TOML_TOKENS if syntax == "TOML" else _JSON_TOKENS).finditer(text):
        token = match.group()
        if token == "\n":
            line += 1
        elif token in "[{":
            depth += 1
            if depth > MAX_NESTING:
                raise InputError(f"{path}: line {line}: values nested more than {MAX_NESTING} levels deep;"
                                 f" {syntax} input to inferchip is at most a few levels deep: flatten it")
        elif token in "]}":
            depth = max(depth - 1, 0)
        else:
            line += token.count("\n")


# --- stdout and signals ---------------------------------------------------------

class StdoutClosed(Exception):
    """The reader of stdout went away (`inferchip sweep | head -1`): not an error."""


class StdoutError(OutputError):
    """stdout could not be written (a full disk, an I/O error)."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is so that cleanup runs as for Ctrl-C."""


class _GuardedStream:
    """sys.stdout whose write/flush failures become StdoutClosed or StdoutError."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def _failed(self, exc: OSError) -> Exception:
        if isinstance(exc, BrokenPipeError):
            return StdoutClosed()
        reason = exc.strerror or exc.__class__.__name__
        return StdoutError(f"stdout: cannot write ({reason}); free some space or write to a file with --output FILE")

    def write(self, text):
        try:
            return self._stream.write(text)
        except UnicodeEncodeError:  # a lone surrogate: an undecodable byte of a file name
            from inferchip.report.safetext import replace_surrogates

            return self.write(replace_surrogates(text))
        except OSError as exc:
            raise self._failed(exc) from None

    def flush(self):
        try:
            return self._stream.flush()
        except OSError as exc:
            raise self._failed(exc) from None

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def _terminate(signum, frame) -> None:
    raise Terminated()


@contextmanager
def guarded_command():
    """Around one command: stdout failures become StdoutClosed / StdoutError, SIGTERM
    is raised as Terminated (a KeyboardInterrupt, so every cleanup that runs on Ctrl-C
    runs: atomic_file removes its temporary file), and no file is yet an input."""
    global _command
    forget_inputs()
    _command = True
    installed, previous = False, None
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
        installed = True
    except ValueError:  # not the main thread: leave signals alone
        pass
    original = sys.stdout
    sys.stdout = _GuardedStream(original)
    try:
        yield
    finally:
        _command = False
        forget_inputs()
        if sys.stdout.__class__ is _GuardedStream:
            sys.stdout = original
        if installed:  # the caller's handler again (a test runner, an embedding program)
            _restore_sigterm(previous)


def _restore_sigterm(previous) -> None:
    """Put back the SIGTERM handler that was in force before the command. `None` means
    it was installed outside Python (signal.signal cannot reinstall it): the default
    action, so the process still ends on SIGTERM rather than raising Terminated later."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def discard_stdout() -> None:
    """After stdout failed: point file descriptor 1 at /dev/null, so the interpreter's
    final flush of what is still buffered cannot fail (and print) again."""
    try:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, sys.stdout.fileno())
        os.close(fd)
    except (OSError, ValueError, AttributeError):  # a test runner's stdout has no descriptor
        pass
