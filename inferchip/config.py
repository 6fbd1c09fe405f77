"""Defaults a team shares: a project config file and INFERCHIP_* environment variables.

`inferchip.toml` is looked for in the working directory and then in each parent
folder (the first one found wins); `INFERCHIP_CONFIG=FILE` names one instead and
`INFERCHIP_CONFIG=` (empty) turns discovery off. Its keys:

    catalog = "our-catalog.csv"          # replaces the bundled catalog
    extend_catalog = ["quotes.csv"]      # added or patched in, in order
    assumptions = "site.toml"            # a flat assumptions file
    calibration = "calibration.csv"      # efficiency factors (inferchip calibrate -o)
    [set]                                # assumption values
    electricity_usd_per_kwh = 0.12

Relative paths are relative to the config file's folder. The environment
variables INFERCHIP_CATALOG, INFERCHIP_EXTEND_CATALOG (several paths separated by
the OS path separator, ':' on Unix), INFERCHIP_ASSUMPTIONS, INFERCHIP_CALIBRATION
and INFERCHIP_SET ("key=value key=value") do the same and win over the file.

Precedence, later winning: bundled defaults < inferchip.toml < INFERCHIP_* <
the workload profile's [economics] < --assumptions FILE < --set (and --catalog /
--calibration over both). Extension catalogs add up: the file's, the
environment's, then --extend-catalog. Config and environment sets take
assumption keys only: a workload quantity belongs in the profile or on the
command line."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from inferchip.errors import InputError, NotFoundError, did_you_mean

CONFIG_NAME = "inferchip.toml"
FILE_KEYS = ("catalog", "extend_catalog", "assumptions", "calibration", "set")
ENV_PREFIX = "INFERCHIP_"


@dataclass(frozen=True)
class Layer:
    """One source of shared defaults (the config file or the environment)."""

    origin: str  # how the JSON names it in assumptions' origin, e.g. "inferchip.toml (/srv/x/inferchip.toml)"
    catalog: Path | None = None
    extend_catalog: tuple[Path, ...] = ()
    assumptions: Path | None = None
    calibration: Path | None = None
    sets: dict[str, object] = field(default_factory=dict)


def find_config(start: Path | None = None, environ: dict | None = None) -> Path | None:
    """The project config file: $INFERCHIP_CONFIG if set (empty = none), else the first
    inferchip.toml in `start` (default: the working directory) or a parent folder."""
    env = os.environ if environ is None else environ
    if "INFERCHIP_CONFIG" in env:
        named = env["INFERCHIP_CONFIG"].strip()
        if not named:
            return None
        path = Path(named)
        if not path.is_file():
            raise NotFoundError(f"INFERCHIP_CONFIG={named}: config file not found; check the path, or set "
                                "INFERCHIP_CONFIG= (empty) to use no config file")
        return path
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        path = candidate / CONFIG_NAME
        if path.is_file():
            return path
    return None


def _path(value: object, where: str, base: Path) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{where}: must be a file path in quotes (got {value!r})")
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def read_config(path: Path) -> Layer:
    """Read and check a config file (unknown keys and wrong types are errors naming the key)."""
    from inferchip.tomlfile import read_toml

    raw = read_toml(path)
    base = path.parent
    problems = []
    for key in raw:
        if key not in FILE_KEYS:
            problems.append(f"{path}: {key}: unknown key.{did_you_mean(key, FILE_KEYS)} Allowed: {', '.join(FILE_KEYS)}")
    if problems:
        raise InputError("\n".join(problems))
    extend = raw.get("extend_catalog", [])
    if isinstance(extend, str):
        extend = [extend]
    if not isinstance(extend, list):
        raise InputError(f"{path}: extend_catalog: must be a list of file paths, e.g. [\"quotes.csv\"]")
    sets = raw.get("set", {})
    if not isinstance(sets, dict):
        raise InputError(f"{path}: set: must be a table; write [set] on its own line with key = value lines below")
    return Layer(
        origin=f"{CONFIG_NAME} ({path})",
        catalog=_path(raw["catalog"], f"{path}: catalog", base) if "catalog" in raw else None,
        extend_catalog=tuple(_path(v, f"{path}: extend_catalog", base) for v in extend),
        assumptions=_path(raw["assumptions"], f"{path}: assumptions", base) if "assumptions" in raw else None,
        calibration=_path(raw["calibration"], f"{path}: calibration", base) if "calibration" in raw else None,
        sets=dict(sets),
    )


def env_layer(environ: dict | None = None) -> Layer | None:
    """The INFERCHIP_* variables as one layer (None when none is set)."""
    from inferchip.assumptions import parse_set_options
    from inferchip.errors import UsageError

    env = os.environ if environ is None else environ

    def one(name: str) -> Path | None:
        value = env.get(ENV_PREFIX + name, "").strip()
        return Path(value).expanduser() if value else None

    extend = tuple(Path(p).expanduser() for p in env.get(ENV_PREFIX + "EXTEND_CATALOG", "").split(os.pathsep)
                   if p.strip())
    try:
        sets = parse_set_options(env.get(ENV_PREFIX + "SET", "").split())
    except UsageError as exc:
        raise UsageError(f"INFERCHIP_SET: {exc.message.removeprefix('--set ')}") from None
    layer = Layer(origin="INFERCHIP_SET", catalog=one("CATALOG"), extend_catalog=extend,
                  assumptions=one("ASSUMPTIONS"), calibration=one("CALIBRATION"), sets=sets)
    return layer if layer != Layer(origin="INFERCHIP_SET") else None


def shared_layers(environ: dict | None = None, start: Path | None = None) -> list[Layer]:
    """The config file's layer, then the environment's (later wins)."""
    layers = []
    path = find_config(start, environ)
    if path is not None:
        layers.append(read_config(path))
    env = env_layer(environ)
    if env is not None:
        layers.append(env)
    return layers
