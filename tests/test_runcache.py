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


def test_a_stale_file_is_replaced_and_never_read(invoke, cache_dir):
    cache_dir.mkdir()
    stale = cache_dir / "bundled-0123456789abcdef0123456789abcdef.pickle"
    # a stale file that would give wrong numbers if it were read under the current name
    stale.write_bytes(pickle.dumps({"fingerprint": "0123456789abcdef0123456789abcdef", "values": {}}))
    _run_like_a_new_process(invoke, "compare", "--format", "json")
    assert not stale.exists()
    assert len(_cached_files(cache_dir)) == 1


def test_a_file_under_the_right_name_with_another_fingerprint_is_ignored(invoke, cache_dir):
    _run_like_a_new_process(invoke, "compare", "--format", "json")
    (path,) = _cached_files(cache_dir)
    with open(path, "rb") as handle:
        stored = pickle.load(handle)
    key = next(k for k in stored["values"] if k[0] == "inferchip.catalog._bundled_catalog")
    poisoned = stored["values"][key].assign(cloud_usd_per_hour=1e-9, accelerator_price_usd=1.0)
    path.write_bytes(pickle.dumps({"fingerprint": "other", "values": {key: poisoned}}))
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


def test_output_onto_a_bundled_file_is_refused_when_it_came_from_the_cache(invoke, cache_dir, tmp_path):
    _run_like_a_new_process(invoke, "compare", "--format", "json")
    runcache.reset()
    _clear_process_caches()
    target = data_path("catalog.csv")
    before = target.read_bytes()
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    result = invoke("compare", "--format", "json", "--output", str(link))
    assert result.exit_code == 5, result.stderr
    assert "is the catalog file" in result.stderr and "this command reads" in result.stderr
    assert target.read_bytes() == before


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
