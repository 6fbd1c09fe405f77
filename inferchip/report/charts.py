"""Charts of the HTML report, drawn by matplotlib (the optional `report` extra) as
inline SVG: text stays text (svg.fonttype none), ids and metadata are fixed so the
same inputs give the same file. No pyplot: each chart is its own Figure."""

from __future__ import annotations

import io
import re

from inferchip.errors import UsageError

REPORT_HINT = "pip install 'inferchip[report]' (or pip install matplotlib)"
BASIS_COLOURS = {"owned": "#3b6ea8", "rented": "#d08c2f", "committed": "#8a6bb8", "api": "#5b9e5b",
                 "unpriced": "#999999"}


def matplotlib_figure():
    """matplotlib's Figure class, or a one-line error naming the extra to install."""
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError:
        raise UsageError(f"the HTML report draws its charts with matplotlib, which is not installed: {REPORT_HINT}") \
            from None
    matplotlib.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "inferchip", "font.size": 9})
    return Figure


def _svg(fig) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": "inferchip"})
    text = buffer.getvalue()
    return re.sub(r"^.*?(<svg\b)", r"\1", text, count=1, flags=re.S)  # drop the XML prolog and doctype


def cost_bars(rows: list[dict]) -> str:
    """Horizontal bars: cost per query [USD] per option, cheapest at the top, coloured by basis."""
    Figure = matplotlib_figure()
    rows = [r for r in rows if r.get("cost_per_query_usd") is not None][:15]
    fig = Figure(figsize=(7.0, 0.32 * len(rows) + 1.0))
    ax = fig.subplots()
    labels = [r.get("option") or r["accelerator"] for r in rows][::-1]
    values = [r["cost_per_query_usd"] for r in rows][::-1]
    colours = [BASIS_COLOURS.get(r.get("price_basis", ""), "#999999") for r in rows][::-1]
    ax.barh(labels, values, color=colours)
    ax.set_xlabel("cost per query [USD]")
    ax.grid(axis="x", alpha=0.3)
    return _svg(fig)


def breakeven_curves(volumes: list[float], curves: dict[str, list[float | None]], api: tuple[str, float] | None) -> str:
    """Cost per query [USD] against daily volume [queries/day], log-log: owning and
    renting each chip, and the per-token API (flat)."""
    Figure = matplotlib_figure()
    fig = Figure(figsize=(7.0, 4.2))
    ax = fig.subplots()
    for label, values in curves.items():
        xs = [v for v, y in zip(volumes, values, strict=True) if y is not None]
        ys = [y for y in values if y is not None]
        if xs:
            ax.plot(xs, ys, linestyle="--" if label.endswith("(rented)") else "-", marker=".", label=label)
    if api is not None:
        ax.axhline(api[1], color=BASIS_COLOURS["api"], linestyle=":", label=api[0])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("traffic [queries/day]")
    ax.set_ylabel("cost per query [USD]")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="upper right")
    return _svg(fig)


def tornado(bars: list[dict], base: float, winner: str) -> str:
    """The base winner's cost per query [USD] at each assumption's low and high end."""
    Figure = matplotlib_figure()
    bars = [b for b in bars if b.get("winner_cost_at_low_usd") is not None][:10][::-1]
    fig = Figure(figsize=(7.0, 0.35 * len(bars) + 1.2))
    ax = fig.subplots()
    for i, bar in enumerate(bars):
        low, high = bar["winner_cost_at_low_usd"], bar["winner_cost_at_high_usd"]
        ax.barh(i, low - base, left=base, color="#3b6ea8")
        ax.barh(i, high - base, left=base, color="#d08c2f")
    ax.set_yticks(range(len(bars)), [b["key"] for b in bars])
    ax.axvline(base, color="black", linewidth=0.8)
    ax.set_xlabel(f"{winner}: cost per query [USD] (blue: assumption at its low end, orange: high end)")
    return _svg(fig)


def bands(rows: list[dict]) -> str:
    """p10-p90 cost per query [USD] per accelerator with the p50 and the base case marked."""
    Figure = matplotlib_figure()
    rows = [r for r in rows if r.get("p50_cost_per_query_usd") is not None][:12][::-1]
    fig = Figure(figsize=(7.0, 0.35 * len(rows) + 1.2))
    ax = fig.subplots()
    for i, r in enumerate(rows):
        ax.plot([r["p10_cost_per_query_usd"], r["p90_cost_per_query_usd"]], [i, i], color="#3b6ea8", linewidth=6,
                solid_capstyle="butt", alpha=0.6)
        ax.plot(r["p50_cost_per_query_usd"], i, "k|", markersize=12)
        if r.get("base_cost_per_query_usd") is not None:
            ax.plot(r["base_cost_per_query_usd"], i, "o", color="#d08c2f", markersize=4)
    ax.set_yticks(range(len(rows)), [r["accelerator"] for r in rows])
    ax.set_xlabel("cost per query [USD]: p10-p90 band, | p50, o base case")
    ax.grid(axis="x", alpha=0.3)
    return _svg(fig)


def plan_cash(years: list[dict], name: str) -> str:
    """Cash per year [USD] of one plan: purchases, running costs and burst, stacked."""
    Figure = matplotlib_figure()
    fig = Figure(figsize=(7.0, 3.4))
    ax = fig.subplots()
    x = [r["year"] for r in years]
    bottom = [0.0] * len(x)
    for field, label, colour in (("purchase_usd", "purchases", "#3b6ea8"), ("running_usd", "running", "#d08c2f"),
                                 ("burst_usd", "burst (rent/API)", "#5b9e5b")):
        values = [r[field] or 0.0 for r in years]
        ax.bar(x, values, bottom=bottom, label=label, color=colour)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_xticks(x)
    ax.set_xlabel(f"year of the plan ({name})")
    ax.set_ylabel("cash [USD]")
    ax.legend(fontsize=7)
    ax.grid(axis="y", alpha=0.3)
    return _svg(fig)
