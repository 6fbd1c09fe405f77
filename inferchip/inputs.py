"""Gather a command's inputs: workload, assumptions (layered) and catalog."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from inferchip import assumptions as assumptions_mod
from inferchip import workload as workload_mod
from inferchip.errors import UsageError, did_you_mean


@dataclass(frozen=True)
class Inputs:
    workload: workload_mod.Workload
    assumptions: assumptions_mod.Assumptions
    chips: object  # pandas DataFrame (typed loosely to keep pandas out of import time)
    catalog_source: str


def split_sets(sets: list[str] | None, specs: dict) -> tuple[dict, dict]:
    """--set items split into (workload overrides, assumption overrides); unknown keys are errors."""
    parsed = assumptions_mod.parse_set_options(sets or [])
    work, assume = {}, {}
    for key, value in parsed.items():
        if key in specs:
            assume[key] = value
        elif workload_mod.is_workload_key(key):
            work[key] = value
        else:
            choices = list(specs) + list(workload_mod.WORKLOAD_KEY_SECTIONS)
            raise UsageError(f"--set {key}: unknown key.{did_you_mean(key, choices)}"
                             " Keys: the assumptions in `inferchip assumptions`, or workload keys such as "
                             "queries_per_day, input_tokens, output_tokens, tpot_ms, precision.")
    return work, assume


def load_inputs(workload_arg: str | None, catalog: Path | None = None, extend: list[Path] | None = None,
                assumptions_file: Path | None = None, sets: list[str] | None = None,
                need_catalog: bool = True, cloud_provider: str = "default") -> Inputs:
    specs = assumptions_mod.load_specs()
    work_sets, assume_sets = split_sets(sets, specs)
    workload = workload_mod.load(workload_arg, work_sets)
    layers = [(f"{workload.origin} [economics]", workload.economics)]
    if assumptions_file is not None:
        layers.append((str(assumptions_file), assumptions_mod.read_assumptions_file(assumptions_file)))
    layers.append(("--set", assume_sets))
    assumptions = assumptions_mod.resolve(layers, specs)
    chips = None
    source = ""
    if need_catalog:
        from inferchip.catalog import bundled_catalog_path, load_catalog

        chips = load_catalog(catalog, extend, cloud_provider)
        source = str(catalog) if catalog else f"bundled ({bundled_catalog_path().name})"
        if extend:
            source += " + " + " + ".join(str(p) for p in extend)
        if cloud_provider.strip().lower() != "default":
            source += f" (cloud prices: --cloud-provider {cloud_provider})"
    return Inputs(workload, assumptions, chips, source)
