"""Keeps the unit and criterion tables in step with the question banks."""

from bot.domain.banks import Banks
from bot.storage.models import Criterion, Unit
from bot.storage.repository import Repository


def sync_units(repo: Repository, banks: Banks) -> None:
    """Add or update every unit and criterion the banks define. Nothing is deleted: evidence may cite it."""
    for bank in banks.units.values():
        info = bank.unit
        unit = repo.unit(info.code) or Unit(code=info.code, title="", level=0, awarding_body="", source="")
        unit.title, unit.level, unit.awarding_body, unit.source = info.title, info.level, info.awarding_body, info.source
        repo.add(unit)
        stored = repo.criteria(info.code)
        for spec in bank.criteria:
            row = stored.get(spec.ref) or Criterion(unit_code=info.code, ref=spec.ref, kind="", text="")
            row.kind, row.text = spec.kind, spec.text
            repo.session.add(row)
    repo.session.flush()
