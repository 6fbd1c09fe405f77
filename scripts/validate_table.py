"""Regenerate the accuracy block of docs/accuracy.md from `inferchip validate` and the
committed held-out predictions data/heldout.csv (make validate-table).

Replaces the text between <!-- accuracy-table --> and <!-- /accuracy-table --> with the
Markdown view of the validation document for the bundled data; writes atomically."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = "docs/accuracy.md"
START, END = "<!-- accuracy-table -->", "<!-- /accuracy-table -->"


def splice(readme: str, block: str) -> str:
    """Page text with the generated block between the markers replaced."""
    if readme.count(START) != 1 or readme.count(END) != 1 or readme.index(START) > readme.index(END):
        raise SystemExit(f"{PAGE}: expected one {START} ... {END} pair")
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{block}{END}{tail}"


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from inferchip.report import write_output
    from inferchip.report.validate_view import render_markdown
    from inferchip.validate import bundled_document
    from inferchip.validate_split import accuracy_summaries, bundled_none_table

    path = ROOT / PAGE
    text = path.read_text(encoding="utf-8")
    updated = splice(text, render_markdown(bundled_document(), accuracy_summaries(bundled_none_table())))
    if updated != text:
        write_output(updated, path)
        print(f"{PAGE}: accuracy table regenerated", file=sys.stderr)
    else:
        print(f"{PAGE}: accuracy table already current", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
