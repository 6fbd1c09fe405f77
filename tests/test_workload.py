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


def test_architecture_keys_from_preset_and_profile(tmp_path):
    w = workload.load(write(tmp_path, LLM.replace('"llama-2-70b"', '"deepseek-r1"')))
    assert (w.experts, w.experts_per_token, w.mla, w.attention_heads) == (256, 8, 1.0, 128)
    assert w.output_tokens_cv == pytest.approx(1.0)  # the preset's dataset spread
    w = workload.load(write(tmp_path, LLM.replace('precision = "fp8"', 'precision = "fp8"\nexperts = 16\n'
                                                  'experts_per_token = 2\nsliding_window_tokens = 512\n'
                                                  'sliding_window_layers = 40')))
    assert (w.experts, w.experts_per_token, w.mla) == (16, 2, 0.0)
    assert (w.sliding_window_tokens, w.sliding_window_layers) == (512, 40)
    assert w.as_dict()["attention"] == "gqa"


def test_architecture_key_problems_named(tmp_path):
    bad = LLM.replace('precision = "fp8"', 'precision = "fp8"\nattention = "mla"\nexperts = 4\n'
                      'experts_per_token = 8\nsliding_window_layers = 90')
    with pytest.raises(InputError) as info:
        workload.load(write(tmp_path, bad))
    text = str(info.value)
    for key in ("model.attention_heads", "model.experts_per_token", "model.sliding_window_tokens",
                "model.sliding_window_layers"):
        assert key in text
    with pytest.raises(InputError, match="model.attention: must be 'gqa'"):
        workload.load(write(tmp_path, LLM.replace('precision = "fp8"', 'precision = "fp8"\nattention = "flash"')))


def test_sliding_window_shrinks_kv_cache(tmp_path):
    from inferchip.assumptions import resolve
    from inferchip.calibration import attach_factors
    from inferchip.catalog import load_catalog
    from inferchip.compare import evaluate, scenario_frame

    text = LLM.replace('"llama-2-70b"', '"gpt-oss-120b"').replace('"fp8"', '"fp4"').replace(
        "input_tokens = 100", "input_tokens = 4000")
    windowed = workload.load(write(tmp_path, text))
    full = workload.load(write(tmp_path, text.replace('precision = "fp4"', 'precision = "fp4"\nsliding_window_layers = 0')))
    chips = attach_factors(load_catalog())
    chips = chips[chips["name"] == "NVIDIA H100 SXM"]
    kv = [evaluate("llm", chips, scenario_frame(w, resolve([])), "fp4")["kv_cache_gb_per_replica"].iloc[0]
          / evaluate("llm", chips, scenario_frame(w, resolve([])), "fp4")["batch_size"].iloc[0]
          for w in (windowed, full)]
    # 18 of 36 layers keep 128 of ~4025 tokens: about half the cache per sequence
    assert kv[0] < 0.55 * kv[1]


def test_output_tokens_min_is_read_and_checked_against_the_mean(tmp_path):
    w = workload.load(write(tmp_path, LLM.replace("output_tokens = 50", "output_tokens = 50\noutput_tokens_min = 50")))
    assert w.output_tokens_min == 50
    assert workload.load(write(tmp_path, LLM)).output_tokens_min == 0.0  # not known
    with pytest.raises(InputError, match=r"traffic\.output_tokens_min: must not exceed output_tokens"):
        workload.load(write(tmp_path, LLM.replace("output_tokens = 50", "output_tokens = 50\noutput_tokens_min = 60")))
    with pytest.raises(InputError, match=r"traffic\.output_tokens_min: must be > 0"):
        workload.load(write(tmp_path, LLM.replace("output_tokens = 50", "output_tokens = 50\noutput_tokens_min = -1")))
