"""Views for the decision-analysis commands (sweep, sensitivity, breakeven,
uncertainty): fast streaming CSV / TSV / JSON / Markdown rows, an atomic
streaming file writer, a lazily shown progress bar, and terminal charts
(line chart, tornado, quantile bands)."""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from inferchip.document import SIGNIFICANT_DIGITS  # the JSON document's rounding
from inferchip.report import FORMULA_PREFIXES, atomic_file
from inferchip.report.console import say
from inferchip.report.fmt import fmt_number
from inferchip.report.safetext import markdown_cell, safe_text

TABLE_ROW_LIMIT = 100  # rows a terminal table shows before pointing at --output


# ---------------------------------------------------------------- progress


class LazyProgress:
    """A rich progress bar on stderr that appears only once the work has taken
    longer than `delay_s` and only when stderr is a terminal; silent otherwise."""

    def __init__(self, description: str, delay_s: float = 1.0, stream=None) -> None:
        self.description = description
        self.delay_s = delay_s
        self.stream = stream if stream is not None else sys.stderr
        self.started = time.perf_counter()
        self._progress = None
        self._task = None

    def __call__(self, done: int, total: int) -> None:
        if self._progress is None:
            if time.perf_counter() - self.started < self.delay_s or not _is_terminal(self.stream):
                return
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            from inferchip.report.console import make_console

            self._progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                      TimeRemainingColumn(), console=make_console(self.stream), transient=True)
            self._progress.start()
            self._task = self._progress.add_task(self.description, total=total)
        self._progress.update(self._task, completed=done, total=total)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def __enter__(self) -> LazyProgress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


# ---------------------------------------------------------------- fast rows


def _escape_percent(text: str) -> str:
    return text.replace("%", "%%")


def csv_text_cell(text: str, delimiter: str) -> str:
    """One text cell: formula prefixes neutralised (leading apostrophe), CSV quoting
    when the cell holds the delimiter, a quote or a line break; TSV flattens instead.
    Control and bidi characters are neutralised first (report.safetext)."""
    text = safe_text(text, line_breaks=True)
    if text.startswith(FORMULA_PREFIXES):
        text = "'" + text
    if delimiter == "\t":
        return text.replace("\t", " ").replace("\n", " ").replace("\r", " ")
    if any(ch in text for ch in (delimiter, '"', "\n", "\r")):
        return '"' + text.replace('"', '""') + '"'
    return text


def markdown_text_cell(text: str) -> str:
    return markdown_cell(text)


class RowFormat:
    """Formats a column frame into text rows at C speed per row: numbers with 10
    significant digits (`%.10g`, or `%d` for whole-number columns), missing numbers
    as `null_token`, text through `text_cell`. Rows are grouped by which numeric cells
    are missing, so each group uses one printf template and no per-cell branching."""

    def __init__(self, columns: Sequence[str], kinds: dict[str, str], *, style: str) -> None:
        self.columns = list(columns)
        self.kinds = kinds  # column -> "int" | "float" | "text" | "flag"
        self.style = style  # "csv" | "tsv" | "json" | "markdown"
        self.delimiter = {"csv": ",", "tsv": "\t", "json": ",", "markdown": " | "}[style]
        self.null = {"csv": "", "tsv": "", "json": "null", "markdown": "-"}[style]
        self.prefix = {"json": "{", "markdown": "| "}.get(style, "")
        self.suffix = {"json": "}", "markdown": " |"}.get(style, "")

    def header(self) -> str:
        if self.style == "json":
            return ""
        if self.style == "markdown":
            cells = [markdown_text_cell(c) for c in self.columns]
            aligns = ["---:" if self.kinds.get(c) in ("int", "float") else "---" for c in self.columns]
            return "| " + " | ".join(cells) + " |\n|" + "|".join(aligns) + "|\n"
        return self.delimiter.join(csv_text_cell(c, self.delimiter) for c in self.columns) + "\n"

    def _text(self, value: str) -> str:
        if self.style == "json":
            return json.dumps(value, ensure_ascii=False)
        if self.style == "markdown":
            return markdown_text_cell(value)
        return csv_text_cell(value, self.delimiter)

    def _number(self, value: float, kind: str) -> str:
        if value is None or not math.isfinite(value):
            return self.null
        return "%d" % value if kind == "int" else f"%.{SIGNIFICANT_DIGITS}g" % value

    def _text_codes(self, series):
        """A text column as (code per row, rendered cell per code): each distinct value
        rendered once; missing values (code -1) take the last cell, the null token."""
        import numpy as np
        import pandas as pd

        if isinstance(series.dtype, pd.CategoricalDtype):
            rendered = np.asarray([self._text(str(c)) for c in series.cat.categories] + [self.null], dtype=object)
            return series.cat.codes.to_numpy(), rendered
        codes, uniques = pd.factorize(series.to_numpy(dtype=object), use_na_sentinel=True)
        return codes, np.asarray([self._text(str(u)) for u in uniques] + [self.null], dtype=object)

    SAMPLE = 2048  # values looked at to tell a per-value column from one with few distinct values

    def _runs(self, values, kind: str):
        """A numeric column in runs of one value (a sweep's slow keys) as (run of each row,
        rendered cell per run), or None when it has too many runs for that to pay."""
        import numpy as np

        n = len(values)
        starts = np.flatnonzero(np.concatenate([[True], values[1:] != values[:-1]]))
        if len(starts) > max(64, n // 8):
            return None
        # NaN never equals itself: each NaN is a run of its own, rendered as null
        rendered = np.asarray([self._number(v, kind) for v in values[starts].tolist()], dtype=object)
        return np.repeat(np.arange(len(starts)), np.diff(np.append(starts, n))), rendered

    def _number_codes(self, values, kind: str):
        """A numeric column with few distinct values (counts, powers per chip) as (code per
        row, rendered cell per code; NaN -> the null token), or None when most values differ."""
        import numpy as np
        import pandas as pd

        n = len(values)
        if n > self.SAMPLE and len(pd.unique(values[: self.SAMPLE])) > self.SAMPLE // 2 and (values != 0).all():
            return None
        # (pandas counts 0.0 and -0.0 as one value: rendered as whichever comes first)
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        if len(uniques) > max(64, n // 8):
            return None
        return codes, np.asarray([self._number(u, kind) for u in uniques.tolist()] + [self.null], dtype=object)

    def _each(self, values, kind: str) -> list[str]:
        """A numeric column with many distinct values: each distinct finite value rendered
        once (a sweep repeats the costs of rented chips over its money keys), the rest
        the null token. Values keep their own bits here: 0.0 and -0.0 stay apart."""
        import numpy as np
        import pandas as pd

        from inferchip.report.numtext import general_10

        finite = np.isfinite(values)
        codes, uniques = pd.factorize(values[finite].view(np.int64))  # by bits: -0.0 is not 0.0
        uniques = uniques.view(np.float64)
        rendered = list(map("%d".__mod__, uniques.tolist())) if kind == "int" else general_10(uniques)
        out = np.full(len(values), self.null, dtype=object)
        out[finite] = np.asarray(rendered, dtype=object)[codes]
        return out.tolist()

    def _piece(self, frame, name: str):
        """One column: ("runs" | "codes", code per row, rendered cell per code), or its cells."""
        import numpy as np

        kind = self.kinds[name]
        if kind == "text":
            return ("codes", *self._text_codes(frame[name]))
        if kind == "flag":
            return "codes", frame[name].to_numpy(dtype=bool).astype(np.int64), np.array(["false", "true"], dtype=object)
        values = frame[name].to_numpy(dtype=float)
        zeros = np.signbit(values[values == 0])
        if not (zeros.any() and not zeros.all()):  # 0.0 and -0.0 together: rendered as distinct values are (below)
            runs = self._runs(values, kind)
            if runs is not None:
                return ("runs", *runs)
        few = self._number_codes(values, kind)
        return ("codes", *few) if few is not None else self._each(values, kind)

    def _merged(self, group: list, n: int) -> list[list[str]]:
        """Neighbouring coded columns as one column of joined cells when their combinations
        are few (each combination joined once), else each column's cells."""
        import numpy as np
        import pandas as pd

        if len(group) > 1:
            combined, size = np.zeros(n, dtype=np.int64), 1
            for _, codes, rendered in group:
                if size * len(rendered) >= 2**62:  # keep the combined code in int64
                    combined, size = pd.factorize(combined)[0], n
                combined = combined * len(rendered) + np.where(codes < 0, len(rendered) - 1, codes)
                size *= len(rendered)
            combined = pd.factorize(combined)[0]
            count = int(combined.max(initial=-1)) + 1
            if count <= max(64, n // 8):
                first = np.full(count, -1, dtype=np.int64)
                first[combined[::-1]] = np.arange(n - 1, -1, -1)  # the last write per combination: its first row
                parts = [rendered[codes[first]].tolist() for _, codes, rendered in group]
                joined = np.asarray(list(map(self.delimiter.join, zip(*parts, strict=True))), dtype=object)
                return [joined[combined].tolist()]
        return [rendered[codes].tolist() for _, codes, rendered in group]

    def rows(self, frame) -> str:
        """The frame's rows as text, each ending in a newline (JSON: objects joined by
        commas). Each column is rendered on its own (runs of one value, text and
        few-valued columns once per run or value, the rest value by value), then each
        row's cells are joined; outside JSON, neighbouring columns in runs (a sweep's grid
        point and varied keys) and neighbouring few-valued columns are joined once per
        combination first."""
        n = len(frame)
        if n == 0:
            return ""
        pieces = [self._piece(frame, name) for name in self.columns]
        if self.style == "json":
            cells = [p if isinstance(p, list) else p[2][p[1]].tolist() for p in pieces]
            template = "{" + ",".join(_escape_percent(json.dumps(name)) + ":%s" for name in self.columns) + "}"
            return ",\n".join([template % row for row in zip(*cells, strict=True)])
        cells: list[list[str]] = []
        group: list = []
        for piece in [*pieces, None]:  # group neighbours of one sort ("runs" or "codes")
            if group and (piece is None or isinstance(piece, list) or piece[0] != group[0][0]):
                cells += self._merged(group, n)
                group = []
            if isinstance(piece, list):
                cells.append(piece)
            elif piece is not None:
                group.append(piece)
        lines = map(self.delimiter.join, zip(*cells, strict=True))
        if self.prefix or self.suffix:
            lines = (self.prefix + line + self.suffix for line in lines)
        return "\n".join(lines) + "\n"


def column_kinds(frame, text_columns: Sequence[str] = (), flag_columns: Sequence[str] = (),
                 int_columns: Sequence[str] = ()) -> dict[str, str]:
    """Kind of each column of a result frame, for RowFormat."""
    import pandas as pd

    kinds = {}
    for name in frame.columns:
        dtype = frame[name].dtype
        if name in flag_columns or pd.api.types.is_bool_dtype(dtype):
            kinds[name] = "flag"
        elif name in text_columns or not pd.api.types.is_numeric_dtype(dtype) or isinstance(
                dtype, pd.CategoricalDtype):
            kinds[name] = "text"
        elif name in int_columns or pd.api.types.is_integer_dtype(dtype):
            kinds[name] = "int"
        else:
            kinds[name] = "float"
    return kinds


def stream_document(handle, fmt: str, head: dict | None, columns: Sequence[str], kinds: dict[str, str],
                    chunks: Iterator, workers=None) -> int:
    """Write chunks of rows to `handle` as CSV/TSV/Markdown (header then rows) or
    JSON (the `head` document with a `results` list of row objects). Returns rows written.
    With `workers` (report.row_workers.RowWorkers; `handle` then a UTF-8 text file)
    the rows are formatted in those processes, the same bytes in the same order."""
    formatter = RowFormat(columns, kinds, style=fmt)
    written = 0

    def frames():
        nonlocal written
        for chunk in chunks:
            written += len(chunk)
            yield chunk[list(columns)]

    # one process: each frame formatted as it comes, none held beyond its formatting
    bodies = map(formatter.rows, frames()) if workers is None else workers.rows(formatter, frames())
    if fmt == "json":
        text = json.dumps({**(head or {}), "results": []}, indent=2, ensure_ascii=False, allow_nan=False)
        opening, closing = text.rsplit('"results": []', 1)
        handle.write(opening + '"results": [\n')
        started = False
        for body in bodies:
            if body:
                if started:
                    handle.write(",\n")
                _write(handle, body)
                started = True
            del body  # not held while the next chunk is formatted (a wide chunk's text is ~80 MB)
        handle.write("\n  ]" + closing + "\n")
        return written
    handle.write(formatter.header())
    for body in bodies:
        _write(handle, body)
        del body  # as above
    return written


def _write(handle, body: str | bytes) -> None:
    """Text through the handle; a worker's UTF-8 bytes to its buffer, after what the handle holds."""
    if isinstance(body, str):
        handle.write(body)
    else:
        handle.flush()
        handle.buffer.write(body)


@contextmanager
def atomic_stream(path: Path | None):
    """A text handle: stdout when `path` is None, else an atomic file (report.atomic_file)."""
    if path is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    with atomic_file(Path(path), text=True) as handle:
        yield handle


# ---------------------------------------------------------------- tables


def render_rows_table(rows: list[dict], columns: Sequence[str], console, title: str = "",
                      units: dict[str, str] | None = None, total: int | None = None) -> None:
    """A rich table of result rows (at most TABLE_ROW_LIMIT), numbers right-aligned."""
    from rich.table import Table

    units = units or {}
    table = Table(title=title or None, title_justify="left", header_style="bold", pad_edge=False)
    shown = rows[:TABLE_ROW_LIMIT]
    for name in columns:
        numeric = any(isinstance(r.get(name), (int, float)) and not isinstance(r.get(name), bool) for r in shown)
        table.add_column(name.replace("_", " "), justify="right" if numeric else "left", overflow="fold")
    for row in shown:
        table.add_row(*[fmt_number(row.get(name), units.get(name, "")) for name in columns])
    console.print(table)
    count = total if total is not None else len(rows)
    if count > len(shown):
        say(console, f"[dim]showing {len(shown)} of {count:,} rows; "
                      "use --format csv --output FILE for all of them[/dim]")


# ---------------------------------------------------------------- charts

MARKERS = "ox+*#@%&=~"
STYLES = ("cyan", "magenta", "green", "yellow", "blue", "red", "bright_cyan", "bright_magenta",
          "bright_green", "bright_yellow")


def _axis_position(values: Sequence[float], log: bool) -> list[float]:
    finite = [v for v in values if v is not None and math.isfinite(v) and (v > 0 or not log)]
    if not finite:
        return [math.nan for _ in values]
    transform = (lambda v: math.log10(v)) if log else (lambda v: v)  # noqa: E731
    lo, hi = transform(min(finite)), transform(max(finite))
    span = hi - lo or 1.0
    return [math.nan if v is None or not math.isfinite(v) or (log and v <= 0) else (transform(v) - lo) / span
            for v in values]


def line_chart(console, title: str, x: Sequence[float], series: dict[str, Sequence[float | None]],
               x_label: str, y_label: str, width: int = 64, height: int = 16) -> None:
    """Markers for each series on a character grid; log axes when a range spans
    more than a factor of 20."""
    from rich.text import Text

    ys = [y for values in series.values() for y in values if y is not None and math.isfinite(y)]
    if not ys or not x:
        say(console, f"[dim]{title}: nothing to chart (no feasible accelerator on this slice)[/dim]")
        return
    x_log = min(x) > 0 and max(x) / min(x) > 20
    y_log = min(ys) > 0 and max(ys) / min(ys) > 20
    x_pos = _axis_position(list(x), x_log)
    y_all = _axis_position(ys, y_log)
    y_min, y_max = min(ys), max(ys)
    grid = [[(" ", "") for _ in range(width)] for _ in range(height)]
    offset = 0
    for s, values in enumerate(series.values()):
        finite = [v for v in values if v is not None and math.isfinite(v)]
        positions = y_all[offset:offset + len(finite)]
        offset += len(finite)
        it = iter(positions)
        for xp, value in zip(x_pos, values, strict=True):
            if value is None or not math.isfinite(value):
                continue
            yp = next(it)
            if math.isnan(xp) or math.isnan(yp):
                continue
            col = min(width - 1, int(round(xp * (width - 1))))
            row = height - 1 - min(height - 1, int(round(yp * (height - 1))))
            grid[row][col] = (MARKERS[s % len(MARKERS)], STYLES[s % len(STYLES)])
    label_hi, label_lo = fmt_number(y_max, "USD"), fmt_number(y_min, "USD")
    pad = max(len(label_hi), len(label_lo))
    console.print(Text(title, style="bold"))
    for r, line in enumerate(grid):
        label = label_hi if r == 0 else label_lo if r == height - 1 else ""
        text = Text(label.rjust(pad) + " |")
        for char, style in line:
            text.append(char, style=style or None)
        console.print(text)
    console.print(" " * pad + " +" + "-" * width)
    left, right = fmt_number(min(x)), fmt_number(max(x))
    console.print(" " * (pad + 2) + left + right.rjust(width - len(left)))
    scale = ", log scale" if x_log else ""
    console.print(" " * (pad + 2) + f"{x_label}{scale}".center(width))
    say(console, f"[dim]y: {y_label}{' (log scale)' if y_log else ''}[/dim]")
    legend = Text("")
    for s, name in enumerate(series):
        legend.append(f" {MARKERS[s % len(MARKERS)]} ", style=STYLES[s % len(STYLES)])
        legend.append(name + " ")
    console.print(legend)


# The two ends of a tornado bar differ by glyph as well as colour, so they read apart without colour.
LOW_GLYPH, HIGH_GLYPH = "▒", "█"


def tornado_legend(color: bool) -> str:
    """The key under a tornado chart; names colours only when they are shown (not under NO_COLOR)."""
    low, high = (f"{LOW_GLYPH} (cyan)", f"{HIGH_GLYPH} (magenta)") if color else (LOW_GLYPH, HIGH_GLYPH)
    return f"{low}: the assumption at its low end; {high}: at its high end"


def tornado_chart(console, title: str, bars: Sequence[dict], base: float, width: int = 36) -> None:
    """One bar per assumption, widest swing first: the change at the low end and at
    the high end drawn left (cheaper) or right (dearer) of the base value.
    Each bar: {label, low, high} (costs at the two ends)."""
    from rich.text import Text

    finite = [v for b in bars for v in (b["low"], b["high"]) if v is not None and math.isfinite(v)]
    console.print(Text(title, style="bold"))
    if not finite or base is None or not math.isfinite(base):
        say(console, "[dim]nothing to draw[/dim]")
        return
    reach = max(abs(v - base) for v in finite) or 1.0
    half = width // 2
    label_w = min(30, max(len(b["label"]) for b in bars))
    for bar in bars:
        label = bar["label"] if len(bar["label"]) <= label_w else bar["label"][:label_w - 1] + "~"
        text = Text(label.ljust(label_w) + " ")
        cells, styles = ["·"] * width, [""] * width
        cells[half] = "|"
        for value, style, glyph in ((bar["low"], "cyan", LOW_GLYPH), (bar["high"], "magenta", HIGH_GLYPH)):
            if value is None or not math.isfinite(value) or value == base:
                continue
            length = max(1, int(round(abs(value - base) / reach * half)))
            span = range(max(0, half - length), half) if value < base else range(half + 1, min(width, half + 1 + length))
            for i in span:
                cells[i], styles[i] = glyph, style
        for char, style in zip(cells, styles, strict=True):
            text.append(char, style=style or ("dim" if char == "·" else None))
        change = max((v for v in (bar["low"], bar["high"]) if v is not None and math.isfinite(v)),
                     key=lambda v: abs(v - base))
        text.append(f" {'+' if change >= base else '-'}{abs(change - base) / base * 100:.0f}%")
        console.print(text)
    console.print(" " * (label_w + 1) + "cheaper".ljust(half) + "dearer".rjust(width - half)
                  + f"   base {fmt_number(base, 'USD')} USD/query")
    say(console, f"[dim]{tornado_legend(console.color_system is not None)}[/dim]")


def band_chart(console, title: str, rows: Sequence[dict], width: int = 48) -> None:
    """p10-p90 bands with the p50 marked, one line per accelerator (log scale when
    the values span more than a factor of 20)."""
    from rich.text import Text

    values = [r[k] for r in rows for k in ("p10", "p50", "p90") if r.get(k) is not None and r[k] > 0]
    console.print(Text(title, style="bold"))
    if not values:
        say(console, "[dim]nothing to draw[/dim]")
        return
    log = max(values) / min(values) > 20
    lo, hi = min(values), max(values)
    transform = (lambda v: math.log10(v)) if log else (lambda v: v)  # noqa: E731
    span = transform(hi) - transform(lo) or 1.0
    place = lambda v: int(round((transform(v) - transform(lo)) / span * (width - 1)))  # noqa: E731
    label_w = min(24, max(len(r["accelerator"]) for r in rows))
    for r in rows:
        name = r["accelerator"] if len(r["accelerator"]) <= label_w else r["accelerator"][:label_w - 1] + "~"
        text = Text(name.ljust(label_w) + " ")
        cells = [" "] * width
        if r.get("p10") is not None and r.get("p90") is not None:
            for i in range(place(r["p10"]), place(r["p90"]) + 1):
                cells[i] = "─"
            cells[place(r["p50"])] = "●"
        text.append("".join(cells), style="cyan")
        console.print(text)
    left, right = fmt_number(lo, "USD"), fmt_number(hi, "USD")
    console.print(" " * (label_w + 1) + left + right.rjust(width - len(left)))
    console.print(" " * (label_w + 1) + ("USD per query" + (", log scale" if log else "")).center(width))


# ---------------------------------------------------------------- command views


def _unit_of(field: str) -> str:
    return "USD" if field.endswith("_usd") else ""


def markdown_rows(rows: list[dict]) -> str:
    """A Markdown table of result rows (numbers formatted for reading, '-' when missing)."""
    if not rows:
        return ""
    fields = list(rows[0])
    numeric = {f for f in fields if any(isinstance(r[f], (int, float)) and not isinstance(r[f], bool) for r in rows)}
    lines = ["| " + " | ".join(fields) + " |", "|" + "|".join("---:" if f in numeric else "---" for f in fields) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(markdown_text_cell(fmt_number(row[f], _unit_of(f))) for f in fields) + " |")
    return "\n".join(lines) + "\n"


def _percent(value) -> str:
    return "-" if value is None else f"{value * 100:.0f}%" if value >= 0.01 or value == 0 else f"{value * 100:.2g}%"


def render_sensitivity(doc: dict, console) -> None:
    """Tornado of the base winner's cost, then the swing table and where the winner changes."""
    from rich.table import Table

    winner = doc["base_winner"]
    base_cost = doc["base"][0]["cost_per_query_usd"]
    effective = [r for r in doc["tornado"] if r["winner_swing_usd"]]
    bars = [{"label": r["key"], "low": r["winner_cost_at_low_usd"], "high": r["winner_cost_at_high_usd"]}
            for r in effective[:15]]
    tornado_chart(console, f"Sensitivity of {doc['workload']['name']}: cost per query of {winner}, "
                           "cheapest at the base case", bars, base_cost)
    console.print("Top at the base case: " + "; ".join(
        f"{r['accelerator']} {fmt_number(r['cost_per_query_usd'], 'USD')}" for r in doc["base"]))
    table = Table(header_style="bold", pad_edge=False)
    for header in ("Assumption", "Range", "At low\nUSD/query", "At high\nUSD/query", "Swing"):
        table.add_column(header, justify="left" if header == "Assumption" else "right", no_wrap=True)
    for r in effective:
        table.add_row(r["key"], f"{fmt_number(r['low'])}-{fmt_number(r['high'])}",
                      fmt_number(r["winner_cost_at_low_usd"], "USD"), fmt_number(r["winner_cost_at_high_usd"], "USD"),
                      _percent(r["winner_swing_fraction"]), style="bold" if r["winner_changes"] else None)
    console.print(table)
    changed = [r for r in doc["tornado"] if r["winner_changes"]]
    for r in changed:
        ends = [(r[f"winner_at_{end}"] or "nothing feasible", f"{end} ({fmt_number(r[end])})")
                for end in ("low", "high") if r[f"winner_at_{end}"] != winner]
        text = (f"{ends[0][0]} at both ends" if len(ends) == 2 and ends[0][0] == ends[1][0]
                else " and ".join(f"{who} at {where}" for who, where in ends))
        say(console, f"[bold]{r['key']}[/bold]: the cheapest becomes {text}")
    if not changed:
        console.print(f"{winner} stays cheapest across every documented range.")
    idle = [r["key"] for r in doc["tornado"] if not r["winner_swing_usd"]]
    if idle:
        say(console, f"[dim]No effect on {winner} under these settings: {', '.join(idle)}[/dim]")


def _volume(value, status: str) -> str:
    """A break-even volume to 3 significant digits, or what the search found instead."""
    if status == "breakeven" and value is not None and value > 0:
        return fmt_number(float(f"{value:.3g}"))
    return {"at every volume tried": "always", "never": "never", "cannot own": "-", "no such option": "-"}.get(
        status, "-")


def render_breakeven(doc: dict, console) -> None:
    from rich.table import Table

    w = doc["workload"]
    grid = doc["volume_grid_queries_per_day"]
    api = doc["api_options"]
    rows = [r for r in doc["results"] if any(r[k] is not None for k in (
        "own_cost_per_query_usd", "on_demand_cost_per_query_usd"))]
    costs = Table(title=f"{w['name']}: cost per query at {fmt_number(w['queries_per_day'])} queries/day, USD",
                  title_justify="left", header_style="bold", pad_edge=False)
    for i, header in enumerate(("Accelerator", "Own", "Rent on\ndemand", "Rent\ncommitted", "API", "Cheapest")):
        costs.add_column(header, justify="left" if i in (0, 5) else "right", no_wrap=True,
                         max_width=24 if i == 0 else None, overflow="ellipsis")
    for r in rows:
        costs.add_row(r["accelerator"], fmt_number(r["own_cost_per_query_usd"], "USD"),
                      fmt_number(r["on_demand_cost_per_query_usd"], "USD"),
                      fmt_number(r["committed_cost_per_query_usd"], "USD"),
                      fmt_number(r["api_cost_per_query_usd"], "USD"), r["cheapest_option"] or "-")
    console.print(costs)
    owned = [r for r in rows if r["own_cost_per_query_usd"] is not None]
    if owned:
        table = Table(title="Owning beats the alternative from (queries/day), and payback (months)",
                      title_justify="left", header_style="bold", pad_edge=False)
        for i, header in enumerate(("Accelerator", "vs on\ndemand", "vs\ncommitted", "vs API",
                                    "Payback vs\non demand", "Payback\nvs API")):
            table.add_column(header, justify="left" if i == 0 else "right", no_wrap=True,
                             max_width=24 if i == 0 else None, overflow="ellipsis")
        for r in owned:
            table.add_row(r["accelerator"],
                          *[_volume(r[f"breakeven_queries_per_day_vs_{a}"], r[f"owning_vs_{a}"])
                            for a in ("on_demand", "committed", "api")],
                          *[fmt_number(r[f"payback_months_vs_{a}"]) for a in ("on_demand", "api")])
        console.print(table)
    if api:
        best = api[0]
        console.print(f"API: {best['provider']} {best['model']}, {fmt_number(best['usd_per_million_input_tokens'])} "
                      f"in / {fmt_number(best['usd_per_million_output_tokens'])} out USD per million tokens "
                      f"(as of {best['as_of']})" + (f"; {len(api) - 1} dearer option(s) in the JSON"
                                                    if len(api) > 1 else ""))
    else:
        console.print(f"API: none to compare ({doc['api_note']})")
    say(console, f"[dim]Committed = on demand x (1 - {fmt_number(doc['committed_use_discount'])}). Volumes searched "
                  f"from {fmt_number(grid[0])} to {fmt_number(grid[1])} queries/day: 'always' = owning is cheaper over "
                  "the whole range, 'never' = nowhere up to its top. Payback = capex / monthly saving against the "
                  "alternative at this volume; '-' = owning's running cost alone is higher.[/dim]")


def render_uncertainty(doc: dict, console) -> None:
    from rich.table import Table

    rows = [r for r in doc["results"] if r["p50_cost_per_query_usd"] is not None]
    title = (f"Uncertainty of {doc['workload']['name']}: {doc['samples']:,} samples, seed {doc['seed']}; "
             "cost per query, USD")
    table = Table(title=title, title_justify="left", header_style="bold", pad_edge=False,
                  caption="Cheapest: share of samples in which the accelerator is the cheapest feasible one",
                  caption_justify="left")
    partial = any(r["feasible_fraction"] < 1 for r in rows)
    headers = ("Accelerator", "p10", "p50", "p90", "Base", "Cheapest") + (("Feasible",) if partial else ())
    for i, header in enumerate(headers):
        table.add_column(header, justify="left" if i == 0 else "right", no_wrap=True,
                         max_width=24 if i == 0 else None, overflow="ellipsis")
    for r in rows:
        cells = [r["accelerator"], fmt_number(r["p10_cost_per_query_usd"], "USD"),
                 fmt_number(r["p50_cost_per_query_usd"], "USD"), fmt_number(r["p90_cost_per_query_usd"], "USD"),
                 fmt_number(r["base_cost_per_query_usd"], "USD"), _percent(r["probability_cheapest"])]
        table.add_row(*cells, *((_percent(r["feasible_fraction"]),) if partial else ()))
    console.print(table)
    if doc["no_feasible_fraction"]:
        console.print(f"No accelerator is feasible in {_percent(doc['no_feasible_fraction'])} of the samples.")
    band_chart(console, "p10 - p90 band, p50 marked", [
        {"accelerator": r["accelerator"], "p10": r["p10_cost_per_query_usd"], "p50": r["p50_cost_per_query_usd"],
         "p90": r["p90_cost_per_query_usd"]} for r in rows[:12]])
    never = [r["accelerator"] for r in doc["results"] if r["p50_cost_per_query_usd"] is None]
    if never:
        say(console, f"[dim]Never feasible in any sample: {', '.join(never)}[/dim]")
    held = [d["key"] for d in doc["held_fixed"]]
    say(console, f"[dim]Sampled: {len(doc['distributions'])} assumptions and "
                  f"{len(doc['efficiency_multipliers'])} efficiency groups; held fixed: {', '.join(held)}[/dim]")
