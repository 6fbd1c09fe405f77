"""Regenerate the sample outputs in README.md (make readme-examples): each block between
<!-- output: inferchip ARGS [| head -N] --> and <!-- /output --> becomes the command's
output at 100 columns without colour, cut to N lines (then '...') when asked."""

from __future__ import annotations

import os
import re
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = "README.md"
BLOCK = re.compile(r"(<!-- output: (.+?) -->\n)(.*?)(<!-- /output -->)", re.S)
WIDTH = "100"


def render(spec: str) -> str:
    """The fenced output of one `inferchip ...` spec, run in process."""
    import contextlib
    import io

    from inferchip.cli import app

    command, _, head = spec.partition("| head -")
    argv = shlex.split(command)
    assert argv[0] == "inferchip", spec
    saved = dict(os.environ)
    os.environ.update(COLUMNS=WIDTH, NO_COLOR="1", INFERCHIP_CONFIG="")
    out, errors = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(errors):
            code = app(argv[1:], standalone_mode=False, prog_name="inferchip")
    finally:
        os.environ.clear()
        os.environ.update(saved)
    if code not in (None, 0):
        raise SystemExit(f"{PAGE}: `{command.strip()}` exited {code}: {errors.getvalue()}")
    lines = [line.rstrip() for line in out.getvalue().splitlines()]
    if head and len(lines) > int(head):
        lines = lines[: int(head)] + ["..."]
    return "```\n" + "\n".join(lines) + "\n```\n"


def regenerate(text: str) -> str:
    return BLOCK.sub(lambda m: m.group(1) + render(m.group(2)) + m.group(4), text)


def update_page(page: str) -> int:
    """Regenerate the output blocks of one page (a path below the checkout) in place."""
    global PAGE
    PAGE = page  # render's error messages name the page
    sys.path.insert(0, str(ROOT))
    os.environ.pop("INFERCHIP_CONFIG", None)
    path = ROOT / page
    text = path.read_text(encoding="utf-8")
    updated = regenerate(text)
    if updated != text:
        from inferchip.report import write_output

        write_output(updated, path)
        print(f"{page}: sample outputs regenerated", file=sys.stderr)
    else:
        print(f"{page}: sample outputs already current", file=sys.stderr)
    return 0


def main() -> int:
    return update_page("README.md")


if __name__ == "__main__":
    raise SystemExit(main())
