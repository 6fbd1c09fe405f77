"""Every shell example in README.md and docs/*.md runs (in process, in a scratch folder
holding the files the examples name), so the docs cannot rot. A line that is not an
`inferchip` call must match a reason below; an `inferchip` call may be left out only
with a reason in SKIPPED."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inferchip.cli import app

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["README.md", *sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))]
SH_BLOCK = re.compile(r"(<!-- walkthrough -->\n)?```sh\n(.*?)```", re.S)
SHELL_OPERATORS = {"|", "||", "&&", ">", ">>", ";"}

# First word of a line that is not an inferchip call -> why it is not run here.
NOT_INFERCHIP = {
    "make": "builds the environment or runs the suite itself",
    "pip": "installs packages (the dev environment already has openpyxl)",
    "source": "activates the environment the suite already runs in",
    "case": "shell glue around the inferchip call above it",
    "0)": "shell glue", "6)": "shell glue", "7)": "shell glue", "*)": "shell glue", "esac": "shell glue",
    "status=0": "shell glue", "set": "shell glue",
}
# inferchip calls left out -> why.
SKIPPED = {
    "inferchip calibrate": "refits every efficiency factor (~30 s) and writes data/; tests/test_calibrate.py "
                           "covers the fit",
    "inferchip validate --split": "refits the factors once per fold (a minute for time, minutes for loo, family and "
                                  "benchmark); tests/test_validate_split.py runs the time and none splits on a small "
                                  "benchmarks file through the CLI",
    "inferchip uncertainty --samples 100000": "a timing example (~4 s); the same code runs in the 20,000-sample "
                                              "example on the same page",
}


# argv already run successfully in this session by a test of this module (an example that
# writes no file and appears twice -- in a page and in --help, or on two pages -- runs once)
_RAN: set[tuple[str, ...]] = set()


def _run(runner: CliRunner, argv: list[str], where: str) -> None:
    key = tuple(argv)
    if key in _RAN:
        return
    allowed = {0} | ({6} if "--fail-if" in argv else set()) | ({7} if "--fail-on" in argv else set())
    result = runner.invoke(app, argv, env={"COLUMNS": "120", "NO_COLOR": "1"})
    assert result.exit_code in allowed, f"{where} exited {result.exit_code}: {result.stderr}"
    if not {"-o", "--output"} & set(argv) and argv[:2] != ["workloads", "init"]:
        _RAN.add(key)


def examples(page: str) -> list[tuple[str, list[str]]]:
    """(line, argv) of every inferchip call in the page's sh blocks, in order; walkthrough
    blocks are left to tests/test_walkthrough.py, which runs them under bash."""
    out = []
    for walkthrough, block in SH_BLOCK.findall((ROOT / page).read_text(encoding="utf-8")):
        if walkthrough:
            continue
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if not words:
                continue
            if words[0] != "inferchip":
                assert words[0] in NOT_INFERCHIP, f"{page}: `{line.strip()}`: run it here or give a reason"
                continue
            if any(line.strip().startswith(prefix) for prefix in SKIPPED):
                continue
            cut = next((i for i, w in enumerate(words) if w in SHELL_OPERATORS), len(words))
            out.append((line.strip(), words[1:cut]))
    return out


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    """The input files the examples name without creating them first."""
    folder = tmp_path_factory.mktemp("docfiles")
    runner = CliRunner()

    def run(*args: str) -> None:
        result = runner.invoke(app, list(args), env={"INFERCHIP_CONFIG": ""})
        assert result.exit_code == 0, result.stderr

    run("workloads", "init", str(folder / "my.toml"))
    (folder / "site.toml").write_text("electricity_usd_per_kwh = 0.12\npue = 1.4\nserver_life_years = 4\n")
    (folder / "our-quotes.csv").write_text("name,server_price_usd,price_is_estimate,price_source,price_as_of\n"
                                           "NVIDIA H100 SXM,250000,false,Vendor X quote Q-2026-114,2026-11\n"
                                           "AMD MI300X,210000,false,Vendor Y quote 7781,2026-10\n")
    shutil.copy(ROOT / "data" / "catalog.csv", folder / "my-catalog.csv")
    run("compare", "--output", str(folder / "before.json"))
    run("compare", "--set", "electricity_usd_per_kwh=0.19", "--output", str(folder / "after.json"))
    return folder


@pytest.mark.parametrize("page", PAGES)
def test_every_shell_example_runs(page, files, tmp_path, monkeypatch):
    for item in files.iterdir():
        shutil.copy(item, tmp_path / item.name)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    for line, argv in examples(page):
        _run(runner, argv, f"{page}: `{line}`")


def test_the_examples_cover_every_command():
    """Every top-level command has at least one example somewhere in the docs."""
    import typer

    seen = {argv[0] for page in PAGES for _, argv in examples(page) if argv}
    commands = set(typer.main.get_command(app).commands)
    assert commands - {"calibrate"} <= seen, commands - seen


def _help_examples() -> list[tuple[str, str]]:
    """(command path, example line) of every `inferchip ...` example in a command's --help."""
    import typer

    found = []

    def walk(command, path: list[str]) -> None:
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                walk(sub, [*path, name])
            return
        for line in (command.help or "").splitlines():
            text = line.strip().removeprefix("Example:").strip()
            if text.startswith("inferchip "):
                found.append((" ".join(path), text))

    walk(typer.main.get_command(app), [])
    return found


def test_every_help_example_runs_outside_the_repository(files, tmp_path, monkeypatch):
    """Each example in every command's --help, run from a folder outside the repository
    holding only the files the examples name (a profile written by `workloads init`...)."""
    for item in files.iterdir():
        shutil.copy(item, tmp_path / item.name)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    examples = _help_examples()
    assert {path for path, _ in examples} >= {"compare", "explain", "diff", "sweep", "catalog list"}
    for path, line in examples:
        if any(line.startswith(prefix) for prefix in SKIPPED):
            continue
        words = shlex.split(line)
        for chunk in " ".join(shlex.quote(w) for w in words).split(" '&&' "):  # `a && b`: both run
            argv = shlex.split(chunk)
            argv = argv[1: next((i for i, w in enumerate(argv) if w in SHELL_OPERATORS), len(argv))]
            if argv and argv[0] == "workloads" and argv[1:2] == ["init"]:
                (tmp_path / argv[2]).unlink(missing_ok=True)
            _run(runner, argv, f"{path} --help: `{line}`")
