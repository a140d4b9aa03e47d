"""Migrations carry existing evidence forward, on SQLite and PostgreSQL."""

from datetime import UTC, datetime

from sqlalchemy import text

from bot.storage.db import downgrade, make_engine, upgrade


def test_answers_of_the_first_schema_become_one_part_answers_and_back(database_url):
    engine = make_engine(database_url)
    upgrade(engine, "0001")
    now = {"t": datetime.now(UTC)}
    with engine.begin() as connection:
        for statement in [
            "INSERT INTO assessor (telegram_user_id, name, created_at) VALUES (1, 'Ann', :t)",
            "INSERT INTO candidate (telegram_user_id, chat_id, name, created_at) VALUES (2, 2, 'Sam', :t)",
            "INSERT INTO unit (code, title, level, awarding_body, source) VALUES ('u', 'Unit', 3, 'Body', 's.txt')",
            "INSERT INTO enrolment (candidate_id, unit_code, assessor_id, deadline, status, created_at)"
            " VALUES (1, 'u', 1, '2030-01-01', 'active', :t)",
            "INSERT INTO questionrun (enrolment_id, question_set, status, started_at, updated_at)"
            " VALUES (1, 'knowledge', 'in_progress', :t, :t)",
            "INSERT INTO answer (run_id, question_id, version, text, chat_id, message_id, update_id, sent_at, recorded_at)"
            " VALUES (1, 'q1', 1, 'We log it on the CRM.', 2, 5, 77, :t, :t)",
        ]:
            connection.execute(text(statement), now)

    upgrade(engine)
    with engine.begin() as connection:
        rows = connection.execute(
            text("SELECT a.status, a.started_at IS NOT NULL, p.seq, p.text, p.update_id"
                 " FROM answer a JOIN answerpart p ON p.answer_id = a.id")
        ).all()
    assert [tuple(row) for row in rows] == [("complete", True, 1, "We log it on the CRM.", 77)]

    downgrade(engine, "0001")
    with engine.begin() as connection:
        assert [tuple(r) for r in connection.execute(text("SELECT text, update_id FROM answer")).all()] == [
            ("We log it on the CRM.", 77)
        ]
    upgrade(engine)
    engine.dispose()
