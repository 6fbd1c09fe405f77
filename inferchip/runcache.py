"""Parsed bundled data kept between runs, as Python keeps compiled modules in __pycache__.

Every run reads and checks the same bundled files (catalog, cloud prices, benchmarks,
purchase units, calibration support, ...): some 50 ms of pandas work that gives the
same frames each time. A function marked `@persistent` stores its result, keyed by the
function and its arguments, in one pickle file in the user's cache folder; the next run
loads that file (about 2 ms) and unpickles only the entries it asks for.

- Never stale: the file's name carries a fingerprint of what the results depend on: the
  size and modification time of every file in the bundled data folder and of every module
  of the inferchip package, where they are installed, and the versions of Python, numpy,
  pandas and inferchip. Any edit or upgrade gives a new name (the same rule as Python's
  bytecode cache). Files of other fingerprints untouched for a week are deleted.
- Bundled data only: a call whose path argument (`paths`) lies outside the data folder (a
  user's catalog, a --calibration file) runs the function as if there were no cache.
- Never a failure: a cache folder that cannot be read, written or unpickled is ignored
  and the run parses the files as before. The file is written once, at exit, when the
  run computed an entry the file lacked, atomically (a temporary file renamed into
  place), so concurrent runs never see a partial file. Each entry is pickled when it is
  computed, so a caller changing a shared result later cannot change what is stored.
- Where: $INFERCHIP_CACHE_DIR, else $XDG_CACHE_HOME/inferchip, else ~/.cache/inferchip;
  `INFERCHIP_CACHE_DIR=` (empty) turns the cache off. Only a regular file owned by the
  user running inferchip is loaded (unpickling runs code, so a file planted by someone
  else in a shared folder is ignored).

Whether or not the cache serves it, a call of a persistent function notes its bundled
files as the command's inputs (safeio.note_inputs), so --output cannot overwrite them."""

from __future__ import annotations

import atexit
import functools
import os
import stat
import sys
import time
from pathlib import Path

ENV = "INFERCHIP_CACHE_DIR"
_PREFIX = "bundled-"
_SUFFIX = ".pickle"
_KEEP_OTHERS_S = 7 * 24 * 3600  # another installation's (or version's) file, untouched this long, is deleted
_KEEP_TEMPORARY_S = 3600  # a temporary file left by a run killed while writing
_MISSING = object()  # _Store.get: no entry


class _Store:
    """The entries of one fingerprint: loaded from its file (pickled values), added to during the run."""

    def __init__(self, folder: Path, fingerprint: str) -> None:
        self.folder, self.fingerprint = folder, fingerprint
        self.path = folder / f"{_PREFIX}{fingerprint}{_SUFFIX}"
        self.values: dict = _load(self.path, fingerprint)
        self.dirty = False

    def get(self, key: tuple) -> object:
        """The stored value (a fresh object), or _MISSING."""
        import pickle

        blob = self.values.get(key)
        if blob is None:
            return _MISSING
        try:
            return pickle.loads(blob)
        except Exception:  # noqa: BLE001  # a damaged entry: computed again
            del self.values[key]
            return _MISSING

    def put(self, key: tuple, value: object) -> None:
        import pickle

        try:
            self.values[key] = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001  # not picklable: simply not kept
            return
        if not self.dirty:
            self.dirty = True
            atexit.register(self.save)

    def save(self) -> None:
        """Write every entry (atomically), with those other runs wrote since this one
        loaded the file, then delete stale files of other fingerprints."""
        import pickle
        import tempfile

        temporary = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            values = {**_load(self.path, self.fingerprint), **self.values}
            fd, temporary = tempfile.mkstemp(prefix=".bundled-", suffix=".tmp", dir=self.folder)
            with os.fdopen(fd, "wb") as handle:
                pickle.dump({"fingerprint": self.fingerprint, "values": values}, handle,
                            protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, self.path)
            temporary = None
            _tidy(self.folder, self.path.name)
        except (Exception, KeyboardInterrupt):  # noqa: BLE001  # a cache that cannot be written is no cache
            pass
        finally:
            self.dirty = False
            if temporary is not None:
                try:
                    os.unlink(temporary)
                except OSError:
                    pass


def _tidy(folder: Path, keep: str) -> None:
    """Delete other fingerprints' files untouched for a week and temporary files over an hour old."""
    now = time.time()
    for entry in os.scandir(folder):
        stale = ((entry.name.startswith(_PREFIX) and entry.name.endswith(_SUFFIX) and entry.name != keep
                  and now - entry.stat(follow_symlinks=False).st_mtime > _KEEP_OTHERS_S)
                 or (entry.name.startswith(".bundled-") and entry.name.endswith(".tmp")
                     and now - entry.stat(follow_symlinks=False).st_mtime > _KEEP_TEMPORARY_S))
        if stale:
            try:
                os.unlink(entry.path)
            except OSError:
                pass


def _load(path: Path, fingerprint: str) -> dict:
    """The stored entries, or {} for a missing, damaged, foreign or non-regular file
    (opened without blocking and without following a link: a FIFO there cannot hang a run)."""
    import pickle

    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return {}
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or (hasattr(os, "getuid") and info.st_uid != os.getuid()):
            os.close(fd)
            return {}
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb") as handle:
            stored = pickle.load(handle)
    except Exception:  # noqa: BLE001  # truncated, damaged or from another version: start empty
        return {}
    if not isinstance(stored, dict) or stored.get("fingerprint") != fingerprint:
        return {}
    values = stored.get("values")
    if not isinstance(values, dict) or not all(isinstance(v, bytes) for v in values.values()):
        return {}
    return values


def cache_folder(environ: dict | None = None) -> Path | None:
    """The cache folder ($INFERCHIP_CACHE_DIR, $XDG_CACHE_HOME/inferchip or
    ~/.cache/inferchip), absolute; None when INFERCHIP_CACHE_DIR is set empty (cache off)."""
    env = os.environ if environ is None else environ
    if ENV in env:
        named = env[ENV].strip()
        return Path(named).expanduser().absolute() if named else None
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


def fingerprint(data_folder: str, package: str | None = None) -> str:
    """A digest of what a cached result depends on: versions, where the data and the
    package are, and their files (name, size, modification time). `package` defaults to
    the inferchip package's folder."""
    import hashlib

    import numpy as np
    import pandas as pd

    from inferchip import __version__

    package = package or os.path.dirname(os.path.abspath(__file__))
    text = repr((sys.version, np.__version__, pd.__version__, __version__, data_folder, package,
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
    try:
        return _Store(folder, fingerprint(data_folder()))
    except OSError:
        return None


@functools.lru_cache(maxsize=1)
def data_folder() -> str:
    """The bundled data folder, resolved."""
    from inferchip.data_files import data_path

    return os.path.realpath(data_path())


def reset() -> None:
    """Forget the store of this process (tests: after changing INFERCHIP_CACHE_DIR); an
    unsaved store is saved first."""
    if _store_state and _store_state[0] is not None and _store_state[0].dirty:
        atexit.unregister(_store_state[0].save)
        _store_state[0].save()
    _store_state.clear()


def _inside(value: object, folder: str) -> bool:
    return os.path.realpath(os.fspath(value)).startswith(folder + os.sep)



def persistent(files: dict[str, str], *, copy: bool = False, paths: tuple[int, ...] = ()):
    """Decorate a function of the bundled data files `files` ({file name in the data
    folder: what read_input would call it}) whose result depends only on them, the code
    and its hashable arguments: its result is kept in the cache between runs. `paths`:
    the positions of arguments that are file paths (a call with one outside the data
    folder, or with any Path outside it, bypasses the cache). With `copy`, a result
    computed in this process is returned as a `.copy()` (a cached one is a fresh object
    anyway), for a function whose callers may change what it returns; otherwise callers
    share it, as with lru_cache."""

    def decorate(func):
        name = f"{func.__module__}.{func.__qualname__}"

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            folder = data_folder()
            given = [args[i] for i in paths if i < len(args)]
            given += [a for a in (*args, *kwargs.values()) if isinstance(a, Path)]
            if not all(_inside(a, folder) for a in given):
                return func(*args, **kwargs)
            from inferchip.safeio import note_inputs

            for file, what in files.items():  # the same inputs whether parsed now or taken from the cache
                note_inputs([os.path.join(folder, file)], what)
            store = _store()
            if store is None:
                return func(*args, **kwargs)
            key = (name, args, tuple(sorted(kwargs.items())))
            value = store.get(key)
            if value is _MISSING:
                value = func(*args, **kwargs)
                store.put(key, value)
                return value.copy() if copy else value
            return value

        return wrapper

    return decorate
