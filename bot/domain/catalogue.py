"""Keeps the unit, criterion and bank-version tables in step with the question banks."""

from sqlmodel import col, select

from bot.domain.asked import slots, snapshot
from bot.domain.banks import Banks
from bot.storage.models import Answer, BankVersion, Criterion, Enrolment, QuestionRun, Unit
from bot.storage.repository import Repository


def sync_units(repo: Repository, banks: Banks) -> None:
    """Add every unit, criterion and bank version the banks define. Nothing is deleted or reworded: evidence
    cites it. A criterion's words are recorded when it is first seen; the words each answer was asked
    with are kept in the answer itself."""
    for code, bank in banks.units.items():
        info = bank.unit
        unit = repo.unit(code) or Unit(code=code, title="", level=0, awarding_body="", source="")
        unit.title, unit.level, unit.awarding_body, unit.source = info.title, info.level, info.awarding_body, info.source
        repo.add(unit)
        stored = repo.criteria(code)
        for spec in bank.criteria:
            if spec.ref not in stored:
                repo.session.add(Criterion(unit_code=code, ref=spec.ref, kind=spec.kind, text=spec.text))
        version = banks.version(code)
        if repo.bank_version(code, version.sha256) is None:
            repo.session.add(BankVersion(unit_code=code, file=version.file, sha256=version.sha256, source=version.source))
    repo.session.flush()
    _freeze_older_answers(repo, banks)


def _freeze_older_answers(repo: Repository, banks: Banks) -> None:
    """Answers given before nvqbot kept what was asked with each answer get it now, from the bank as it is
    (the one they were asked from, unless it changed since), marked as copied later."""
    rows = repo.session.exec(
        select(Answer, QuestionRun.question_set, Enrolment.unit_code)
        .join(QuestionRun, col(Answer.run_id) == col(QuestionRun.id))
        .join(Enrolment, col(QuestionRun.enrolment_id) == col(Enrolment.id))
        .where(col(Answer.asked).is_(None))
    ).all()
    for answer, set_id, unit_code in rows:
        bank = banks.unit(unit_code)
        slot = slots(bank).get((set_id, answer.question_id)) if bank else None
        if slot is None:
            continue  # no longer in the bank: the record shows it under its stored ids
        answer.asked = snapshot(banks, unit_code, slot.question_set, slot.question) | {"copied_later": True}
        version = repo.bank_version(unit_code, banks.version(unit_code).sha256)
        assert version is not None, "sync_units has recorded the version of every loaded bank"
        answer.bank_version_id = version.id
        repo.session.add(answer)
    repo.session.flush()
