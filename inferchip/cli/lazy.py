"""The program's root command group, built lazily: each command is listed from the start
by its name and help, and built in full (its options read from its signature) only when
a run looks it up.

Typer turns every command's signature into click options before it runs any one: it
evaluates each string annotation (some 900 for this CLI) and inspects each signature,
about 20 ms here, more than the rest of `inferchip --help` after Python's start-up.
The top-level help needs one line per command and a run of one command needs that one
command, so the group holds outlines until then, in the spirit of click's documented
LazyGroup. The eager build (`typer.main.get_command(app)`, what typer's CliRunner and the
tests use) stays the reference: tests compare the two texts, so they cannot drift."""

from __future__ import annotations

import copy
import functools
import inspect
from collections.abc import Callable

import typer
from typer.core import TyperCommand, TyperGroup
from typer.main import (
    get_command,
    get_command_from_info,
    get_command_name,
    get_group_from_info,
    solve_typer_info_defaults,
)


class LazyGroup(TyperGroup):
    """typer's group, whose `commands` start as outlines (name, help, short help, hidden,
    deprecated, help panel; no options) with a builder each: `get_command` builds the
    named command the first time, so running, completing or resolving a name sees the
    full command, while the listing in `--help` reads the outlines."""

    def __init__(self, **attrs) -> None:
        super().__init__(**attrs)
        self.builders: dict[str, Callable[[], TyperCommand | TyperGroup]] = {}

    def get_command(self, ctx, cmd_name: str):
        build = self.builders.get(cmd_name)
        if build is not None:  # the outline is replaced only once the command is built
            self.commands[cmd_name] = build()
            del self.builders[cmd_name]
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx, formatter) -> None:
        # typer's own listing over the outlines (and any command built so far), in order
        TyperGroup(name=self.name, commands=self.commands).format_commands(ctx, formatter)


def root_command(app: typer.Typer) -> LazyGroup:
    """The click group typer would build for `app` (same options, callback, settings and
    completion options), with its commands and sub-apps deferred to first use."""
    bare = copy.copy(app)
    bare.registered_commands, bare.registered_groups = [], []
    bare.info = copy.copy(app.info)
    bare.info.cls = LazyGroup
    group = get_command(bare)
    assert isinstance(group, LazyGroup)
    options = {"pretty_exceptions_short": app.pretty_exceptions_short, "rich_markup_mode": app.rich_markup_mode}
    for info in app.registered_commands:  # typer's naming and help rules (get_command_from_info)
        name = info.name or get_command_name(info.callback.__name__)
        text = inspect.getdoc(info.callback) if info.help is None else inspect.cleandoc(info.help)
        _defer(group, name, text, info, functools.partial(get_command_from_info, info, **options))
    for info in app.registered_groups:
        solved = solve_typer_info_defaults(info)  # the sub-app's help, without building its commands
        assert solved.name, "every sub-app of inferchip is added with a name"
        _defer(group, solved.name, solved.help, solved,
               functools.partial(get_group_from_info, info, suggest_commands=app.suggest_commands, **options))
    return group


def _defer(group: LazyGroup, name: str, text: str | None, info, build: Callable) -> None:
    group.commands[name] = TyperCommand(
        name=name, help=text, short_help=info.short_help, hidden=info.hidden, deprecated=info.deprecated,
        rich_help_panel=info.rich_help_panel, rich_markup_mode=group.rich_markup_mode)
    group.builders[name] = build
