"""inferchip.runcache: parsed bundled data kept between runs gives the same results,
is never stale, and never makes a run fail."""

from __future__ import annotations

import json
import os
import pickle
import shutil
from pathlib import Path

import pytest

from inferchip import runcache
from inferchip.data_files import bundled_workloads, data_path


@pytest.fixture
def cache_dir(tmp_path, monkeypatch) -> Path:
    """The cache turned on, in a fresh folder, for this test's process state."""
    folder = tmp_path / "cache"
    monkeypatch.setenv(runcache.ENV, str(folder))
    runcache.reset()
    yield folder
    monkeypatch.setenv(runcache.ENV, "")
    runcache.reset()


def _cached_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("bundled-*.pickle")) if folder.exists() else []


def _clear_process_caches() -> None:
    """Drop every in-process lru_cache above the persistent layer, as a new process would start."""
    from inferchip import (
        assumptions,
        breakeven,
        calibration,
        catalog,
        cloud,
        dataflow,
        estimates,
        interconnect,
        measured,
        models,
        power,
        purchase,
        trust,
        validate_split,
    )

    for func in (assumptions._bundled_specs, cloud._read, dataflow._read_speeds, estimates._read, interconnect._read,
                 measured._bundled_benchmarks, measured._bundled_candidates, models.load_presets,
                 power.bundled_profiles, purchase.bundled_units, purchase._bundled_slots, trust._bundled_support,
                 validate_split._bundled_heldout):
        func.cache_clear()
    assert catalog._bundled_catalog and calibration._bundled_calibration and breakeven.read_api_prices


def _run_like_a_new_process(invoke, *args: str) -> str:
    """One command as a fresh run sees it: no in-process caches, the cache file (if any)
    loaded again, and written at the end as the process would at exit."""
    runcache.reset()
    _clear_process_caches()
    result = invoke(*args)
    assert result.exit_code == 0, result.stderr
    runcache.reset()  # saves what the run added (the exit handler's job in a real process)
    return result.stdout


@pytest.mark.parametrize("workload", sorted(bundled_workloads()))
def test_cold_warm_and_no_cache_give_identical_documents(invoke, cache_dir, monkeypatch, workload):
    args = ("compare", workload, "--basis", "all", "--format", "json")
    cold = _run_like_a_new_process(invoke, *args)
    assert len(_cached_files(cache_dir)) == 1
    warm = _run_like_a_new_process(invoke, *args)
    monkeypatch.setenv(runcache.ENV, "")
    off = _run_like_a_new_process(invoke, *args)
    assert cold == warm == off
    assert json.loads(warm)["results"]


def test_a_warm_run_takes_every_bundled_table_from_the_file(invoke, cache_dir, monkeypatch):
    _run_like_a_new_process(invoke, "compare", "--format", "json")
    import sys

    from inferchip import safeio

    reads: list[str] = []
    original = safeio.read_input

    def counting(path, *args, **kwargs):
        reads.append(str(path))
        return original(path, *args, **kwargs)

    for module in [m for name, m in sys.modules.items() if name.startswith("inferchip")]:
        if getattr(module, "read_input", None) is original:
            monkeypatch.setattr(module, "read_input", counting)
    _run_like_a_new_process(invoke, "compare", "--format", "json")
    data_folder = os.path.realpath(data_path())
    workloads = os.path.join(data_folder, "workloads") + os.sep  # the profile itself is the user's input
    assert reads  # the workload profile was read
    assert [p for p in reads if os.path.realpath(p).startswith(data_folder + os.sep)
            and not os.path.realpath(p).startswith(workloads)] == []


def test_the_file_holds_its_fingerprint_and_the_parsed_tables(invoke, cache_dir):
    _run_like_a_new_process(invoke, "compare", "--format", "json")
    (path,) = _cached_files(cache_dir)
    with open(path, "rb") as handle:
        stored = pickle.load(handle)
    assert path.name == f"bundled-{stored['fingerprint']}.pickle"
    names = {key[0] for key in stored["values"]}
    assert {"inferchip.catalog._bundled_catalog", "inferchip.measured._bundled_candidates",
            "inferchip.purchase._bundled_slots", "inferchip.trust._bundled_support"} <= names


def test_a_changed_data_file_gives_a_new_fingerprint(tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(data_path(), folder, ignore=shutil.ignore_patterns("workloads"))
    before = runcache.fingerprint(str(folder))
    assert runcache.fingerprint(str(folder)) == before
    catalog = folder / "catalog.csv"
    catalog.write_text(catalog.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert runcache.fingerprint(str(folder)) != before
    stat = catalog.stat()
    edited = runcache.fingerprint(str(folder))
    os.utime(catalog, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # same size, touched
    assert runcache.fingerprint(str(folder)) != edited


def test_an_old_file_of_another_fingerprint_is_deleted(invoke, cache_dir):
    cache_dir.mkdir()
    stale = cache_dir / "bundled-0123456789abcdef0123456789abcdef.pickle"
    # a stale file that would give wrong numbers if it were read under the current name
    stale.write_bytes(pickle.dumps({"fingerprint": "0123456789abcdef0123456789abcdef", "values": {}}))
    week_ago = stale.stat().st_mtime - 8 * 24 * 3600
    os.utime(stale, (week_ago, week_ago))
    _run_like_a_new_process(invoke, "compare", "--format", "json")
    assert not stale.exists()  # another fingerprint's file, untouched for over a week
    assert len(_cached_files(cache_dir)) == 1


def test_a_file_under_the_right_name_with_another_fingerprint_is_ignored(invoke, cache_dir):
    _run_like_a_new_process(invoke, "compare", "--format", "json")
    (path,) = _cached_files(cache_dir)
    with open(path, "rb") as handle:
        stored = pickle.load(handle)
    key = next(k for k in stored["values"] if k[0] == "inferchip.catalog._bundled_catalog")
    poisoned = pickle.loads(stored["values"][key]).assign(cloud_usd_per_hour=1e-9, accelerator_price_usd=1.0)
    path.write_bytes(pickle.dumps({"fingerprint": "other", "values": {key: pickle.dumps(poisoned)}}))
    runcache.reset()
    _clear_process_caches()
    assert runcache._store().values == {}


@pytest.mark.parametrize("damage", [b"", b"not a pickle", b"\x80\x05K"])
def test_a_damaged_file_is_ignored_and_rewritten(invoke, cache_dir, damage):
    expected = _run_like_a_new_process(invoke, "compare", "--format", "json")
    (path,) = _cached_files(cache_dir)
    path.write_bytes(damage)
    assert _run_like_a_new_process(invoke, "compare", "--format", "json") == expected
    with open(path, "rb") as handle:
        assert pickle.load(handle)["values"]


def test_a_folder_that_cannot_be_written_never_fails_a_run(invoke, tmp_path, monkeypatch):
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv(runcache.ENV, str(blocker / "cache"))
    runcache.reset()
    out = _run_like_a_new_process(invoke, "compare", "--format", "json")
    assert json.loads(out)["results"]
    assert blocker.read_text(encoding="utf-8") == "x"
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_empty_variable_turns_the_cache_off(invoke, tmp_path, monkeypatch):
    monkeypatch.setenv(runcache.ENV, "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    runcache.reset()
    _run_like_a_new_process(invoke, "compare", "--format", "json")
    assert runcache._store() is None
    assert not (tmp_path / "xdg").exists() and not (tmp_path / "home").exists()


def test_cache_folder_precedence(tmp_path):
    assert runcache.cache_folder({runcache.ENV: str(tmp_path), "XDG_CACHE_HOME": "/x"}) == tmp_path
    assert runcache.cache_folder({runcache.ENV: "  "}) is None
    assert runcache.cache_folder({"XDG_CACHE_HOME": "/var/cache/me"}) == Path("/var/cache/me/inferchip")
    home = runcache.cache_folder({"XDG_CACHE_HOME": "relative/path"})  # relative: ignored, as the XDG spec says
    assert home == Path.home() / ".cache" / "inferchip"


def test_a_user_file_bypasses_the_cache(invoke, cache_dir, tmp_path):
    catalog = tmp_path / "catalog.csv"
    shutil.copy(data_path("catalog.csv"), catalog)
    _run_like_a_new_process(invoke, "compare", "--catalog", str(catalog), "--format", "json")
    (path,) = _cached_files(cache_dir)
    with open(path, "rb") as handle:
        keys = pickle.load(handle)["values"]
    assert not [k for k in keys if k[0] == "inferchip.catalog._bundled_catalog"]
    assert not [k for k in keys if any(str(tmp_path) in str(a) for a in k[1])]
    # the user's file is read on every run: an edit shows at once
    text = catalog.read_text(encoding="utf-8").replace("NVIDIA H100 SXM,", "NVIDIA H100 SXM renamed,", 1)
    catalog.write_text(text, encoding="utf-8")
    out = _run_like_a_new_process(invoke, "compare", "--catalog", str(catalog), "--format", "json")
    assert "NVIDIA H100 SXM renamed" in out


@pytest.mark.parametrize("cache", ["warm", "off"])
@pytest.mark.parametrize(("name", "what"), [("catalog.csv", "catalog"), ("interconnect.csv", "interconnect"),
                                            ("cloud_prices.csv", "cloud price"), ("heldout.csv", "held-out")])
def test_output_onto_a_bundled_file_is_refused_cached_or_not(invoke, cache_dir, tmp_path, monkeypatch, cache, name,
                                                              what):
    _run_like_a_new_process(invoke, "compare", "--format", "json")
    if cache == "off":
        monkeypatch.setenv(runcache.ENV, "")
    runcache.reset()
    _clear_process_caches()
    target = data_path(name)
    before = target.read_bytes()
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    try:
        result = invoke("compare", "--format", "json", "--output", str(link))
    finally:  # were the refusal broken, the bundled file must still come back
        if target.read_bytes() != before:
            target.write_bytes(before)
    assert result.exit_code == 5, result.stderr
    assert f"is the {what} file" in result.stderr and "this command reads" in result.stderr


def test_a_persistent_result_is_shared_or_copied_as_declared(cache_dir):
    from inferchip.catalog import load_catalog
    from inferchip.purchase import bundled_units

    first = load_catalog()
    first.loc[0, "name"] = "changed by a caller"
    assert load_catalog().loc[0, "name"] != "changed by a caller"  # copy=True: callers may change it
    assert bundled_units() is bundled_units()  # shared, as its lru_cache always did


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="changing a file's owner needs root")
def test_a_file_owned_by_someone_else_is_never_unpickled(invoke, cache_dir):
    _run_like_a_new_process(invoke, "compare", "--format", "json")
    (path,) = _cached_files(cache_dir)
    os.chown(path, 12345, 12345)
    runcache.reset()
    _clear_process_caches()
    assert runcache._store().values == {}
    os.chown(path, 0, 0)
    runcache.reset()
    assert runcache._store().values


def test_a_relative_path_argument_bypasses_the_cache(cache_dir, tmp_path, monkeypatch):
    from inferchip import cloud

    monkeypatch.chdir(tmp_path)
    shutil.copy(data_path("cloud_prices.csv"), tmp_path / "prices.csv")
    rows = len(cloud._read("prices.csv"))
    cloud._read.cache_clear()
    lines = (tmp_path / "prices.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (tmp_path / "prices.csv").write_text("".join(lines[:3]), encoding="utf-8")
    runcache.reset()
    assert len(cloud._read("prices.csv")) == 2 < rows  # read again, not the first run's table
    cloud._read.cache_clear()
    runcache.reset()
    assert not [k for k in runcache._store().values if "prices.csv" in str(k)]


def test_the_fingerprint_covers_modules_versions_and_places(tmp_path, monkeypatch):
    import inferchip

    package = tmp_path / "package"
    shutil.copytree(Path(inferchip.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    data = str(Path(data_path()).resolve())
    before = runcache.fingerprint(data, str(package))
    assert runcache.fingerprint(data, str(package)) == before
    module = package / "cost.py"
    module.write_text(module.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    edited = runcache.fingerprint(data, str(package))
    assert edited != before
    monkeypatch.setattr(inferchip, "__version__", "0.0.0-other")
    assert runcache.fingerprint(data, str(package)) != edited
    monkeypatch.undo()
    moved = tmp_path / "moved"
    shutil.copytree(package, moved)
    assert runcache.fingerprint(data, str(moved)) != runcache.fingerprint(data, str(package))


def test_keyword_arguments_are_part_of_the_key_and_results_are_stored_as_computed(cache_dir):
    calls = []

    @runcache.persistent({})
    def table(scale: float = 1.0) -> dict:
        calls.append(scale)
        return {"value": scale}

    first = table(scale=2.0)
    assert table(scale=3.0) == {"value": 3.0} and calls == [2.0, 3.0]
    first["value"] = "changed by a caller after the call"
    assert table(scale=2.0) == {"value": 2.0} and calls == [2.0, 3.0]  # pickled when computed


def test_a_fifo_or_a_link_at_the_file_name_never_blocks_a_run(cache_dir):
    import threading

    cache_dir.mkdir()
    store = runcache._store()
    os.mkfifo(store.path)
    loaded = []
    reader = threading.Thread(target=lambda: loaded.append(runcache._load(store.path, store.fingerprint)), daemon=True)
    reader.start()
    reader.join(timeout=10)
    assert not reader.is_alive() and loaded == [{}]
    os.unlink(store.path)
    target = cache_dir / "elsewhere.pickle"
    target.write_bytes(pickle.dumps({"fingerprint": store.fingerprint, "values": {}}))
    store.path.symlink_to(target)
    assert runcache._load(store.path, store.fingerprint) == {}


def test_saving_keeps_recent_files_of_other_installations_and_drops_old_ones(cache_dir):
    import time

    cache_dir.mkdir()
    recent = cache_dir / "bundled-recent.pickle"
    old = cache_dir / "bundled-old.pickle"
    left = cache_dir / ".bundled-left.tmp"
    for path in (recent, old, left):
        path.write_bytes(b"x")
    week_ago = time.time() - 8 * 24 * 3600
    os.utime(old, (week_ago, week_ago))
    os.utime(left, (week_ago, week_ago))
    store = runcache._store()
    store.put(("key",), 1)
    runcache.reset()
    assert recent.exists() and not old.exists() and not left.exists() and store.path.exists()


def test_an_unpicklable_result_is_returned_and_not_kept(cache_dir):
    @runcache.persistent({})
    def handle() -> object:
        return lambda: None  # a lambda cannot be pickled

    assert callable(handle())
    assert runcache._store().dirty is False


def test_a_save_keeps_what_other_runs_wrote_since_this_one_loaded(cache_dir):
    first = runcache._store()  # a long-lived process (a notebook, the bench) loaded the file early
    other = runcache._Store(first.folder, first.fingerprint)  # a short run, meanwhile
    other.put(("from", "the other run"), 1)
    other.save()
    first.put(("from", "the first process"), 2)
    first.save()
    assert set(runcache._load(first.path, first.fingerprint)) == {("from", "the other run"), ("from", "the first process")}
