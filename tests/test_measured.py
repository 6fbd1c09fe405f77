"""Measured results: loading, the measured workloads, and measured-beats-modeled in compare."""

import math

import numpy as np
import pandas as pd
import pytest

from inferchip.data_files import data_path
from inferchip.errors import InputError, NotFoundError
from inferchip.measured import benchmark_workloads, match, read_benchmarks


@pytest.fixture(scope="module")
def bench():
    return read_benchmarks()


def test_bundled_benchmarks_load_with_sources(bench):
    assert len(bench) >= 70
    assert (bench["source"].str.len() > 10).all()
    assert bench["url"].str.startswith("https://").all()
    assert set(bench["scenario"]) <= {"Offline", "Server", "Interactive"}
    assert set(bench["measurement_kind"]) <= {"mlperf", "vendor-claim"}
    offline = bench[bench["scenario"] == "Offline"]
    assert np.isinf(offline[["ttft_ms", "tpot_ms", "latency_ms"]].to_numpy()).all(), "Offline has no bound"


def test_bad_benchmark_file_lists_every_problem_with_its_line(tmp_path):
    path = tmp_path / "bench.csv"
    path.write_text("accelerator,model,scenario,precision,accelerator_count,throughput_per_accelerator,"
                    "throughput_unit,measurement_kind,source\n"
                    "NVIDIA H100 SXM,llama-2-70b,Offline,fp8,8,abc,tokens_per_s,mlperf,x\n"
                    "NVIDIA H100 SXM,llama-2-70b,Batch,fp9,-1,10,tokens_per_s,rumour,x\n")
    with pytest.raises(InputError) as info:
        read_benchmarks(path)
    message = info.value.message
    assert "line 2: throughput_per_accelerator = 'abc' is not a number" in message
    assert "line 3: scenario 'Batch'" in message and "line 3: precision 'fp9'" in message
    assert "line 3: accelerator_count must be > 0" in message
    assert "line 3: measurement_kind 'rumour' must be one of mlperf, vendor-claim" in message
    with pytest.raises(NotFoundError):
        read_benchmarks(tmp_path / "missing.csv")


def test_measured_workloads_take_dataset_means_and_bounds(bench):
    table = benchmark_workloads(bench)
    llama = table[(table["model"] == "llama-2-70b") & (table["scenario"] == "Server")].iloc[0]
    assert (llama["input_tokens"], llama["output_tokens"]) == (222.3, 294.45)
    assert (llama["bound_ttft_ms"], llama["bound_tpot_ms"]) == (2000, 200)
    assert llama["kv_precision"] == "fp8"  # FP8 KV beside FP8 weights
    gptj = table[(table["model"] == "gpt-j-6b") & (table["scenario"] == "Server")].iloc[0]
    # a 20 s end-to-end bound becomes TTFT <= 20 s and TPOT <= 20 s / 69 tokens
    assert gptj["bound_ttft_ms"] == 20000 and gptj["bound_tpot_ms"] == pytest.approx(20000 / 69)
    assert gptj["input_tokens"] == 870.7 and gptj["shape_source"].startswith("estimate")
    bert = table[table["model"] == "bert-large"].iloc[0]
    assert bert["gflops_per_query"] == 109.8  # unpadded SQuAD work, not the padded 246
    assert bert["precision_run"] == "int8"  # blank precision takes the preset default


def test_match_rule_hand_cases():
    rows = pd.DataFrame({
        "accelerator": ["Chip A", "Chip A", "Chip A"], "precision_run": ["fp8", "fp8", "fp8"],
        "input_tokens": [200.0, 200.0, 200.0], "output_tokens": [300.0, 300.0, 300.0],
        "bound_ttft_ms": [math.inf, 2000.0, 2000.0], "bound_tpot_ms": [math.inf, 200.0, 100.0],
        "throughput_per_accelerator": [1000.0, 900.0, 800.0],
    })
    scen = {"input_tokens": np.array([200, 210, 200, 200, 300.0]),
            "output_tokens": np.array([300, 300, 300, 300, 300.0]),
            "ttft_ms": np.array([math.inf, 3000, 2000, 2000, 2000]),
            "tpot_ms": np.array([math.inf, 250, 150, 50, 200.0])}
    value, index = match("llm", rows, np.array(["chip a"] * 5), np.array(["fp8"] * 5), scen)
    # no SLO: every row qualifies, the best (Offline) wins; looser than both Server bounds: 900;
    # TPOT 150 is looser than the 100 ms row only: 800; TPOT 50 tighter than all: none;
    # 300 input tokens is not the measured work: none
    assert value[:3].tolist() == [1000.0, 900.0, 800.0] and index[:3].tolist() == [0, 1, 2]
    assert np.isnan(value[3:]).all() and (index[3:] == -1).all()
    other, _ = match("llm", rows, np.array(["chip a"]), np.array(["bf16"]), {k: v[:1] for k, v in scen.items()})
    assert np.isnan(other).all(), "another precision is not the measured one"


def _workload(tmp_path, precision="fp8", ttft=2000, tpot=200, inp=222.3, out=294.45, name="w"):
    slo = "" if ttft is None else f"[slo]\nttft_ms = {ttft}\ntpot_ms = {tpot}\n"
    path = tmp_path / f"{name}.toml"
    path.write_text(f'schema_version = 1\nname = "{name}"\nkind = "llm"\n[model]\npreset = "llama-2-70b"\n'
                    f'precision = "{precision}"\nkv_precision = "fp8"\n[traffic]\nqueries_per_day = 1000000\n'
                    f"input_tokens = {inp}\noutput_tokens = {out}\n{slo}")
    return str(path)


def _rows(doc):
    return {r["accelerator"]: r for r in doc["results"]}


def test_compare_uses_measured_throughput_when_the_workload_matches(tmp_path, compare_json):
    rows = _rows(compare_json(_workload(tmp_path)))
    h100 = rows["NVIDIA H100 SXM"]
    assert h100["throughput_source"] == "measured"
    assert h100["tokens_per_s_per_accelerator"] == pytest.approx(3821.1)  # best H100 SXM Server row (v5.1)
    assert "HPF HGX System" in h100["throughput_reference"]
    assert h100["queries_per_s_per_accelerator"] == pytest.approx(3821.1 / 294.45)
    assert rows["NVIDIA A100 80GB SXM"]["throughput_source"] == "modeled"  # no measured row
    assert rows["NVIDIA A100 80GB SXM"]["throughput_reference"] == ""


def test_looser_slo_still_uses_the_measurement(tmp_path, compare_json):
    h100 = _rows(compare_json(_workload(tmp_path, ttft=5000, tpot=400)))["NVIDIA H100 SXM"]
    assert h100["throughput_source"] == "measured"
    assert h100["tokens_per_s_per_accelerator"] == pytest.approx(3821.1)


def test_no_slo_uses_the_best_offline_measurement(tmp_path, compare_json):
    h200 = _rows(compare_json(_workload(tmp_path, ttft=None)))["NVIDIA H200 SXM"]
    assert h200["throughput_source"] == "measured"
    assert h200["tokens_per_s_per_accelerator"] == pytest.approx(4414.6)  # v5.1; not the MaxQ 3157.8


def test_tighter_slo_falls_back_to_the_model(tmp_path, compare_json):
    h100 = _rows(compare_json(_workload(tmp_path, tpot=100)))["NVIDIA H100 SXM"]
    assert h100["throughput_source"] == "modeled"
    assert h100["tokens_per_s_per_accelerator"] != pytest.approx(3821.1)


def test_other_precision_or_other_work_falls_back_to_the_model(tmp_path, compare_json):
    fp16 = _rows(compare_json(_workload(tmp_path, precision="fp16", name="a")))
    assert fp16["NVIDIA H100 SXM"]["throughput_source"] == "modeled"
    assert fp16["NVIDIA B200"]["throughput_source"] == "modeled"
    fp4 = _rows(compare_json(_workload(tmp_path, precision="fp4", name="b")))
    assert fp4["NVIDIA B200"]["throughput_source"] == "measured"  # the B200 row ran FP4
    assert fp4["NVIDIA H100 SXM"]["throughput_source"] == "modeled"  # H100 has no FP4: falls back to fp8
    longer = _rows(compare_json(_workload(tmp_path, inp=1000, name="c")))
    assert longer["NVIDIA H100 SXM"]["throughput_source"] == "modeled"


def test_fixed_work_match_on_the_unpadded_bert(tmp_path, compare_json):
    path = tmp_path / "bert.toml"
    path.write_text('schema_version = 1\nname = "bert"\nkind = "fixed"\n[model]\npreset = "bert-large"\n'
                    'precision = "int8"\ngflops_per_query = 109.8\n[traffic]\nqueries_per_day = 1e8\n'
                    "[slo]\nlatency_ms = 200\n")
    rows = _rows(compare_json(str(path)))
    assert rows["NVIDIA H100 SXM"]["throughput_source"] == "measured"
    assert rows["NVIDIA H100 SXM"]["queries_per_s_per_accelerator"] == pytest.approx(7151.3)  # Server, 130 ms
    padded = _rows(compare_json("fraud-scoring-bert"))  # 246 GFLOP padded work, 5 ms: the model
    assert padded["NVIDIA H100 SXM"]["throughput_source"] == "modeled"


# --- beam search (MLPerf GPT-J decodes 4 beams per sample) ------------------------------------


def test_gpt_j_rows_decode_four_beams_and_others_one(bench):
    rows = benchmark_workloads(bench)
    gptj = rows["model"] == "gpt-j-6b"
    assert gptj.any()
    assert (rows.loc[gptj, "beam_width"] == 4).all()
    assert (rows.loc[~gptj, "beam_width"] == 1).all()


def test_beam_width_slows_a_query_but_shares_its_prefill(bench):
    """With w beams the batch counts beams and a query's rate is the beams' / w; its one
    prefill is shared, so 4 beams cost less than 4x one beam but more than one."""
    from inferchip import validate
    from inferchip.catalog import load_catalog
    from inferchip.cli.validate_cmd import _assumption_values

    values = _assumption_values(None, None)
    chips = load_catalog()
    one = bench[(bench["model"] == "gpt-j-6b") & (bench["accelerator"] == "NVIDIA H100 SXM")
                & (bench["scenario"] == "Offline")].head(1).reset_index(drop=True)
    frame = validate.with_factors(validate.validation_frame(one, chips))
    four = validate.predict(frame, values)["predicted_per_accelerator"].iloc[0]
    greedy = validate.predict(frame.assign(beam_width=1.0), values)["predicted_per_accelerator"].iloc[0]
    assert greedy / 4 < four < greedy


def test_bad_beam_width_names_file_line_and_key(tmp_path):
    from inferchip.measured import read_benchmark_workloads

    path = tmp_path / "bw.csv"
    path.write_text("model,input_tokens,output_tokens,gflops_per_query,beam_width,source,as_of,notes\n"
                    "gpt-j-6b,870,69,,2.5,x,2026-06,\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bw\.csv: line 2: beam_width = '2\.5' must be a whole number"):
        read_benchmark_workloads(path)


def test_beam_search_rows_never_stand_for_a_greedy_workload(bench):
    rows = benchmark_workloads(bench[bench["model"] == "gpt-j-6b"]).reset_index(drop=True)
    first = rows.iloc[[0]]
    scen = {k: first[k].to_numpy(float) for k in ("input_tokens", "output_tokens")}
    scen.update(ttft_ms=np.array([math.inf]), tpot_ms=np.array([math.inf]))
    accelerator, precision = first["accelerator"].to_numpy(), first["precision_run"].to_numpy()
    value, index = match("llm", rows, accelerator, precision, scen)  # a workload without beams: greedy
    assert np.isnan(value[0]) and index[0] == -1
    value, _ = match("llm", rows, accelerator, precision, {**scen, "beam_width": np.array([4.0])})
    assert value[0] > 0


def test_a_model_twice_in_benchmark_workloads_names_both_lines(tmp_path):
    """Each benchmark row takes its model's one shape: a second row for a model is refused."""
    from inferchip.measured import read_benchmark_workloads

    path = tmp_path / "bw.csv"
    path.write_text("model,input_tokens,output_tokens,gflops_per_query,beam_width,source,as_of,notes\n"
                    "gpt-j-6b,870,69,,4,x,2026-06,\n"
                    "GPT-J-6B,900,69,,4,y,2026-06,\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bw\.csv: line 3: model 'GPT-J-6B' already has a row \(line 2\)"):
        read_benchmark_workloads(path)


def test_benchmark_workloads_one_preset_equals_its_rows_of_the_whole_table(bench):
    """Built for one preset's rows (as compare does) or for the whole file (as validate does),
    every row gets the same workload."""
    whole = benchmark_workloads(bench)
    for model in sorted(set(bench["model"])):
        part = benchmark_workloads(bench[bench["model"] == model])
        pd.testing.assert_frame_equal(part, whole[bench["model"] == model], check_exact=True)


def test_fixed_length_dataset_carries_its_shortest_output(bench):
    """MLPerf llama-3.1-8b generates exactly 128 tokens per query (data/models.csv), so its rows
    bound the p99 tail; datasets whose shortest output is not known carry 0."""
    rows = benchmark_workloads(bench)
    eight = rows["model"] == "llama-3.1-8b"
    assert eight.any() and (rows.loc[eight, "output_tokens_min"] == 128).all()
    assert (rows.loc[~eight, "output_tokens_min"] == 0).all()


def test_fixed_length_outputs_raise_the_interactive_prediction(bench):
    """The same 8B Interactive row predicted with its known shortest output (128 = mean) and
    without it: the smaller p99 tail admits a larger batch, so more tokens per second."""
    from inferchip import validate
    from inferchip.catalog import load_catalog
    from inferchip.cli.validate_cmd import _assumption_values

    values = _assumption_values(None, None)
    one = bench[(bench["model"] == "llama-3.1-8b") & (bench["scenario"] == "Interactive")
                & (bench["accelerator"] == "NVIDIA H200 SXM")].head(1).reset_index(drop=True)
    frame = validate.with_factors(validate.validation_frame(one, load_catalog()))
    assert frame["output_tokens_min"].iloc[0] == 128
    fixed = validate.predict(frame, values)["predicted_per_accelerator"].iloc[0]
    unknown = validate.predict(frame.assign(output_tokens_min=0.0), values)["predicted_per_accelerator"].iloc[0]
    assert fixed > unknown * 1.05


def test_a_benchmarks_file_of_only_a_header_is_refused_in_one_line(tmp_path, invoke):
    path = tmp_path / "b.csv"
    path.write_text(data_path("benchmarks.csv").read_text(encoding="utf-8").splitlines()[0] + "\n")
    with pytest.raises(InputError, match="no benchmark rows below the header"):
        read_benchmarks(path)
    result = invoke("validate", "--benchmarks", str(path))
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == f"error: {path}: no benchmark rows below the header; add one row per measured " \
                                    "result (see data/README.md)"
