"""Model presets from data/models.csv (read with the csv module: no pandas needed)."""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

from inferchip.data_files import data_path
from inferchip.errors import NotFoundError, did_you_mean
from inferchip.runcache import persistent

NUMERIC = (
    "params_b", "active_params_b", "layers", "kv_heads", "head_dim", "hidden",
    "kv_elems_per_token_per_layer", "gflops_per_query", "weights_mparams",
    "activation_mb_per_query", "dataset_input_tokens", "dataset_output_tokens",
    "experts", "experts_per_token", "attention_heads", "sliding_window_tokens", "sliding_window_layers",
    "dataset_output_tokens_cv", "dataset_output_tokens_min",
    "dataset_output_tokens_max",
)
ATTENTION_KINDS = ("gqa", "mla")  # standard (grouped-query / multi-head) or multi-head latent attention


@lru_cache(maxsize=4)
def load_presets(path: Path | None = None) -> dict[str, dict[str, object]]:
    """Presets by lower-case name; numeric fields as floats, empty as None."""
    return _bundled_presets() if path is None else _read_presets(path)


@persistent({"models.csv": "model preset"})
def _bundled_presets() -> dict[str, dict[str, object]]:
    return _read_presets(data_path("models.csv"))


def _read_presets(path: Path) -> dict[str, dict[str, object]]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    presets: dict[str, dict[str, object]] = {}
    for row in rows:
        entry: dict[str, object] = {}
        for key, value in row.items():
            value = (value or "").strip()
            if key in NUMERIC:
                entry[key] = float(value) if value else None
            else:
                entry[key] = value
        entry["mla"] = 1.0 if str(entry.get("attention", "")).lower() == "mla" else 0.0
        presets[str(entry["name"]).lower()] = entry
    return presets


def get_preset(name: str, where: str) -> dict[str, object]:
    presets = load_presets()
    try:
        return presets[name.lower()]
    except KeyError:
        names = [str(p["name"]) for p in presets.values()]
        raise NotFoundError(
            f"{where}: unknown model preset '{name}'.{did_you_mean(name, names)}"
            f" Presets: {', '.join(names)}"
        ) from None
