"""`fundguard` entry point: discovers the verb modules of fundguard.cli and runs them.

A verb module defines `register(app: typer.Typer) -> None`; adding a verb is adding a module.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer

import fundguard
from fundguard.cli import common
from fundguard.errors import FundguardError

app = typer.Typer(
    name="fundguard",
    help="fundguard 医保基金智能监管稽核平台 — medical-insurance fund supervision and audit platform.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"fundguard {fundguard.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="显示版本 / show version"),
) -> None:
    pass


def _register_verbs() -> None:
    import fundguard.cli as pkg

    for mod in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if mod.name in {"main", "common"} or mod.name.startswith("_"):
            continue
        module = importlib.import_module(f"fundguard.cli.{mod.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_register_verbs()


def main() -> None:
    try:
        app()
    except FundguardError as e:
        common.console.print(e.report(), markup=False, highlight=False, soft_wrap=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
