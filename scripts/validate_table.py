"""Regenerate the accuracy block of docs/accuracy.md and the short accuracy table of README.md
from `inferchip validate` and the committed held-out predictions data/heldout.csv (make validate-table).

Replaces the text between <!-- accuracy-table --> and <!-- /accuracy-table --> with the
Markdown view of the validation document for the bundled data; writes atomically."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = "docs/accuracy.md"
START, END = "<!-- accuracy-table -->", "<!-- /accuracy-table -->"
README = "README.md"
README_START, README_END = "<!-- accuracy-summary -->", "<!-- /accuracy-summary -->"


def splice(readme: str, block: str, start: str = START, end: str = END, page: str = PAGE) -> str:
    """Page text with the generated block between the markers replaced."""
    if readme.count(start) != 1 or readme.count(end) != 1 or readme.index(start) > readme.index(end):
        raise SystemExit(f"{page}: expected one {start} ... {end} pair")
    head, rest = readme.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{block}{end}{tail}"


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from inferchip.report import write_output
    from inferchip.report.validate_view import render_markdown, render_readme_summary
    from inferchip.validate import bundled_document
    from inferchip.validate_split import accuracy_summaries, bundled_none_table

    summaries = accuracy_summaries(bundled_none_table())
    for page, start, end, block in ((PAGE, START, END, render_markdown(bundled_document(), summaries)),
                                    (README, README_START, README_END, render_readme_summary(summaries))):
        path = ROOT / page
        text = path.read_text(encoding="utf-8")
        updated = splice(text, block, start, end, page)
        if updated != text:
            write_output(updated, path)
            print(f"{page}: accuracy table regenerated", file=sys.stderr)
        else:
            print(f"{page}: accuracy table already current", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
