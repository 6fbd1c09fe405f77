"""The documentation layout: a short README, a docs/ folder with an index, links that resolve,
generated tables that equal what their generators write."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(p.name for p in DOCS.glob("*.md"))
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text, in_code, anchors = path.read_text(encoding="utf-8"), False, set()
    for line in text.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("#"):
            anchors.add(_slug(line.lstrip("#")))
    return anchors


def test_readme_is_a_five_minute_read():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 250, f"README.md has {len(lines)} lines; move detail to a page in docs/"


def test_expected_pages_exist():
    for name in ("index.md", "commands.md", "workloads.md", "catalog.md", "method.md", "accuracy.md",
                 "scripting.md", "procurement.md"):
        assert name in PAGES, name


@pytest.mark.parametrize("source", ["README.md", "docs/index.md"])
def test_every_docs_page_is_linked(source):
    text = (ROOT / source).read_text(encoding="utf-8")
    prefix = "docs/" if source == "README.md" else ""
    for name in PAGES:
        if source == "docs/index.md" and name == "index.md":
            continue
        assert f"]({prefix}{name})" in text, f"{source}: add a link to {prefix}{name}"


@pytest.mark.parametrize("source", ["README.md", "data/README.md", *[f"docs/{p}" for p in PAGES]])
def test_relative_links_resolve(source):
    path = ROOT / source
    for target in LINK.findall(path.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target):
            continue
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        assert dest.exists(), f"{source}: link to missing {target}"
        if anchor:
            assert anchor in _anchors(dest), f"{source}: no heading for #{anchor} in {dest.name}"


def _load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_catalog_page_shows_the_generated_table():
    script = _load_script("readme_catalog")
    page = (ROOT / script.PAGE).read_text(encoding="utf-8")
    block = page.split(script.START, 1)[1].split(script.END, 1)[0]
    assert block == "\n" + script.table() + "\n", "run `make catalog-table`"


def test_accuracy_script_writes_into_the_accuracy_page():
    script = _load_script("validate_table")
    page = (ROOT / script.PAGE).read_text(encoding="utf-8")
    assert script.PAGE == "docs/accuracy.md"
    assert script.splice(page, "X\n").count("X\n") >= 1


def test_readme_sample_outputs_are_current():
    """The outputs under the first three commands are what they print today (make docs)."""
    script = _load_script("readme_examples")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(script.BLOCK.findall(readme)) == 3
    assert script.regenerate(readme) == readme, "run `make docs` (or make readme-examples)"
