"""Find, read and validate a hardware catalog (CSV) into a typed DataFrame.

Validation collects every problem with its CSV line number before raising;
each message names the file, the line, the column and the fix."""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from inferchip.data_files import data_path
from inferchip.errors import InputError, NotFoundError, did_you_mean, short_repr, shown
from inferchip.runcache import persistent
from inferchip.safeio import read_input

REQUIRED_COLUMNS = (
    "name", "vendor", "kind", "memory_gb", "memory_bw_tbps", "tdp_w", "devices_per_server",
    "server_power_kw", "server_rack_units", "source", "as_of",
)
REQUIRED_TEXT = ("name", "vendor", "kind", "source", "as_of")
KINDS = ("gpu", "asic", "lpu", "wafer", "npu", "cpu")
COOLING = ("air", "liquid")
LAYOUTS = ("", "tensor", "pipeline")  # how a replica spreads over its chips (inferchip.dataflow)
NUMERIC_COLUMNS = (
    "release_year", "memory_gb", "memory_bw_tbps", "sram_mb",
    "fp16_tflops", "bf16_tflops", "fp8_tflops", "fp4_tflops", "sparse_fp8_tflops", "int8_tops", "int4_tops",
    "tdp_w", "devices_per_server", "server_power_kw", "server_rack_units",
    "accelerator_price_usd", "server_price_usd", "cloud_usd_per_hour",
    "compute_efficiency", "memory_efficiency", "step_overhead_ms", "comm_overhead_ms_per_layer",
    "pipeline_overhead_ms", "layer_latency_us", "server_hop_us",
)
# Must be > 0 when given (0 would be a plausible wrong number: free hardware,
# a chip drawing no power); the rest may be 0.
POSITIVE_COLUMNS = ("devices_per_server", "server_power_kw", "server_rack_units", "memory_bw_tbps",
                    "compute_efficiency", "memory_efficiency", "tdp_w",
                    "accelerator_price_usd", "server_price_usd", "cloud_usd_per_hour")
WHOLE_COLUMNS = ("devices_per_server", "release_year")
FRACTION_COLUMNS = ("compute_efficiency", "memory_efficiency")  # share of peak: at most 1
BOOL_COLUMNS = ("price_is_estimate", "rent_only")
# What an empty cell means, by column type. In a patch file (--extend-catalog with
# fewer columns) every empty cell leaves the catalog's value unchanged. In a full
# catalog: required text -> error; these numbers -> error, because an empty cell
# would change the chip rather than leave a fact unknown (an empty memory_gb would
# make a GPU hold its weights in SRAM); other numbers -> unknown (NaN: the result
# says what could not be computed); booleans -> false; optional text -> "".
BLANK_IS_ERROR = {"memory_gb": "write the off-chip memory in GB (0 when the weights live only on die)"}
TEXT_COLUMNS = (
    "name", "vendor", "kind", "family", "form_factor", "cooling", "server_power_basis",
    "price_source", "price_as_of", "cloud_source", "cloud_as_of", "source", "as_of", "notes", "layout",
    "factor_source",
)
KNOWN_COLUMNS = tuple(dict.fromkeys(REQUIRED_COLUMNS + NUMERIC_COLUMNS + BOOL_COLUMNS + TEXT_COLUMNS))
_TRUE = {"true", "yes", "1", "y"}
_FALSE = {"false", "no", "0", "n", ""}
_NOT_NUMBERS = {"nan", "-nan", "+nan", "inf", "-inf", "+inf", "infinity", "-infinity", "+infinity"}
# Plausible magnitudes of a catalog number in the units of its column: outside
# them a unit slip (W for kW, GB for TB) is likelier than a real chip, and the
# cost arithmetic could overflow to inf.
MAX_MAGNITUDE = 1e12
MIN_MAGNITUDE = 1e-6
SHOWN_PROBLEMS = 20
_NEAR_MISS_CUTOFF = 0.85  # an unknown column this close to a known one is a typo


def bundled_catalog_path() -> Path:
    return data_path("catalog.csv")


def _decode(path: Path, raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{path}: UTF-16 text (Excel 'Unicode Text'); save the catalog as 'CSV UTF-8 (comma delimited)'")
    if b"\x00" in raw[:4096]:
        raise InputError(f"{path}: binary data, not a CSV text file; export the catalog as UTF-8 CSV")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(f"{path}: line {line}: not UTF-8 text (byte 0x{raw[exc.start]:02x});"
                         " export the catalog as UTF-8 CSV (Excel: 'CSV UTF-8')") from None


def _read_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and non-blank rows, each with the line it starts on."""
    raw = read_input(path, "catalog", "give the path of a CSV catalog file")
    text = _decode(path, raw)
    if not text.strip():
        raise InputError(f"{path}: empty file; a catalog needs a header row and at least one accelerator"
                         " (see data/README.md for the columns)")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[list[str]] = []
    ends: list[int] = []  # the line each record ends on (quoted values may span lines)
    try:
        for record in reader:
            records.append(record)
            ends.append(reader.line_num)
    except csv.Error as exc:
        line = (ends[-1] if ends else 0) + 1
        if "end of data" in str(exc):
            fix = "a quote opened on this line is never closed; close it or remove it"
        elif "field limit" in str(exc):
            fix = (f"a value longer than {csv.field_size_limit():,} characters; a catalog cell holds a number"
                   " or a short text")
        else:
            fix = f"malformed CSV ({exc}); double a quote inside a value (\"\") or quote the whole value"
        raise InputError(f"{path}: line {line}: {fix}") from None
    starts = [1] + [end + 1 for end in ends[:-1]]
    header = [h.strip() for h in records[0]]
    rows = [(line, row) for line, row in zip(starts[1:], records[1:], strict=True) if "".join(row).strip()]
    for sep, name in ((";", "semicolon"), ("\t", "tab")):
        if len(header) == 1 and sep in header[0]:
            raise InputError(f"{path}: line 1: the file is {name}-separated; inferchip reads comma-separated CSV:"
                             " re-export with commas between fields and dots for decimals")
    return header, rows


def _header_problems(path: Path, header: list[str], patch: bool = False) -> list[str]:
    import difflib

    problems = []
    strays = [h for h in header if h and h not in KNOWN_COLUMNS]
    for column in ("name",) if patch else REQUIRED_COLUMNS:
        if column not in header:
            lowered = {h.lower().replace(" ", "_"): h for h in strays}
            close = difflib.get_close_matches(column, list(lowered), n=1, cutoff=0.6)
            fix = (f"found '{shown(lowered[close[0]])}': rename it to '{column}'" if close
                   else "add the column (see data/README.md)")
            problems.append(f"{path}: line 1: missing required column '{column}'; {fix}")
    for column in strays:
        close = difflib.get_close_matches(column.lower(), KNOWN_COLUMNS, n=1, cutoff=_NEAR_MISS_CUTOFF)
        if close and close[0] not in header and close[0] not in REQUIRED_COLUMNS:
            problems.append(f"{path}: line 1: column '{shown(column)}' is not a catalog column. Did you mean"
                            f" '{close[0]}'? Rename it (other extra columns are kept as they are)")
    dupes = sorted({h for h in header if h and header.count(h) > 1})
    for column in dupes:
        problems.append(f"{path}: line 1: column '{shown(column)}' appears {header.count(column)} times; keep one")
    return problems


def read_catalog(path: Path | None = None, patch: bool = False) -> pd.DataFrame:
    """Read and validate a catalog. Raises InputError listing every problem.
    With `patch`, only `name` is required: the file corrects columns of existing rows."""
    path = Path(path) if path is not None else bundled_catalog_path()
    header, rows = _read_rows(path)
    return _from_rows(path, header, rows, patch)


def _from_rows(path: Path, header: list[str], rows: list[tuple[int, list[str]]], patch: bool) -> pd.DataFrame:
    """The validated frame of rows already read (see read_catalog)."""
    problems = _header_problems(path, header, patch)
    if problems:
        raise InputError("\n".join(problems))
    if not rows:
        raise InputError(f"{path}: no accelerator rows below the header; add one row per accelerator")
    width = len(header)
    lines = [line for line, _ in rows]
    cells = []
    for line, row in rows:
        # No leniency for extra empty cells: an unquoted "1,979" shifts every later
        # value one column right, and only the field count shows it.
        if len(row) > width:
            problems.append(f"{path}: line {line}: {len(row)} fields, header has {width}: a comma inside a value?"
                            " Quote the value or drop the thousands separator (1979, not 1,979)")
        elif len(row) < width:
            problems.append(f"{path}: line {line}: {len(row)} fields, header has {width}:"
                            " add the missing commas so every row has one field per column")
        cells.append(row)
    if problems:
        raise InputError(_joined(problems))
    columns = [[cell.strip() for cell in column] for column in zip(*cells, strict=True)]
    for i, name in enumerate(header):
        if not name and any(columns[i]):
            problems.append(f"{path}: line 1: column {i + 1} has values but no name; give it a header")
    if problems:
        raise InputError(_joined(problems))
    # columns as numpy arrays until the one frame at the end: a catalog has tens of rows,
    # where each pandas call would cost more than the parsing itself
    named = [(name, np.array(column, dtype=object)) for name, column in zip(header, columns, strict=True) if name]
    found: list[tuple[int, int, str]] = []  # (line, column position, message) sorted before raising
    out: dict[str, np.ndarray] = {}
    for position, (column, values) in enumerate(named):
        if column in NUMERIC_COLUMNS:
            out[column] = _numeric(values, column, position, lines, path, found, patch)
        elif column in BOOL_COLUMNS:
            out[column] = _boolean(values, column, position, lines, path, found, patch)
        else:
            out[column] = values
    count = len(lines)
    for column in NUMERIC_COLUMNS:
        out.setdefault(column, np.full(count, np.nan))
    for column in BOOL_COLUMNS:
        out.setdefault(column, np.zeros(count, dtype=bool))
    for column in TEXT_COLUMNS:
        out.setdefault(column, np.full(count, "", dtype=object))
    df = pd.DataFrame(out)
    _text_problems(df, lines, path, found, [name for name, _ in named], patch)
    if not patch:
        _server_problems(df, lines, path, found, [name for name, _ in named])
    if found:
        raise InputError(_joined([message for _, _, message in sorted(found)]))
    df["kind"] = df["kind"].str.lower()
    df["cooling"] = df["cooling"].str.lower().where(df["cooling"] != "", "air")
    df["family"] = df["family"].where(df["family"] != "", df["kind"])
    df["catalog_line"] = lines
    df["catalog_file"] = str(path)
    return df.reset_index(drop=True)


def _server_problems(df: pd.DataFrame, lines: list[int], path: Path, found: list[tuple[int, int, str]],
                     header: list[str]) -> None:
    """A whole-server figure (server_price_usd, server_power_kw) needs the server's size: with
    devices_per_server empty it would be read as the figure of a one-accelerator server."""
    at = len(header) if "devices_per_server" not in header else header.index("devices_per_server")
    blank = ~np.isfinite(df["devices_per_server"].to_numpy(dtype=float))
    for column in ("server_price_usd", "server_power_kw"):
        for i in np.flatnonzero(blank & np.isfinite(df[column].to_numpy(dtype=float))):
            found.append((lines[i], at, f"{path}: line {lines[i]}: column 'devices_per_server' is empty but"
                          f" {column} gives a whole server's figure; fill in how many accelerators that server holds"))


def _joined(problems: list[str]) -> str:
    more = len(problems) - SHOWN_PROBLEMS
    tail = f"\n... and {more} more problem(s)" if more > 0 else ""
    return "\n".join(problems[:SHOWN_PROBLEMS]) + tail


def _text_problems(df: pd.DataFrame, lines: list[int], path: Path, found: list[tuple[int, int, str]],
                   header: list[str], patch: bool = False) -> None:
    """Required text present, kind and cooling known, names single-line and unique (case-insensitive)."""
    at = {column: position for position, column in enumerate(header)}
    at.update({column: len(header) for column in REQUIRED_TEXT + ("cooling",) if column not in at})
    for column in [c for c in REQUIRED_TEXT if c in header or not patch]:
        for i in np.flatnonzero((df[column] == "").to_numpy()):
            found.append((lines[i], at[column], f"{path}: line {lines[i]}: column '{column}' is empty; fill it in"))
    multiline = df["name"].str.contains(r"[\r\n\t]", regex=True)
    for i in np.flatnonzero(multiline.to_numpy()):
        found.append((lines[i], at["name"], f"{path}: line {lines[i]}: column 'name' holds a line break or tab;"
                      " write the name on one line"))
    bad_kind = ~df["kind"].str.lower().isin(KINDS) & (df["kind"] != "")
    for i in np.flatnonzero(bad_kind.to_numpy()):
        found.append((lines[i], at["kind"], f"{path}: line {lines[i]}: column 'kind': {short_repr(df['kind'].iat[i])} is not one of"
                      f" {', '.join(KINDS)}.{did_you_mean(df['kind'].iat[i], KINDS)}"))
    bad_layout = ~df["layout"].str.lower().isin(LAYOUTS)
    for i in np.flatnonzero(bad_layout.to_numpy()):
        found.append((lines[i], at.get("layout", len(header)), f"{path}: line {lines[i]}: column 'layout':"
                      f" {short_repr(df['layout'].iat[i])} is not tensor or pipeline (leave it empty for tensor)"))
    bad_cooling = ~df["cooling"].str.lower().isin(COOLING) & (df["cooling"] != "")
    for i in np.flatnonzero(bad_cooling.to_numpy()):
        found.append((lines[i], at["cooling"], f"{path}: line {lines[i]}: column 'cooling': {short_repr(df['cooling'].iat[i])} is not"
                      " air or liquid (leave it empty for air)"))
    lowered = df["name"].str.lower()
    repeat = lowered.duplicated().to_numpy()
    duplicated = repeat & (lowered != "").to_numpy()
    if duplicated.any():
        first_line = dict(zip(lowered[~repeat], np.asarray(lines)[~repeat], strict=True))
        for i in np.flatnonzero(duplicated):
            found.append((lines[i], at["name"], f"{path}: line {lines[i]}: duplicate accelerator name {short_repr(df['name'].iat[i])}"
                          f" (first on line {first_line[lowered.iat[i]]}); names are case-insensitive:"
                          " rename or delete one row"))


def _numeric(values: np.ndarray, column: str, position: int, lines: list[int], path: Path,
             found: list[tuple[int, int, str]], patch: bool = False) -> np.ndarray:
    """Column as floats (empty = NaN, or a problem for BLANK_IS_ERROR columns of a full
    catalog); text, NaN/inf literals and implausible values are problems."""
    given = values != ""
    if column in BLANK_IS_ERROR and not patch:
        for i in np.flatnonzero(~given):
            found.append((lines[i], position, f"{path}: line {lines[i]}: column '{column}' is empty;"
                          f" {BLANK_IS_ERROR[column]}"))
    arr = np.array(pd.to_numeric(np.where(given, values, None), errors="coerce"), dtype=float)
    suspect = np.flatnonzero(given & ~np.isfinite(arr))  # text, NaN/inf literals, overflow (1e999)
    literal = np.zeros(len(arr), dtype=bool)
    literal[suspect] = [values[i].lower() in _NOT_NUMBERS for i in suspect]
    arr[literal] = np.nan
    text = given & ~literal & np.isnan(arr)
    where = f"{path}: line {{line}}: column '{column}': "

    def report(mask: np.ndarray, make) -> None:
        for i in np.flatnonzero(mask):
            found.append((lines[i], position, where.format(line=lines[i]) + make(values[i])))

    with np.errstate(invalid="ignore"):
        magnitude = np.abs(arr)
        too_big = magnitude > MAX_MAGNITUDE
        too_small = (magnitude > 0) & (magnitude < MIN_MAGNITUDE)
        negative = (arr < 0) & ~too_big
        zero = (arr == 0) & (column in POSITIVE_COLUMNS)
        fraction = (arr > 1) & (column in FRACTION_COLUMNS) & ~too_big
        whole = (column in WHOLE_COLUMNS) & np.isfinite(arr) & (arr != np.floor(arr)) & ~too_big
    report(text, lambda v: f"{short_repr(v)} is not a number; write plain numbers with a dot for decimals and"
           " no units or thousands separators (700, not 700W or 1,979)" if any(ch.isdigit() for ch in v)
           else f"{short_repr(v)} is not a number; leave the cell empty if unknown")
    report(literal, lambda v: f"{short_repr(v)} is not a number; leave the cell empty if unknown")
    report(too_big, lambda v: f"{shown(v)} is implausibly large (above 1e12); check the unit in the column name")
    zero_fix = "leave the cell empty if unknown" if column in POSITIVE_COLUMNS else "write 0"
    report(too_small, lambda v: f"{shown(v)} is implausibly small (below 1e-6); check the unit in the"
           f" column name, or {zero_fix}")
    report(negative, lambda v: f"{shown(v)} must not be negative; leave the cell empty if unknown")
    report(zero, lambda v: f"must be > 0 (got {shown(v)}); leave the cell empty if unknown")
    report(fraction, lambda v: f"{shown(v)} must be at most 1 (a fraction of the peak)")
    report(whole & ~negative, lambda v: f"{shown(v)} must be a whole number")
    return arr


def _boolean(values: np.ndarray, column: str, position: int, lines: list[int], path: Path,
             found: list[tuple[int, int, str]], patch: bool = False) -> np.ndarray | pd.Series:
    """Column as booleans: empty = false in a catalog, None (leave unchanged) in a patch file."""
    lowered = [value.lower() for value in values]
    empty_means = "empty = leave unchanged" if patch else "empty = false"
    for i, value in enumerate(lowered):
        if value not in _TRUE and value not in _FALSE:
            found.append((lines[i], position, f"{path}: line {lines[i]}: column '{column}': {short_repr(values[i])}"
                          f" is not true/false; write true or false ({empty_means})"))
    flags = np.array([value in _TRUE for value in lowered], dtype=bool)
    if not patch:
        return flags
    return pd.Series([bool(flag) if value != "" else None for flag, value in zip(flags, lowered, strict=True)],
                     dtype=object)


def load_catalog(replace: Path | None = None, extend: list[Path] | None = None,
                 cloud_provider: str = "default") -> pd.DataFrame:
    """The catalog to use: the bundled one (or `replace`), then each `extend` file in
    turn, then the cloud price of each row under the `cloud_provider` policy
    (inferchip.cloud) and the flags of its estimated values (inferchip.estimates).
    A file with every required column adds its rows (a row whose name matches
    one already there replaces it). A file with fewer columns patches: each row names
    an accelerator already in the catalog and its non-empty cells replace that row's
    values (e.g. `name,server_price_usd,price_source,price_as_of` for your quotes)."""
    if replace is None and not extend:
        return _bundled_catalog(cloud_provider)
    df = read_catalog(replace)
    for path in extend or []:
        header, rows = _read_rows(Path(path))  # read once: the file may be a one-shot stream
        if all(column in header for column in REQUIRED_COLUMNS):
            extra = _from_rows(Path(path), header, rows, patch=False)
            keep = ~df["name"].str.lower().isin(set(extra["name"].str.lower()))
            df = pd.concat([df[keep], extra], ignore_index=True)
        else:
            df = _apply_patch(df, _from_rows(Path(path), header, rows, patch=True), [h for h in header if h and h != "name"])
    return _priced(df, cloud_provider)


def _priced(df: pd.DataFrame, cloud_provider: str) -> pd.DataFrame:
    """The catalog with each row's cloud price (inferchip.cloud) and the flags of its
    estimated values (inferchip.estimates)."""
    from inferchip.cloud import attach_cloud
    from inferchip.estimates import attach_estimates

    return attach_estimates(attach_cloud(df, cloud_provider))


@persistent({"catalog.csv": "catalog", "cloud_prices.csv": "cloud price", "catalog_ranges.csv": "catalog range"},
            copy=True)
def _bundled_catalog(cloud_provider: str) -> pd.DataFrame:
    """load_catalog of the bundled files alone (kept between runs: inferchip.runcache)."""
    return _priced(read_catalog(), cloud_provider)


def _apply_patch(df: pd.DataFrame, patch: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Replace `columns` of the rows `patch` names with its non-empty cells."""
    index = pd.Series(df.index, index=df["name"].str.lower())
    wanted = patch["name"].str.lower()
    unknown = ~wanted.isin(index.index)
    if unknown.any():
        path = patch["catalog_file"].iat[0]
        raise InputError("\n".join(
            f"{path}: line {line}: '{shown(name)}' is not in the catalog; a file that adds accelerators needs every"
            f" required column ({', '.join(REQUIRED_COLUMNS)}).{did_you_mean(name, df['name'].tolist())}"
            for name, line in zip(patch.loc[unknown, "name"], patch.loc[unknown, "catalog_line"], strict=True)))
    rows = index[wanted].to_numpy()
    out = df.copy()
    for column in columns:
        values = patch[column]
        given = (values.notna() & (values.astype(str) != "")).to_numpy()
        if column not in out:
            out[column] = pd.Series([np.nan if values.dtype.kind == "f" else ""] * len(out), dtype=values.dtype)
        out.loc[rows[given], column] = values.to_numpy()[given]
    return out


def find_chip(df: pd.DataFrame, name: str) -> pd.Series:
    """The catalog row named `name` (case-insensitive), else the only one whose name
    contains it ("h100 sxm"), or contains it as whole words ("l4": NVIDIA L4, not
    L40S); otherwise NotFoundError naming the candidates, or with did-you-mean."""
    lowered = df["name"].str.lower()
    wanted = name.strip().lower()
    exact = df[lowered == wanted]
    if not exact.empty:
        return exact.iloc[0]
    contains = df[lowered.str.contains(wanted, regex=False)] if wanted else df.iloc[0:0]
    if len(contains) > 1:
        words = contains[contains["name"].str.lower().str.contains(rf"\b{re.escape(wanted)}\b", regex=True)]
        contains = words if len(words) == 1 else contains
    if len(contains) == 1:
        return contains.iloc[0]
    if len(contains) > 1:
        raise NotFoundError(f"accelerator '{name}' is ambiguous: it matches {', '.join(contains['name'])}; "
                            "give more of the name. See `inferchip catalog list`.")
    raise NotFoundError(f"unknown accelerator '{name}'.{did_you_mean(name, df['name'].tolist())}"
                        " See `inferchip catalog list`.")


def is_finite(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
