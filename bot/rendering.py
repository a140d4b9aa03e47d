"""Every text a person reads is rendered here from a Jinja2 template."""

from datetime import date, datetime, timedelta
from functools import cache
from importlib.resources import files
from zoneinfo import ZoneInfo

import yaml
from jinja2 import Environment, PackageLoader, StrictUndefined


def _format_date(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


def _local_time(value: datetime, zone: str | None = None) -> str:
    """A moment as a person reads it, e.g. "Fri 4 Dec 2026, 14:30 GMT" (in `zone`, else the zone it carries)."""
    local = value.astimezone(ZoneInfo(zone)) if zone else value
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {local.tzname() or ''}".strip()


def _clock(value: datetime, zone: str | None = None) -> str:
    return f"{(value.astimezone(ZoneInfo(zone)) if zone else value):%H:%M}"


def _duration(value: timedelta) -> str:
    minutes = round(value.total_seconds() / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


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
    env.filters["local"] = _local_time
    env.filters["hhmm"] = _clock
    env.filters["duration"] = _duration
    return env


# Telegram messages use parse_mode HTML: autoescaping keeps whatever a person typed literal.
_telegram = _environment("telegram", autoescape=True)
_cli = _environment("cli", autoescape=False)
_web = _environment("web", autoescape=True)  # the console's pages


def telegram_text(template: str, **context) -> str:
    return _telegram.get_template(template).render(**context).strip()


def cli_text(template: str, **context) -> str:
    return _cli.get_template(template).render(**context).strip()


def web_page(template: str, **context) -> str:
    return _web.get_template(template).render(**context)


@cache
def _labels() -> dict:
    return yaml.safe_load(files("bot").joinpath("templates/telegram/labels.yaml").read_text(encoding="utf-8"))


def button_label(name: str, **values) -> str:
    return _labels()["buttons"][name].format(**values)


def command_menu() -> dict[str, str]:
    """The bot's commands and their one-line descriptions, in menu order."""
    return dict(_labels()["commands"])


def assessor_command_menu() -> dict[str, str]:
    """The assessors' commands and their one-line descriptions, in menu order."""
    return dict(_labels()["assessor_commands"])
