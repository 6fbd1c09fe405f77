"""Find, read and validate a hardware catalog (CSV) into a typed DataFrame.

Validation collects every problem with its CSV line number before raising."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pandas as pd

from inferchip.data_files import data_path
from inferchip.errors import InputError, NotFoundError, did_you_mean

REQUIRED_COLUMNS = (
    "name", "vendor", "kind", "memory_gb", "memory_bw_tbps", "tdp_w", "devices_per_server",
    "server_power_kw", "server_rack_units", "source", "as_of",
)
REQUIRED_TEXT = ("name", "vendor", "kind", "source", "as_of")
KINDS = ("gpu", "asic", "lpu", "wafer", "npu", "cpu")
NUMERIC_COLUMNS = (
    "release_year", "memory_gb", "memory_bw_tbps", "sram_mb",
    "fp16_tflops", "bf16_tflops", "fp8_tflops", "fp4_tflops", "int8_tops", "int4_tops",
    "tdp_w", "devices_per_server", "server_power_kw", "server_rack_units",
    "accelerator_price_usd", "server_price_usd", "cloud_usd_per_hour",
    "compute_efficiency", "memory_efficiency", "step_overhead_ms", "comm_overhead_ms_per_layer",
)
# Must be > 0 when given; the rest may be 0.
POSITIVE_COLUMNS = ("devices_per_server", "server_power_kw", "server_rack_units", "memory_bw_tbps",
                    "compute_efficiency", "memory_efficiency")
BOOL_COLUMNS = ("price_is_estimate", "rent_only")
TEXT_COLUMNS = (
    "name", "vendor", "kind", "family", "form_factor", "cooling", "server_power_basis",
    "price_source", "price_as_of", "cloud_source", "cloud_as_of", "source", "as_of", "notes",
)
_TRUE = {"true", "yes", "1", "y"}
_FALSE = {"false", "no", "0", "n", ""}
MAX_MAGNITUDE = 1e12


def bundled_catalog_path() -> Path:
    return data_path("catalog.csv")


def _read_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise NotFoundError(f"{path}: catalog file not found") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected a CSV catalog") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    if b"\x00" in raw[:4096]:
        raise InputError(f"{path}: binary data, not a CSV text file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text; export the catalog as UTF-8 CSV") from None
    if not text.strip():
        raise InputError(f"{path}: empty file; a catalog needs a header row and at least one accelerator")
    reader = csv.reader(text.splitlines())
    try:
        header = [h.strip() for h in next(reader)]
        rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise InputError(f"{path}: line {reader.line_num}: malformed CSV ({exc})") from None
    if len(header) == 1 and ";" in header[0]:
        raise InputError(f"{path}: line 1: the file is semicolon-separated; inferchip reads comma-separated CSV")
    return header, rows


def read_catalog(path: Path | None = None) -> pd.DataFrame:
    """Read and validate a catalog. Raises InputError listing every problem."""
    path = Path(path) if path is not None else bundled_catalog_path()
    header, rows = _read_rows(path)
    problems: list[str] = []
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        problems.append(f"{path}: line 1: missing required column(s): {', '.join(missing)}")
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        problems.append(f"{path}: line 1: duplicate column(s): {', '.join(dupes)}")
    if problems:
        raise InputError("\n".join(problems))
    if not rows:
        raise InputError(f"{path}: no accelerator rows below the header")
    width = len(header)
    for line, row in rows:
        if len(row) != width:
            problems.append(f"{path}: line {line}: {len(row)} fields, header has {width}")
    if problems:
        raise InputError("\n".join(problems[:20]) + _more(problems, 20))
    lines = [line for line, _ in rows]
    frame = pd.DataFrame([r for _, r in rows], columns=header, dtype=object)
    frame = frame.apply(lambda s: s.str.strip())
    out = {}
    for column in header:
        values = frame[column]
        if column in NUMERIC_COLUMNS:
            out[column] = _numeric(values, column, lines, path, problems)
        elif column in BOOL_COLUMNS:
            out[column] = _boolean(values, column, lines, path, problems)
        else:
            out[column] = values.astype(str)
    for column in NUMERIC_COLUMNS:
        out.setdefault(column, pd.Series(np.nan, index=frame.index))
    for column in BOOL_COLUMNS:
        out.setdefault(column, pd.Series(False, index=frame.index))
    for column in TEXT_COLUMNS:
        out.setdefault(column, pd.Series("", index=frame.index))
    df = pd.DataFrame(out)
    for column in REQUIRED_TEXT:
        for i in np.flatnonzero((df[column] == "").to_numpy()):
            problems.append(f"{path}: line {lines[i]}: column '{column}' is empty")
    bad_kind = ~df["kind"].str.lower().isin(KINDS)
    for i in np.flatnonzero(bad_kind.to_numpy()):
        problems.append(f"{path}: line {lines[i]}: kind {df['kind'].iat[i]!r} is not one of {', '.join(KINDS)}")
    lowered = df["name"].str.lower()
    for i in np.flatnonzero(lowered.duplicated().to_numpy()):
        first = lines[int(np.flatnonzero((lowered == lowered.iat[i]).to_numpy())[0])]
        problems.append(f"{path}: line {lines[i]}: duplicate accelerator name {df['name'].iat[i]!r} (first on line {first})")
    if problems:
        raise InputError("\n".join(problems[:20]) + _more(problems, 20))
    df["kind"] = df["kind"].str.lower()
    df["cooling"] = df["cooling"].str.lower().where(df["cooling"] != "", "air")
    df["family"] = df["family"].where(df["family"] != "", df["kind"])
    df["catalog_line"] = lines
    df["catalog_file"] = str(path)
    return df.reset_index(drop=True)


def _more(problems: list[str], shown: int) -> str:
    return f"\n... and {len(problems) - shown} more problem(s)" if len(problems) > shown else ""


def _numeric(values: pd.Series, column: str, lines: list[int], path: Path, problems: list[str]) -> pd.Series:
    numbers = pd.to_numeric(values.where(values != ""), errors="coerce").astype(float)
    bad_text = numbers.isna() & (values != "")
    for i in np.flatnonzero(bad_text.to_numpy()):
        hint = " (write plain numbers: no units or thousands separators)" if any(ch.isdigit() for ch in values.iat[i]) else ""
        problems.append(f"{path}: line {lines[i]}: column '{column}': {values.iat[i]!r} is not a number{hint}")
    arr = numbers.to_numpy()
    with np.errstate(invalid="ignore"):
        bad_inf = ~np.isfinite(arr) & ~np.isnan(arr) | (np.abs(arr) > MAX_MAGNITUDE)
        negative = arr < 0
        zero = (arr == 0) & (column in POSITIVE_COLUMNS)
    for i in np.flatnonzero(bad_inf):
        problems.append(f"{path}: line {lines[i]}: column '{column}': {values.iat[i]!r} is not a finite, plausible number")
    for i in np.flatnonzero(negative & ~bad_inf):
        problems.append(f"{path}: line {lines[i]}: column '{column}': {values.iat[i]} must not be negative")
    for i in np.flatnonzero(zero):
        problems.append(f"{path}: line {lines[i]}: column '{column}': must be > 0 (leave it empty if unknown)")
    nan_literal = values.str.lower().isin(["nan", "inf", "-inf", "infinity"])
    for i in np.flatnonzero(nan_literal.to_numpy() & ~bad_inf):
        problems.append(f"{path}: line {lines[i]}: column '{column}': {values.iat[i]!r} is not a number (leave it empty if unknown)")
    return numbers


def _boolean(values: pd.Series, column: str, lines: list[int], path: Path, problems: list[str]) -> pd.Series:
    lowered = values.str.lower()
    bad = ~lowered.isin(_TRUE | _FALSE)
    for i in np.flatnonzero(bad.to_numpy()):
        problems.append(f"{path}: line {lines[i]}: column '{column}': {values.iat[i]!r} is not true/false")
    return lowered.isin(_TRUE)


def load_catalog(replace: Path | None = None, extend: list[Path] | None = None) -> pd.DataFrame:
    """The catalog to use: the bundled one (or `replace`), with rows from each
    `extend` file added; an extending row whose name matches replaces that row."""
    df = read_catalog(replace)
    for path in extend or []:
        extra = read_catalog(path)
        keep = ~df["name"].str.lower().isin(set(extra["name"].str.lower()))
        df = pd.concat([df[keep], extra], ignore_index=True)
    return df


def find_chip(df: pd.DataFrame, name: str) -> pd.Series:
    """The catalog row whose name matches case-insensitively; NotFoundError with did-you-mean."""
    hits = df[df["name"].str.lower() == name.strip().lower()]
    if hits.empty:
        names = df["name"].tolist()
        contains = [n for n in names if name.strip().lower() in n.lower()]
        hint = f" Did you mean '{contains[0]}'?" if len(contains) == 1 else did_you_mean(name, names)
        raise NotFoundError(f"unknown accelerator '{name}'.{hint} See `inferchip catalog list`.")
    return hits.iloc[0]


def is_finite(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
