"""The one place that knows where bundled data lives.

The repository keeps data at top-level `data/`; the build maps that folder
into the package as `inferchip.data`, so the same lookup works from a source
checkout, an editable install and an installed wheel."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def data_path(*parts: str) -> Path:
    """Path of a bundled data file, e.g. data_path("catalog.csv")."""
    here = Path(__file__).resolve().parent.parent / "data"
    if (here / "catalog.csv").is_file():
        return here.joinpath(*parts)
    root = resources.files("inferchip.data")
    return Path(str(root.joinpath(*parts)))


def bundled_workloads() -> dict[str, Path]:
    """Bundled workload profiles by name (file stem), sorted."""
    folder = data_path("workloads")
    return {p.stem: p for p in sorted(folder.glob("*.toml"))}


DEFAULT_WORKLOAD = "support-chatbot-70b"
