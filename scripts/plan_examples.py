"""Regenerate the sample outputs in docs/plan.md (make plan-examples): each block between
<!-- output: inferchip ARGS --> and <!-- /output --> becomes the command's output at 100
columns without colour, exactly as scripts/readme_examples.py does for the README."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = "docs/plan.md"


def _readme_examples():
    spec = importlib.util.spec_from_file_location("readme_examples", ROOT / "scripts" / "readme_examples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.PAGE = PAGE  # its error messages name this page
    return module


BLOCK = _readme_examples().BLOCK


def regenerate(text: str) -> str:
    return _readme_examples().regenerate(text)


def main() -> int:
    return _readme_examples().update_page(PAGE)


if __name__ == "__main__":
    sys.exit(main())
