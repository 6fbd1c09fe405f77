"""Views of a `validate` document (rich table, Markdown for docs/accuracy.md) and of a
`calibrate` result."""

from __future__ import annotations

from inferchip.report.fmt import fmt_number
from inferchip.report.safetext import safe_text

CLASS_TITLES = {"llm": "LLM (tokens/s)", "fixed": "Fixed work: ResNet-50, BERT (samples/s)", "all": "All rows"}


def _pct(value: object, signed: bool = False) -> str:
    if value is None:
        return "-"
    percent = float(value) * 100
    if signed:
        return "0 %" if abs(percent) < 0.5 else f"{percent:+.0f} %"
    return f"{percent:.1f} %"


def _ratio(value: object) -> str:
    return "-" if value is None else f"{float(value):.2f}x"


def summary_rows(doc: dict) -> list[dict[str, str]]:
    """One row per class: rows, median |error| in-sample and leave-one-out, geometric-mean
    ratio, worst case and rows within +-25 %."""
    throughput = doc["summary"]["throughput"]
    published = doc["summary"]["throughput_published_fit"]
    rows = []
    for name, title in CLASS_TITLES.items():
        stats = throughput.get(name, {})
        if not stats.get("rows"):
            continue
        rows.append({
            "class": title, "rows": str(stats["rows"]),
            "median abs error": _pct(stats["median_abs_error"]),
            "leave-one-out median abs error": _pct(published.get(name, {}).get("loo_median_abs_error")),
            "geomean predicted/measured": _ratio(stats["geomean_ratio"]),
            "worst": f"{_ratio(stats['worst_ratio'])} ({stats['worst_case']})",
            "within +-25 %": f"{stats['within_25_percent']} / {stats['rows']}",
        })
    return rows


def row_cells(row: dict) -> dict[str, str]:
    unit = "tok/s" if row["throughput_unit"] == "tokens_per_s" else "samples/s"
    return {
        "accelerator": row["accelerator"], "model": row["model"], "scenario": row["scenario"],
        "precision": row["precision"] or "-", "chips": fmt_number(row["accelerator_count"]),
        "measured / accel": f"{fmt_number(row['measured_per_accelerator'])} {unit}",
        "predicted / accel": fmt_number(row["predicted_per_accelerator"]),
        "error": _pct(row["error"], signed=True),
        "TP": fmt_number(row["chips_per_replica"]), "factors": row["calibration_source"] or "-",
        "note": row["note"] or "",
    }


def _md_table(rows: list[dict[str, str]], right: set[str]) -> list[str]:
    if not rows:
        return []
    fields = list(rows[0])
    out = ["| " + " | ".join(fields) + " |",
           "|" + "|".join("---:" if f in right else "---" for f in fields) + "|"]
    out += ["| " + " | ".join(safe_text(str(r[f])).replace("|", "\\|") for f in fields) + " |" for r in rows]
    return out


def render_markdown(doc: dict, comparison: dict[str, list[dict]] | None = None) -> str:
    """The docs/accuracy.md block: statistics, targets, power, and every row; with
    `comparison` (split title -> validate_split.summarize_groups records) also the
    in-sample / leave-one-out / time-split table by class, benchmark, scenario and family,
    and the per-row table folded under <details>."""
    summary = doc["summary"]
    out = ["#### Error statistics", ""]
    out += _md_table(summary_rows(doc), {"rows", "median abs error", "leave-one-out median abs error",
                                         "geomean predicted/measured", "within +-25 %"})
    if comparison:
        out += ["", "#### In-sample, leave-one-out and time split (MLPerf rows)", "",
                "Median |error| (rows), worst predicted/measured ratio and share within +-25 % per group. "
                "Leave-one-out predicts each row from a fit without it; the time split fits the rows dated "
                "before 2025 (MLPerf v4.0/v4.1) and predicts the later ones (v5.1), the error to expect on "
                "hardware and software the fit has not seen. Held-out figures come from `data/heldout.csv` "
                "(`make validate-splits`); `inferchip validate --split time|loo|family|benchmark` recomputes them.",
                ""]
        out += render_side_by_side(comparison)
    out += ["", "Targets: " + "; ".join(
        f"{name.replace('_', ' ')} {_target_value(name, t)} (limit {_target_limit(name, t)}): "
        f"{'met' if t['met'] else 'NOT met'}" for name, t in summary["targets"].items()) + "."]
    cal = doc["calibration"]
    shared = cal["shared_factors"]
    out += ["", "Shared fitted factors: " + ", ".join(f"{k} = {fmt_number(v)}" for k, v in shared.items())
            + "; Server-scenario throughput factor = " + fmt_number(cal["scenario_throughput_factor"].get("Server"))
            + (f". Fixed work is fitted apart: its step_overhead_ms = {fmt_number(cal['fixed_work_step_overhead_ms'])}"
               if cal.get("fixed_work_step_overhead_ms") is not None else "") + "."]
    power = summary["power"]
    if power.get("rows"):
        out += ["", f"Power: {power['rows']} rows carry an MLPerf Power measurement (mean whole-system wall power). "
                f"Predicted as `compare` charges energy at full load (server maximum power x busy fraction): median |error| "
                f"{_pct(power['median_abs_error'])}, geometric-mean ratio {_ratio(power['geomean_ratio'])}, worst "
                f"{_ratio(power['worst_ratio'])}" + ("; all of them are power-capped MaxQ systems." if power["all_power_capped"] else ".")]
    out += ["", "#### Every measured row", ""]
    if comparison:
        out += [f"<details><summary>{len(doc['rows'])} rows, in-sample</summary>", ""]
    out += _md_table([row_cells(r) for r in doc["rows"]], {"chips", "measured / accel", "predicted / accel", "error", "TP"})
    if comparison:
        out += ["", "</details>"]
    out += ["", f"Generated by `inferchip validate --format markdown` (inferchip {doc['inferchip_version']}); "
            "`make validate-table` refreshes this block."]
    return "\n".join(out) + "\n"


def _target_value(name: str, target: dict) -> str:
    value = target["value"]
    if value is None:
        return "-"
    return _ratio(value) if name == "worst_ratio" else _pct(value)


def _target_limit(name: str, target: dict) -> str:
    return _ratio(target["limit"]) if name == "worst_ratio" else _pct(target["limit"])


def render_table(doc: dict, console) -> None:
    """Statistics, then every row, as rich tables."""
    from rich.table import Table

    stats = Table(title="Predicted vs measured throughput (MLPerf Inference)", title_justify="left",
                  header_style="bold")
    rows = summary_rows(doc)
    for field in (rows[0] if rows else {}):
        stats.add_column(field, justify="left" if field in ("class", "worst") else "right")
    for row in rows:
        stats.add_row(*row.values())
    console.print(stats)
    detail = Table(header_style="bold", pad_edge=False)
    cells = [row_cells(r) for r in doc["rows"]]
    for field in (cells[0] if cells else {}):
        detail.add_column(field, justify="right" if field in ("chips", "measured / accel", "predicted / accel",
                                                              "error", "TP") else "left")
    for row, cell in zip(doc["rows"], cells, strict=True):
        off = row["ratio"] is not None and abs(row["error"]) > 0.25
        detail.add_row(*cell.values(), style="yellow" if off else None)
    console.print(detail)
    targets = doc["summary"]["targets"]
    console.print("Targets: " + "; ".join(f"{k} {_target_value(k, t)} ({'met' if t['met'] else 'NOT met'})"
                                          for k, t in targets.items()))


def calibration_rows(doc: dict) -> list[dict[str, str]]:
    """The fitted factor rows of a `calibrate` document, formatted."""
    shown = ("scope", "key", "compute_efficiency", "memory_efficiency", "scenario_throughput_factor", "fit_rows",
             "fit_median_abs_error", "loo_median_abs_error")
    out = []
    for row in doc["factors"]:
        out.append({k: ("-" if row.get(k) is None else fmt_number(row[k]) if not isinstance(row[k], str) else row[k])
                    for k in shown})
    return out


# --- held-out splits (`validate --split`) and the README's side-by-side table -------------

SPLIT_TITLES = {"none": "in-sample", "loo": "leave-one-out", "time": "time split", "family": "leave-one-family-out",
                "benchmark": "leave-one-benchmark-out"}
GROUP_TITLES = {"class": "class", "model": "benchmark", "scenario": "scenario", "family": "family"}


def split_summary_rows(summary: list[dict]) -> list[dict[str, str]]:
    """One formatted row per (measurement kind, group) of a split summary."""
    return [{
        "kind": s["measurement_kind"], "by": GROUP_TITLES.get(s["group_by"], s["group_by"]), "group": s["group"],
        "rows": str(s["rows"]), "median abs error": _pct(s["median_abs_error"]),
        "geomean": _ratio(s["geomean_ratio"]), "worst": f"{_ratio(s['worst_ratio'])} ({s['worst_case']})",
        "within +-25 %": _pct(s["within_25_percent_share"]),
    } for s in summary]


def split_row_cells(row: dict) -> dict[str, str]:
    cells = row_cells({**row, "chips_per_replica": None, "calibration_source": row["fold"]})
    cells.pop("TP")
    cells["factors"] = row["fold"] or "-"
    return cells


def render_split_markdown(doc: dict) -> str:
    """Statistics per group, then every held-out row, of a `validate --split` document."""
    title = SPLIT_TITLES[doc["split"]]
    out = [f"#### Held-out error: {title}", ""]
    out += _md_table(split_summary_rows(doc["summary"]), {"rows", "median abs error", "geomean", "within +-25 %"})
    held = [r for r in doc["rows"] if r["held_out"]]
    out += ["", f"#### Held-out rows ({len(held)} of {len(doc['rows'])})", ""]
    out += _md_table([split_row_cells(r) for r in held], {"chips", "measured / accel", "predicted / accel", "error"})
    out += ["", f"Generated by `inferchip validate --split {doc['split']} --format markdown` "
            f"(inferchip {doc['inferchip_version']})."]
    return "\n".join(out) + "\n"


def render_split_table(doc: dict, console) -> None:
    from rich.table import Table

    stats = Table(title=f"Held-out error: {SPLIT_TITLES[doc['split']]}", title_justify="left", header_style="bold")
    rows = split_summary_rows(doc["summary"])
    for field in (rows[0] if rows else {}):
        stats.add_column(field, justify="left" if field in ("kind", "by", "group", "worst") else "right")
    for row in rows:
        stats.add_row(*row.values())
    console.print(stats)
    detail = Table(header_style="bold", pad_edge=False)
    held = [r for r in doc["rows"] if r["held_out"]]
    cells = [split_row_cells(r) for r in held]
    for field in (cells[0] if cells else {}):
        detail.add_column(field, justify="right" if field in ("chips", "measured / accel", "predicted / accel",
                                                              "error") else "left")
    for row, cell in zip(held, cells, strict=True):
        off = row["ratio"] is not None and abs(row["error"]) > 0.25
        detail.add_row(*cell.values(), style="yellow" if off else None)
    console.print(detail)


def side_by_side_rows(summaries: dict[str, list[dict]], kind: str = "mlperf") -> list[dict[str, str]]:
    """One row per (group by, group) of the `kind` rows: median |error|, worst ratio and share
    within +-25 % under each split in `summaries` (split title -> summarize_groups records)."""
    keyed = {title: {(s["group_by"], s["group"]): s for s in summary if s["measurement_kind"] == kind}
             for title, summary in summaries.items()}
    order: list[tuple[str, str]] = []
    for by in GROUP_TITLES:
        groups = sorted({g for table in keyed.values() for (b, g) in table if b == by},
                        key=lambda g: (g != "all", g))
        order += [(by, g) for g in groups]
    out = []
    for by, group in order:
        row = {"by": GROUP_TITLES[by], "group": group}
        for title, table in keyed.items():
            s = table.get((by, group))
            row[f"{title} median (rows)"] = f"{_pct(s['median_abs_error'])} ({s['rows']})" if s else "-"
            row[f"{title} worst"] = _ratio(s["worst_ratio"]) if s else "-"
            row[f"{title} within 25 %"] = _pct(s["within_25_percent_share"]) if s else "-"
        out.append(row)
    return out


README_COLUMNS = ("in-sample median (rows)", "leave-one-out median (rows)", "time split median (rows)",
                  "time split worst", "time split within 25 %")


def render_readme_summary(summaries: dict[str, list[dict]]) -> str:
    """The README's short accuracy table: the class rows of the side-by-side table (MLPerf rows),
    in-sample, leave-one-out and time-split median |error|, and the time split's worst and share
    within +-25 %."""
    rows = [{"work": r["group"], **{c: r[c] for c in README_COLUMNS}}
            for r in side_by_side_rows(summaries) if r["by"] == GROUP_TITLES["class"]]
    return "\n".join(_md_table(rows, set(README_COLUMNS))) + "\n"


def render_side_by_side(summaries: dict[str, list[dict]]) -> list[str]:
    """Markdown lines: the in-sample / leave-one-out / time-split table of the MLPerf rows."""
    rows = side_by_side_rows(summaries)
    right = {f for f in (rows[0] if rows else {}) if f not in ("by", "group")}
    return _md_table(rows, right)
