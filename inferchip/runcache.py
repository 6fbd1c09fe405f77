"""Parsed bundled data kept between runs, as Python keeps compiled modules in __pycache__.

Every run reads and checks the same bundled files (catalog, cloud prices, benchmarks,
purchase units, calibration support, ...): some 50 ms of pandas work that gives the
same frames each time. A function marked `@persistent` stores its result, keyed by the
function and its arguments, in one pickle file in the user's cache folder; the next run
loads that file once (about 2 ms) instead of parsing again.

- Never stale: the file's name carries a fingerprint of what the results depend on: the
  size and modification time of every file in the bundled data folder and of every module
  of the inferchip package, and the versions of Python, numpy, pandas and inferchip. Any
  edit or upgrade gives a new name (the same rule as Python's bytecode cache); files
  with another fingerprint are deleted when a new one is written.
- Bundled data only: a call with a path argument outside the data folder (a user's
  catalog, a --calibration file) runs the function as if there were no cache.
- Never a failure: a cache folder that cannot be read, written or unpickled is ignored
  and the run parses the files as before. The file is written once, at exit, when the
  run computed an entry the file lacked, atomically (a temporary file renamed into
  place), so concurrent runs never see a partial file.
- Where: $INFERCHIP_CACHE_DIR, else $XDG_CACHE_HOME/inferchip, else ~/.cache/inferchip;
  `INFERCHIP_CACHE_DIR=` (empty) turns the cache off. Only a file owned by the user
  running inferchip is loaded (unpickling runs code, so a file planted by someone else in a
  shared folder is ignored).

A result served from the cache still counts as read: its bundled files are noted as the
command's inputs (safeio.note_inputs), so --output cannot overwrite them."""

from __future__ import annotations

import atexit
import functools
import os
import sys
from pathlib import Path

ENV = "INFERCHIP_CACHE_DIR"
_PREFIX = "bundled-"
_SUFFIX = ".pickle"
_MISSING = object()


class _Store:
    """The entries of one fingerprint: loaded from its file, added to during the run."""

    def __init__(self, folder: Path, fingerprint: str, data_folder: str) -> None:
        self.folder, self.fingerprint, self.data_folder = folder, fingerprint, data_folder
        self.path = folder / f"{_PREFIX}{fingerprint}{_SUFFIX}"
        self.values: dict = _load(self.path, fingerprint)
        self.dirty = False

    def put(self, key: tuple, value: object) -> None:
        self.values[key] = value
        if not self.dirty:
            self.dirty = True
            atexit.register(self.save)

    def save(self) -> None:
        """Write every entry (atomically), then delete the files of other fingerprints."""
        import pickle
        import tempfile

        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(prefix=".bundled-", suffix=".tmp", dir=self.folder)
            try:
                with os.fdopen(fd, "wb") as handle:
                    pickle.dump({"fingerprint": self.fingerprint, "values": self.values}, handle,
                                protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(temporary, self.path)
            except BaseException:
                os.unlink(temporary)
                raise
            for old in self.folder.glob(f"{_PREFIX}*{_SUFFIX}"):
                if old.name != self.path.name:
                    old.unlink(missing_ok=True)
        except Exception:  # noqa: BLE001  # a cache that cannot be written is no cache, never an error
            return
        finally:
            self.dirty = False


def _load(path: Path, fingerprint: str) -> dict:
    import pickle

    try:
        with open(path, "rb") as handle:
            if hasattr(os, "getuid") and os.fstat(handle.fileno()).st_uid != os.getuid():
                return {}  # only a file this user wrote is unpickled (a shared folder could hold anyone's)
            stored = pickle.load(handle)
    except Exception:  # noqa: BLE001  # missing, truncated or from another version: start empty
        return {}
    if not isinstance(stored, dict) or stored.get("fingerprint") != fingerprint:
        return {}
    values = stored.get("values")
    return values if isinstance(values, dict) else {}


def cache_folder(environ: dict | None = None) -> Path | None:
    """The cache folder ($INFERCHIP_CACHE_DIR, $XDG_CACHE_HOME/inferchip or
    ~/.cache/inferchip); None when INFERCHIP_CACHE_DIR is set empty (cache off)."""
    env = os.environ if environ is None else environ
    if ENV in env:
        named = env[ENV].strip()
        return Path(named).expanduser() if named else None
    xdg = env.get("XDG_CACHE_HOME", "").strip()
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "inferchip"
    try:
        return Path.home() / ".cache" / "inferchip"
    except RuntimeError:  # no home folder
        return None


def _files(folder: str, recursive: bool) -> list[tuple[str, int, int]]:
    """(relative name, size, mtime_ns) of the regular files in `folder` (sorted)."""
    found = []
    stack = [folder]
    while stack:
        current = stack.pop()
        with os.scandir(current) as entries:
            for entry in entries:
                if entry.is_file():
                    info = entry.stat()
                    found.append((os.path.relpath(entry.path, folder), info.st_size, info.st_mtime_ns))
                elif recursive and entry.is_dir() and entry.name != "__pycache__":
                    stack.append(entry.path)
    return sorted(found)


def fingerprint(data_folder: str) -> str:
    """A digest of what a cached result depends on: versions, the bundled data files and
    the package's modules (name, size, modification time)."""
    import hashlib

    import numpy as np
    import pandas as pd

    from inferchip import __version__

    package = os.path.dirname(os.path.abspath(__file__))
    text = repr((sys.version, np.__version__, pd.__version__, __version__,
                 _files(data_folder, recursive=False), _files(package, recursive=True)))
    return hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


_store_state: list = []  # [] = not yet looked; [None] = off; [_Store]


def _store() -> _Store | None:
    if not _store_state:
        _store_state.append(_open())
    return _store_state[0]


def _open() -> _Store | None:
    folder = cache_folder()
    if folder is None:
        return None
    from inferchip.data_files import data_path

    try:
        data_folder = os.path.realpath(data_path())
        return _Store(folder, fingerprint(data_folder), data_folder)
    except OSError:
        return None


def reset() -> None:
    """Forget the store of this process (tests: after changing INFERCHIP_CACHE_DIR); an
    unsaved store is saved first."""
    if _store_state and _store_state[0] is not None and _store_state[0].dirty:
        atexit.unregister(_store_state[0].save)
        _store_state[0].save()
    _store_state.clear()


def _bundled(value: object, data_folder: str) -> bool:
    """False for a path outside the bundled data folder (its contents are not in the
    fingerprint); True for other arguments (names, flags, sizes)."""
    if isinstance(value, Path) or (isinstance(value, str) and os.path.isabs(value)):
        return os.path.realpath(value).startswith(data_folder + os.sep)
    return True


def persistent(*files: str, what: str = "bundled data", copy: bool = False):
    """Decorate a function of the bundled data files `files` (names in the data folder)
    whose result depends only on them, the code and its hashable arguments: its result
    is kept in the cache between runs. On a result served from the cache, `files` are
    noted as the command's inputs under `what` (the name read_input would have given).
    With `copy`, every call gets its own `.copy()` of the result (for a function whose
    callers may change what it returns); otherwise callers share it, as with lru_cache."""

    def decorate(func):
        name = f"{func.__module__}.{func.__qualname__}"

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            store = _store()
            if store is None or not all(_bundled(a, store.data_folder) for a in (*args, *kwargs.values())):
                return func(*args, **kwargs)
            key = (name, args, tuple(sorted(kwargs.items())))
            value = store.values.get(key, _MISSING)
            if value is _MISSING:
                value = func(*args, **kwargs)
                store.put(key, value)
            elif files:
                from inferchip.safeio import note_inputs

                note_inputs([os.path.join(store.data_folder, f) for f in files], what)
            return value.copy() if copy else value

        return wrapper

    return decorate
