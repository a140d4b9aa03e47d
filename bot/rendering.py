"""Every text a person reads is rendered here from a Jinja2 template."""

from datetime import date
from functools import cache
from importlib.resources import files

import yaml
from jinja2 import Environment, PackageLoader, StrictUndefined


def _format_date(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


def _environment(folder: str, autoescape: bool) -> Environment:
    env = Environment(
        loader=PackageLoader("bot", f"templates/{folder}"),
        autoescape=autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["day"] = _format_date
    return env


# Telegram messages use parse_mode HTML: autoescaping keeps whatever a person typed literal.
_telegram = _environment("telegram", autoescape=True)
_cli = _environment("cli", autoescape=False)


def telegram_text(template: str, **context) -> str:
    return _telegram.get_template(template).render(**context).strip()


def cli_text(template: str, **context) -> str:
    return _cli.get_template(template).render(**context).strip()


@cache
def _labels() -> dict:
    return yaml.safe_load(files("bot").joinpath("templates/telegram/labels.yaml").read_text(encoding="utf-8"))


def button_label(name: str, **values) -> str:
    return _labels()["buttons"][name].format(**values)


def command_menu() -> dict[str, str]:
    """The bot's commands and their one-line descriptions, in menu order."""
    return dict(_labels()["commands"])
