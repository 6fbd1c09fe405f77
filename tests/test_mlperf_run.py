"""MLPerf run-length accounting (inferchip/mlperf_run.py): hand-computed drains and factors."""

import numpy as np
import pytest

from inferchip import mlperf_run


def test_server_drain_runs_the_residual_beside_others_then_alone():
    # o = 3,886 (cv 1): residual 3,886 tokens at 80 ms, then 20,000 - 3,886 alone at 20 ms
    drain = mlperf_run.drain_s(False, 3886.0, 20000.0, 1.0, 80.0, 20.0)
    assert drain == pytest.approx((3886 * 80 + 16114 * 20) / 1000)
    assert mlperf_run.run_length_factor(False, 3886.0, 20000.0, 1.0, 80.0, 20.0) == pytest.approx(600 / (600 + drain))


def test_offline_counts_only_the_idle_tail():
    # the residual work would take o_res x TPOT at full speed anyway: only the lone tail is lost
    assert mlperf_run.drain_s(True, 294.45, 1024.0, 0.0, 150.0, 10.0) == pytest.approx((1024 - 147.225) * 10 / 1000)
    # outputs that never run past the residual lose nothing
    assert mlperf_run.drain_s(True, 128.0, 128.0, 0.0, 50.0, 5.0) == pytest.approx(64 * 5 / 1000)
    assert mlperf_run.drain_s(True, 300.0, 100.0, 0.0, 50.0, 5.0) == 0.0


def test_unknown_longest_output_drains_the_residual_only():
    # o_max unknown: the last query is a typical one, o_res = o (1 + cv^2) / 2 steps at the operating TPOT
    assert mlperf_run.drain_s(False, 300.0, np.nan, 0.0, 40.0, 10.0) == pytest.approx(150 * 40 / 1000)
    assert mlperf_run.drain_s(True, 300.0, np.nan, 0.0, 40.0, 10.0) == 0.0


def test_factor_is_a_fraction_that_shrinks_with_longer_outputs_and_is_one_without_a_point():
    o_max = np.array([128.0, 1024.0, 2000.0, 20000.0])
    f = mlperf_run.run_length_factor(np.zeros(4, dtype=bool), np.array([128.0, 294.0, 684.0, 3886.0]), o_max,
                                     np.array([0.0, 0.0, 0.0, 1.0]), np.full(4, 60.0), np.full(4, 20.0))
    assert ((f > 0) & (f <= 1)).all() and (np.diff(f) < 0).all()
    assert f[0] > 0.99 and f[-1] < 0.6
    assert mlperf_run.run_length_factor(False, 300.0, 1024.0, 0.0, np.nan, np.nan) == 1.0


def test_validation_applies_it_to_mlperf_llm_rows_only():
    """DeepSeek-R1 Server (answers up to 20,000 tokens) is predicted well below the same row
    whose longest output is not known (which drains only a typical residual)."""
    from inferchip import validate
    from inferchip.catalog import load_catalog
    from inferchip.cli.validate_cmd import _assumption_values
    from inferchip.measured import read_benchmarks

    bench = read_benchmarks()
    one = bench[(bench["model"] == "deepseek-r1") & (bench["scenario"] == "Server")].head(1).reset_index(drop=True)
    frame = validate.with_factors(validate.validation_frame(one, load_catalog()))
    assert frame["output_tokens_max"].iloc[0] == 20000
    values = _assumption_values(None, None)
    drained = validate.predict(frame, values)["predicted_per_accelerator"].iloc[0]
    steady = validate.predict(frame.assign(output_tokens_max=np.nan, output_tokens_cv=0.0), values)
    assert drained < 0.75 * steady["predicted_per_accelerator"].iloc[0]


def test_a_vendor_claim_is_not_drained():
    """Only MLPerf rows are counted LoadGen's way: the same row as a vendor claim is predicted
    at its steady state, above the MLPerf prediction."""
    from inferchip import validate
    from inferchip.catalog import load_catalog
    from inferchip.cli.validate_cmd import _assumption_values
    from inferchip.measured import read_benchmarks

    bench = read_benchmarks()
    one = bench[(bench["model"] == "deepseek-r1") & (bench["scenario"] == "Server")].head(1).reset_index(drop=True)
    frame = validate.with_factors(validate.validation_frame(one, load_catalog()))
    values = _assumption_values(None, None)
    mlperf = validate.predict(frame, values)["predicted_per_accelerator"].iloc[0]
    claim = validate.predict(frame.assign(measurement_kind="vendor-claim"), values)["predicted_per_accelerator"].iloc[0]
    assert claim > 1.5 * mlperf
