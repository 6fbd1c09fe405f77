import math
from pathlib import Path

import pytest

from inferchip import workload
from inferchip.data_files import bundled_workloads
from inferchip.errors import InputError, NotFoundError


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "w.toml"
    path.write_text(text)
    return str(path)


LLM = """
schema_version = 1
name = "t"
kind = "llm"
[model]
preset = "llama-2-70b"
precision = "fp8"
[traffic]
queries_per_day = 86400
input_tokens = 100
output_tokens = 50
[slo]
tpot_ms = 50
"""


def test_every_bundled_profile_loads():
    names = bundled_workloads()
    assert len(names) >= 5
    kinds = {workload.load(str(p)).kind for p in names.values()}
    assert kinds == {"llm", "fixed"}


def test_preset_fills_architecture(tmp_path):
    w = workload.load(write(tmp_path, LLM))
    assert w.params_b == pytest.approx(68.98)
    assert w.layers == 80
    assert w.kv_elems_per_token_per_layer == 2 * 8 * 128
    assert w.ttft_ms == math.inf and w.tpot_ms == 50


def test_explicit_keys_override_preset(tmp_path):
    w = workload.load(write(tmp_path, LLM.replace('precision = "fp8"', 'precision = "fp8"\nlayers = 40')))
    assert w.layers == 40


def test_all_problems_reported_with_keys(tmp_path):
    text = LLM.replace("queries_per_day = 86400", "queries_per_day = -1").replace(
        "output_tokens = 50", "output_tokens = \"many\"\ncolour = 3")
    with pytest.raises(InputError) as info:
        workload.load(write(tmp_path, text))
    message = info.value.message
    assert "traffic.queries_per_day: must be > 0 (got -1)" in message
    assert "traffic.output_tokens: must be a number (got 'many')" in message
    assert "traffic.colour: unknown key" in message
    assert all(line.startswith(str(tmp_path)) for line in message.splitlines())


def test_unknown_preset_suggests(tmp_path):
    with pytest.raises(NotFoundError, match="Did you mean 'llama-2-70b'"):
        workload.load(write(tmp_path, LLM.replace('"llama-2-70b"', '"llama2-70b"')))


def test_peak_to_average_below_one(tmp_path):
    with pytest.raises(InputError, match="peak_to_average: must be >= 1"):
        workload.load(write(tmp_path, LLM.replace("[traffic]", "[traffic]\npeak_to_average = 0.5")))


def test_toml_syntax_error_names_line(tmp_path):
    with pytest.raises(InputError, match=r"invalid TOML: .*line 3"):
        workload.load(write(tmp_path, 'schema_version = 1\nname = "x"\nkind = = "llm"\n'))


def test_peak_queries_per_s_alternative(tmp_path):
    text = LLM.replace("queries_per_day = 86400", "peak_queries_per_s = 4.0\npeak_to_average = 2.0")
    w = workload.load(write(tmp_path, text))
    assert w.queries_per_day == pytest.approx(4.0 * 86400 / 2.0)
    assert w.peak_queries_per_s == pytest.approx(4.0)


def test_overrides_apply_before_validation(tmp_path):
    w = workload.load(write(tmp_path, LLM), {"output_tokens": 500.0, "slo.tpot_ms": 80.0})
    assert w.output_tokens == 500 and w.tpot_ms == 80


def test_missing_file():
    with pytest.raises(NotFoundError):
        workload.load("no-such-file.toml")
