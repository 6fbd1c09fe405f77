"""Number formatting shared by the table and Markdown views."""

from __future__ import annotations

import math


def fmt_number(value: object, unit: str = "") -> str:
    """Human formatting: '-' for missing, adaptive precision for tiny costs,
    thousands separators for large values."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "-"
    if isinstance(value, int) or float(value).is_integer() and abs(value) >= 1:
        return f"{int(value):,}"
    magnitude = abs(value)
    if unit == "USD" and magnitude < 1:
        return f"{value:.3g}" if magnitude >= 1e-12 else "0"
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:,.1f}"
    if magnitude >= 0.01:
        return f"{value:.2f}"
    return f"{value:.3g}"
