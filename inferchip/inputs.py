"""Gather a command's inputs: workload, assumptions (layered) and catalog."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from inferchip import assumptions as assumptions_mod
from inferchip import workload as workload_mod
from inferchip.errors import UsageError, did_you_mean, shown


@dataclass(frozen=True)
class Inputs:
    workload: workload_mod.Workload
    assumptions: assumptions_mod.Assumptions
    chips: object  # pandas DataFrame (typed loosely to keep pandas out of import time)
    catalog_source: str
    calibration: object = None  # the --calibration table (pandas), None for the bundled one


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
            raise UsageError(f"--set {shown(key)}: unknown key.{did_you_mean(key, choices)}"
                             " Keys: the assumptions in `inferchip assumptions`, or workload keys such as "
                             "queries_per_day, input_tokens, output_tokens, tpot_ms, precision.")
    return work, assume


def shared_assumption_layers(shared: list, specs: dict) -> list[tuple[str, dict]]:
    """(origin, values) layers from inferchip.toml and INFERCHIP_* (see inferchip.config):
    each one's assumptions file, then its sets (assumption keys only)."""
    layers = []
    for layer in shared:
        if layer.assumptions is not None:
            origin = f"{layer.assumptions} (via {layer.origin})"
            layers.append((origin, assumptions_mod.read_assumptions_file(layer.assumptions)))
        if layer.sets:
            where = f"{layer.origin} [set]" if layer.origin != "INFERCHIP_SET" else "INFERCHIP_SET"
            for key in layer.sets:
                if key not in specs:
                    hint = (" Workload keys belong in the profile or on the command line (--set)."
                            if workload_mod.is_workload_key(key) else did_you_mean(key, list(specs)))
                    raise UsageError(f"{where}: {key}: not an assumption key.{hint}")
            layers.append((where, layer.sets))
    return layers


def resolve_files(catalog: Path | None, extend: list[Path] | None, calibration: Path | None,
                  shared: list) -> tuple[Path | None, list[Path], Path | None]:
    """The catalog, extension catalogs and calibration file in force: a command-line
    option wins over INFERCHIP_*, which wins over inferchip.toml; extensions add up."""
    catalog = catalog or next((x.catalog for x in reversed(shared) if x.catalog is not None), None)
    calibration = calibration or next((x.calibration for x in reversed(shared) if x.calibration is not None), None)
    extend = [p for x in shared for p in x.extend_catalog] + list(extend or [])
    return catalog, extend, calibration


def load_inputs(workload_arg: str | None, catalog: Path | None = None, extend: list[Path] | None = None,
                assumptions_file: Path | None = None, sets: list[str] | None = None,
                need_catalog: bool = True, calibration: Path | None = None, shared: list | None = None,
                cloud_provider: str = "default") -> Inputs:
    """Workload, assumptions and catalog for a command. Assumptions layer, later winning:
    defaults < inferchip.toml < INFERCHIP_* < the profile's [economics] < --assumptions
    < --set; `shared` defaults to the discovered config and environment (inferchip.config)."""
    from inferchip.config import shared_layers

    shared = shared_layers() if shared is None else shared
    specs = assumptions_mod.load_specs()
    work_sets, assume_sets = split_sets(sets, specs)
    workload = workload_mod.load(workload_arg, work_sets)
    layers = shared_assumption_layers(shared, specs)
    layers.append((f"{workload.origin} [economics]", workload.economics))
    if assumptions_file is not None:
        layers.append((str(assumptions_file), assumptions_mod.read_assumptions_file(assumptions_file)))
    layers.append(("--set", assume_sets))
    assumptions = assumptions_mod.resolve(layers, specs)
    catalog, extend, calibration = resolve_files(catalog, extend, calibration, shared)
    chips = None
    source = ""
    table = None
    if need_catalog:
        from inferchip.catalog import bundled_catalog_path, load_catalog

        chips = load_catalog(catalog, extend, cloud_provider)
        source = str(catalog) if catalog else f"bundled ({bundled_catalog_path().name})"
        if extend:
            source += " + " + " + ".join(str(p) for p in extend)
        if cloud_provider.strip().lower() != "default":
            source += f" (cloud prices: --cloud-provider {cloud_provider})"
        if calibration is not None:
            from inferchip.calibration import CALIBRATION_ATTR, load_calibration

            table = load_calibration(calibration)  # checked now, before any work
            chips.attrs[CALIBRATION_ATTR] = str(calibration)
    return Inputs(workload, assumptions, chips, source, table)
