"""The `nvqbot banks` commands: checking and listing the question banks."""

import json
from pathlib import Path

import typer

from bot.cli.common import checked_banks, load_settings
from bot.domain.banks import describe_banks
from bot.rendering import cli_text


def banks_check(
    paths: list[Path] = typer.Argument(None, help="Bank files or folders (default: the ones the bot loads)."),
) -> None:
    """Check bank files; prints file:line: message for each problem and exits 1 if there are any."""
    settings = load_settings()
    banks = checked_banks(settings, paths or [settings.banks_dir])
    typer.echo(cli_text("banks_ok.txt", banks=banks))


def banks_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List every unit with its criteria, their question counts and mapped criteria."""
    catalogue = describe_banks(checked_banks(load_settings()))
    if as_json:
        typer.echo(json.dumps(catalogue, indent=2, ensure_ascii=False))
    else:
        typer.echo(cli_text("banks_list.txt", units=catalogue))
