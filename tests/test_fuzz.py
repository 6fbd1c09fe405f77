"""Property-based fuzzing of the loaders and the whole pipeline.

Any input either raises the project's own error (one line per problem, naming
the file) or gives finite, non-negative costs with an explicit feasibility flag,
and a JSON document without NaN. `make fuzz` runs these with
INFERCHIP_FUZZ_EXAMPLES=2000; the default keeps `make test` fast."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inferchip import assumptions as assumptions_mod
from inferchip import catalog as catalog_mod
from inferchip import workload as workload_mod
from inferchip.compare import run_compare
from inferchip.document import compare_document
from inferchip.errors import InferchipError
from inferchip.report import to_json
from inferchip.tomlfile import read_toml

EXAMPLES = int(os.environ.get("INFERCHIP_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

CATALOG_HEADER = ["name", "vendor", "kind", "cooling", "memory_gb", "memory_bw_tbps", "sram_mb", "bf16_tflops",
                  "fp8_tflops", "int8_tops", "fp4_tflops", "tdp_w", "devices_per_server", "server_power_kw",
                  "server_rack_units", "accelerator_price_usd", "server_price_usd", "cloud_usd_per_hour",
                  "rent_only", "compute_efficiency", "memory_efficiency", "step_overhead_ms",
                  "comm_overhead_ms_per_layer", "source", "as_of"]
COST_FIELDS = ("capex_usd", "annual_capex_usd", "annual_opex_usd", "annual_tco_usd", "cost_per_query_usd")
FLEET_FIELDS = ("replicas", "accelerators", "servers")


def in_tmp(name: str, data: bytes):
    """A context manager yielding the path of a temporary file holding `data`."""
    class _File:
        def __enter__(self) -> Path:
            self.dir = tempfile.TemporaryDirectory()
            path = Path(self.dir.name) / name
            path.write_bytes(data)
            return path

        def __exit__(self, *exc) -> None:
            self.dir.cleanup()

    return _File()


def assert_user_error(exc: InferchipError, path: Path | None = None) -> None:
    """A user error is non-empty, one problem per line, each naming the file."""
    lines = exc.message.splitlines()
    assert lines and all(line.strip() for line in lines)
    assert exc.exit_code in (2, 3)
    if path is not None:
        assert all(line.startswith(str(path)) or line.startswith("... and ") for line in lines), exc.message


# --- the catalog loader ------------------------------------------------------------

HOSTILE_NUMBER = st.one_of(
    st.floats(min_value=1e-6, max_value=1e6).map(repr),
    st.integers(0, 10**6).map(str),
    st.sampled_from(["", "0", "-1", "nan", "NaN", "inf", "-inf", "Infinity", "1e300", "1e999", "1e-9", "700W",
                     "1,979", "80 GB", "n/a", "TBD", " 12 ", "0x10", "1_000", "+5", "--5", "1e", ".", "١٢"]),
    st.text(max_size=6),
)
HOSTILE_TEXT = st.one_of(
    st.sampled_from(["", "gpu", "asic", "GPU", "gpux", "air", "liquid", "water", "true", "false", "maybe",
                     "=1+2", "@SUM(A1)", "a,b", 'say "hi"', "line\nbreak", "\t", "Fixture", "2024-06"]),
    st.text(max_size=10),
)


@st.composite
def hostile_catalogs(draw) -> bytes:
    """CSV text built by the csv module from hostile cells, sometimes damaged afterwards."""
    header = draw(st.lists(st.sampled_from(CATALOG_HEADER + ["extra", "sever_price_usd", "Name", ""]),
                           min_size=1, max_size=len(CATALOG_HEADER) + 2))
    if draw(st.booleans()):
        header = list(dict.fromkeys(catalog_mod.REQUIRED_COLUMNS)) + header
    rows = []
    for _ in range(draw(st.integers(0, 5))):
        cells = [draw(HOSTILE_NUMBER if col in catalog_mod.NUMERIC_COLUMNS else HOSTILE_TEXT) for col in header]
        rows.append(cells)
    out = io.StringIO()
    csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))).writerows([header, *rows])
    text = out.getvalue()
    damage = draw(st.sampled_from(["none", "none", "insert", "delete", "semicolons", "bom"]))
    if damage in ("insert", "delete") and text:
        at = draw(st.integers(0, len(text) - 1))
        text = text[:at] + draw(st.sampled_from([",", '"', "\n", "\x00", ";"])) + text[at:] if damage == "insert" \
            else text[:at] + text[at + 1:]
    elif damage == "semicolons":
        text = text.replace(",", ";")
    data = text.encode("utf-8")
    return b"\xef\xbb\xbf" + data if damage == "bom" else data


def check_catalog_frame(df: pd.DataFrame) -> None:
    """What every loaded catalog guarantees to the pipeline."""
    assert len(df) >= 1
    for column in catalog_mod.NUMERIC_COLUMNS:
        values = df[column].to_numpy(dtype=float)
        given_ = values[~np.isnan(values)]
        assert np.isfinite(given_).all(), column
        assert (given_ >= 0).all(), column
        assert (given_ <= catalog_mod.MAX_MAGNITUDE).all(), column
        assert ((given_ == 0) | (given_ >= catalog_mod.MIN_MAGNITUDE)).all(), column
        if column in catalog_mod.POSITIVE_COLUMNS:
            assert (given_ > 0).all(), column
    for column in catalog_mod.REQUIRED_TEXT:
        assert (df[column] != "").all(), column
    assert df["kind"].isin(catalog_mod.KINDS).all()
    assert df["cooling"].isin(catalog_mod.COOLING).all()
    assert not df["name"].str.lower().duplicated().any()


@FUZZ
@given(hostile_catalogs())
def test_fuzz_catalog_loader(data):
    with in_tmp("catalog.csv", data) as path:
        try:
            df = catalog_mod.read_catalog(path)
        except InferchipError as exc:
            assert_user_error(exc, path)
            return
        check_catalog_frame(df)


@FUZZ
@given(st.binary(max_size=400), st.booleans())
def test_fuzz_catalog_loader_raw_bytes(data, with_header):
    if with_header:
        data = (",".join(catalog_mod.REQUIRED_COLUMNS) + "\n").encode() + data
    with in_tmp("catalog.csv", data) as path:
        try:
            df = catalog_mod.read_catalog(path)
        except InferchipError as exc:
            assert_user_error(exc, path)
            return
        check_catalog_frame(df)


# --- the workload and assumptions loaders --------------------------------------------

ANY_VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(), st.text(max_size=8),
              st.sampled_from([0, 1, 1e-300, 1e300, -1, 0.5, 1e15, 2e15, 10**400, -(10**400), "fp8", "llm",
                               "fixed", "llama-2-70b", "resnet50", "100000", "x" * 500])),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=4), inner, max_size=2),
    max_leaves=4,
)
MODEL_KEYS = tuple(dict.fromkeys(workload_mod._LLM_MODEL_KEYS + workload_mod._FIXED_MODEL_KEYS))
PLAUSIBLE = st.one_of(st.floats(min_value=1e-3, max_value=1e7), st.integers(1, 10**6))


def section(keys) -> st.SearchStrategy:
    return st.dictionaries(st.sampled_from(keys) | st.text(max_size=6),
                           st.one_of(PLAUSIBLE, ANY_VALUE), max_size=len(keys) + 1)


RAW_WORKLOADS = st.fixed_dictionaries(
    {},
    optional={
        "schema_version": st.one_of(st.just(1), ANY_VALUE),
        "name": st.one_of(st.just("fuzz"), ANY_VALUE),
        "kind": st.one_of(st.sampled_from(["llm", "fixed"]), ANY_VALUE),
        "model": st.one_of(section(MODEL_KEYS), ANY_VALUE),
        "traffic": st.one_of(section(workload_mod._TRAFFIC_KEYS), ANY_VALUE),
        "slo": st.one_of(section(("ttft_ms", "tpot_ms", "latency_ms")), ANY_VALUE),
        "economics": st.one_of(st.dictionaries(st.sampled_from(["pue", "utilisation_target", "colour"]), ANY_VALUE,
                                               max_size=2), ANY_VALUE),
        "colour": ANY_VALUE,
    },
)


def check_workload(w: workload_mod.Workload) -> None:
    numbers = {k: getattr(w, k) for k in ("queries_per_day", "peak_to_average", "params_b", "active_params_b",
                                           "layers", "input_tokens", "output_tokens", "gflops_per_query",
                                           "weights_mb", "activation_mb_per_query")}
    assert all(math.isfinite(v) and v >= 0 for v in numbers.values()), numbers
    assert w.queries_per_day > 0 and w.peak_to_average >= 1
    assert w.kind in ("llm", "fixed") and w.precision in workload_mod.PRECISIONS
    for slo in (w.ttft_ms, w.tpot_ms, w.latency_ms):
        assert slo > 0 and (math.isfinite(slo) or slo == math.inf)
    if w.kind == "llm":
        assert w.params_b > 0 and w.layers >= 1 and w.input_tokens > 0 and w.output_tokens > 0
        assert 0 < w.active_params_b <= w.params_b
        assert w.kv_elems_per_token_per_layer > 0
    else:
        assert w.gflops_per_query > 0 and w.weights_mb > 0


@FUZZ
@given(RAW_WORKLOADS)
def test_fuzz_workload_loader(raw):
    try:
        w = workload_mod.from_dict(raw, "fuzz.toml")
    except InferchipError as exc:
        assert_user_error(exc, Path("fuzz.toml"))
        return
    check_workload(w)
    specs = assumptions_mod.load_specs()
    try:
        assumptions_mod.resolve([("fuzz.toml [economics]", w.economics)], specs)
    except InferchipError as exc:
        assert_user_error(exc, Path("fuzz.toml [economics]"))


@FUZZ
@given(st.text(max_size=200) | st.binary(max_size=200))
def test_fuzz_toml_reader(data):
    with in_tmp("w.toml", data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data) as path:
        try:
            raw = read_toml(path)
        except InferchipError as exc:
            assert_user_error(exc, path)
            assert len(exc.message.splitlines()) == 1
            return
        assert isinstance(raw, dict)


@FUZZ
@given(st.dictionaries(st.sampled_from(sorted(assumptions_mod.load_specs())) | st.text(max_size=6),
                       st.one_of(ANY_VALUE, st.floats(), st.text(max_size=5).map(lambda t: t + "1,5")), max_size=4))
def test_fuzz_assumption_values(values):
    specs = assumptions_mod.load_specs()
    try:
        resolved = assumptions_mod.resolve([("--set", values)], specs)
    except InferchipError as exc:
        assert_user_error(exc, Path("--set"))
        return
    for value in resolved.values.values():
        assert isinstance(value, str) or (math.isfinite(value) and abs(value) <= assumptions_mod.MAX_MAGNITUDE)


# --- the whole pipeline ------------------------------------------------------------

def log_uniform(low_exp: float, high_exp: float) -> st.SearchStrategy:
    """Magnitudes spread over decades, with the validated edges themselves."""
    return st.one_of(st.floats(min_value=low_exp, max_value=high_exp).map(lambda e: 10.0 ** e),
                     st.sampled_from([10.0 ** low_exp, 10.0 ** high_exp]))


MAYBE_EMPTY = lambda strategy: st.one_of(st.just(""), strategy.map(repr))  # noqa: E731


def spread(realistic: tuple[float, float]) -> st.SearchStrategy:
    """Half the time anywhere the loader accepts (1e-6 to 1e12), half the time in a
    realistic decade range, so that many rows are feasible and reach the cost maths."""
    return st.one_of(log_uniform(-6, 12), log_uniform(*realistic))


@st.composite
def valid_catalogs(draw) -> bytes:
    """Catalogs inside the validated ranges, with magnitudes anywhere from 1e-6 to 1e12."""
    count = draw(st.integers(1, 4))
    wide = spread((-1, 4))
    rows = []
    for i in range(count):
        rows.append({
            "name": f"Chip {i}", "vendor": "Fuzz", "kind": draw(st.sampled_from(catalog_mod.KINDS)),
            "cooling": draw(st.sampled_from(["", "air", "liquid"])),
            "memory_gb": draw(st.one_of(st.just("0"), MAYBE_EMPTY(wide))),
            "memory_bw_tbps": draw(MAYBE_EMPTY(wide)), "sram_mb": draw(MAYBE_EMPTY(wide)),
            "bf16_tflops": draw(MAYBE_EMPTY(wide)), "fp8_tflops": draw(MAYBE_EMPTY(wide)),
            "int8_tops": draw(MAYBE_EMPTY(wide)), "fp4_tflops": draw(MAYBE_EMPTY(wide)),
            "tdp_w": draw(MAYBE_EMPTY(spread((1.5, 3.5)))),
            "devices_per_server": draw(st.one_of(st.just(""), st.integers(1, 72).map(str),
                                                 st.integers(1, 10**6).map(str))),
            "server_power_kw": draw(MAYBE_EMPTY(spread((0, 2)))),
            "server_rack_units": draw(MAYBE_EMPTY(spread((0, 1.7)))),
            "accelerator_price_usd": draw(MAYBE_EMPTY(spread((3, 5)))),
            "server_price_usd": draw(MAYBE_EMPTY(spread((4, 7)))),
            "cloud_usd_per_hour": draw(MAYBE_EMPTY(spread((-1, 2)))), "rent_only": draw(st.sampled_from(["", "true", "false"])),
            "compute_efficiency": draw(MAYBE_EMPTY(log_uniform(-6, 0))),
            "memory_efficiency": draw(MAYBE_EMPTY(log_uniform(-6, 0))),
            "step_overhead_ms": draw(st.one_of(st.just("0"), MAYBE_EMPTY(wide))),
            "comm_overhead_ms_per_layer": draw(st.one_of(st.just("0"), MAYBE_EMPTY(wide))),
            "source": "fuzz", "as_of": "2024-06",
        })
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CATALOG_HEADER, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


@st.composite
def valid_workloads(draw) -> dict:
    """Profiles inside the validated ranges, magnitudes from 1e-6 to 1e15 (or realistic)."""
    wide = st.one_of(log_uniform(-6, 15), log_uniform(0, 4))
    kind = draw(st.sampled_from(["llm", "fixed"]))
    traffic = {"queries_per_day": draw(wide), "peak_to_average": draw(st.one_of(st.just(1.0), log_uniform(0, 15)))}
    precision = draw(st.sampled_from(workload_mod.PRECISIONS))
    if kind == "llm":
        params = draw(wide)
        model = {"params_b": params, "active_params_b": params * draw(st.floats(1e-3, 1.0)),
                 "layers": float(draw(st.integers(1, 10**6))), "kv_heads": float(draw(st.integers(1, 1024))),
                 "head_dim": float(draw(st.integers(1, 1024))), "precision": precision,
                 "kv_precision": draw(st.sampled_from(workload_mod.PRECISIONS))}
        if draw(st.booleans()):
            model["hidden"] = float(draw(st.integers(1, 10**6)))
        traffic |= {"input_tokens": draw(wide), "output_tokens": draw(wide)}
        slo = draw(st.fixed_dictionaries({}, optional={"ttft_ms": wide, "tpot_ms": wide}))
    else:
        model = {"gflops_per_query": draw(wide), "weights_mb": draw(wide), "precision": precision}
        if draw(st.booleans()):
            model["activation_mb_per_query"] = draw(st.one_of(st.just(0.0), wide))
        slo = draw(st.fixed_dictionaries({}, optional={"latency_ms": wide}))
    return {"schema_version": 1, "name": "fuzz", "kind": kind, "model": model, "traffic": traffic, "slo": slo}


@st.composite
def valid_assumptions(draw) -> dict:
    """A few assumptions moved anywhere inside their allowed ranges."""
    specs = assumptions_mod.load_specs()
    keys = draw(st.lists(st.sampled_from(sorted(specs)), max_size=6, unique=True))
    values: dict[str, object] = {}
    for key in keys:
        if key in assumptions_mod._CHOICES:
            values[key] = draw(st.sampled_from(assumptions_mod._CHOICES[key]))
            continue
        low, low_ok, high, high_ok = assumptions_mod._RANGES.get(key, (0.0, True, None, False))
        high = assumptions_mod.MAX_MAGNITUDE if high is None else high
        low = max(low, assumptions_mod.MIN_MAGNITUDE)
        values[key] = draw(st.one_of(st.floats(min_value=low, max_value=high, exclude_min=not low_ok,
                                               exclude_max=not high_ok),
                                     st.floats(min_value=math.log10(low), max_value=math.log10(high)).map(
                                         lambda e: 10.0 ** e)))
    return values


def check_results(results: pd.DataFrame, doc: dict) -> None:
    """Finite, non-negative costs and an explicit flag on every row; strict JSON."""
    assert results["feasible"].dtype == bool
    for row in doc["results"]:
        assert isinstance(row["feasible"], bool)
        assert row["feasible"] == (row["infeasible_reason"] == ""), row
        if row["feasible"]:
            for field in COST_FIELDS:
                value = row[field]
                assert value is not None and math.isfinite(value) and value >= 0, (field, row)
            for field in FLEET_FIELDS:
                assert row[field] is not None and row[field] >= 1, (field, row)
            assert row["racks"] is None or row["racks"] >= 1, row  # None: no power or size data
        else:
            assert row["cost_per_query_usd"] is None
            assert row["infeasible_reason"].strip()
    text = to_json(doc)

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} in JSON")

    json.loads(text, parse_constant=refuse)


def run_pipeline(catalog_bytes: bytes, raw_workload: dict, assumption_values: dict):
    with in_tmp("catalog.csv", catalog_bytes) as path:
        chips = catalog_mod.read_catalog(path)
    w = workload_mod.from_dict(raw_workload, "fuzz.toml")
    a = assumptions_mod.resolve([("fuzz", assumption_values)])
    results = run_compare(w, a, chips)
    return results, compare_document(w, a, results, "fuzz.csv")


@FUZZ
@given(valid_catalogs(), valid_workloads(), valid_assumptions())
def test_fuzz_pipeline_gives_finite_costs_or_a_reason(catalog_bytes, raw_workload, assumption_values):
    with np.errstate(all="ignore"):
        try:
            results, doc = run_pipeline(catalog_bytes, raw_workload, assumption_values)
        except InferchipError as exc:
            assert_user_error(exc)
            return
    assert len(results) == len(doc["results"])
    check_results(results, doc)


@FUZZ
@given(hostile_catalogs(), RAW_WORKLOADS)
def test_fuzz_pipeline_on_hostile_inputs(catalog_bytes, raw_workload):
    with np.errstate(all="ignore"):
        try:
            results, doc = run_pipeline(catalog_bytes, raw_workload, {})
        except InferchipError as exc:
            assert_user_error(exc)
            return
    check_results(results, doc)


def test_fuzz_examples_setting_is_read_from_the_environment():
    """`make fuzz` sets INFERCHIP_FUZZ_EXAMPLES; the default stays small for `make test`."""
    expected = int(os.environ.get("INFERCHIP_FUZZ_EXAMPLES", "40"))
    assert FUZZ.max_examples == expected
    if "INFERCHIP_FUZZ_EXAMPLES" not in os.environ:
        assert expected <= 100


@pytest.mark.parametrize("field", COST_FIELDS)
def test_cost_fields_exist_in_the_result(field):
    from inferchip.units import RESULT_FIELDS

    assert field in RESULT_FIELDS
