"""Fit the per-layer latency of the dataflow (pipeline) rows to their vendor-claimed speeds.

Usage: .venv/bin/python scripts/fit_dataflow.py   (prints the fitted layer_latency_us per row;
copy them into data/catalog.csv after a change of calibration.csv or of the pipeline model)

TPOT_pipe(1) is linear in layer_latency_us (inferchip.dataflow), so one evaluation at 0
gives the rest: layer_latency_us = (1000 / claimed tokens/s - TPOT_pipe(1) at 0) / layers x 1000.
The anchor per row is a 70B claim in data/vendor_speeds.csv on a one-user workload
(1000 input / 300 output tokens, loose SLO).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from inferchip.calibration import attach_factors
from inferchip.compare import evaluate, scenario_frame
from inferchip.dataflow import read_vendor_speeds
from inferchip.inputs import load_inputs

ANCHORS = {"Groq LPU": ("llama-3.1-70b", "fp8"), "Cerebras CS-3": ("llama-3.1-70b", "bf16")}
PROFILE = ('schema_version = 1\nname = "single-user"\nkind = "llm"\n[model]\npreset = "{preset}"\n'
           'precision = "{precision}"\nkv_precision = "fp8"\n[traffic]\nqueries_per_day = 1000\n'
           'peak_to_average = 1.0\ninput_tokens = 1000\noutput_tokens = 300\n[slo]\nttft_ms = 60000\ntpot_ms = 1000\n')


def main() -> None:
    claims = read_vendor_speeds()
    with tempfile.TemporaryDirectory() as tmp:
        for chip, (preset, precision) in ANCHORS.items():
            path = Path(tmp) / f"{preset}-{precision}.toml"
            path.write_text(PROFILE.format(preset=preset, precision=precision))
            inputs = load_inputs(str(path))
            chips = attach_factors(inputs.chips[inputs.chips["name"] == chip]).assign(layer_latency_us=0.0)
            trace: dict = {}
            evaluate("llm", chips, scenario_frame(inputs.workload, inputs.assumptions), inputs.workload.precision,
                     inputs.workload.kv_precision, trace=trace)
            claim = claims[(claims["accelerator"] == chip) & (claims["model"] == preset)]["tokens_per_s_per_user"]
            layers = inputs.workload.layers
            fitted = (1000.0 / float(claim.iat[0]) - float(trace["tpot_b1"][0])) / layers * 1000.0
            print(f"{chip}: layer_latency_us = {fitted:.4g} (claim {float(claim.iat[0]):g} tokens/s per user, "
                  f"{preset} {precision}, {int(trace['n'][0])} chips)")


if __name__ == "__main__":
    main()
