"""Migrations carry existing evidence forward, on SQLite and PostgreSQL."""

import json
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


def test_the_one_probe_of_an_earlier_answer_becomes_the_first_rung_of_its_ladder_and_back(database_url):
    engine = make_engine(database_url)
    upgrade(engine, "0006")
    now = {"t": datetime(2026, 7, 1, 23, 30, tzinfo=UTC)}
    with engine.begin() as connection:
        for statement in [
            "INSERT INTO assessor (telegram_user_id, name, created_at, role) VALUES (1, 'Ann', :t, 'assessor')",
            "INSERT INTO candidate (telegram_user_id, chat_id, name, created_at, reminders_paused)"
            " VALUES (2, 2, 'Sam', :t, false)",
            "INSERT INTO unit (code, title, level, awarding_body, source) VALUES ('u', 'Unit', 3, 'Body', 's.txt')",
            "INSERT INTO enrolment (candidate_id, unit_code, assessor_id, deadline, status, created_at)"
            " VALUES (1, 'u', 1, '2030-01-01', 'active', :t)",
            "INSERT INTO questionrun (enrolment_id, question_set, status, started_at, updated_at)"
            " VALUES (1, 'knowledge', 'in_progress', :t, :t)",
            "INSERT INTO answer (run_id, question_id, version, status, probe, probed_at, started_at)"
            " VALUES (1, 'q1', 1, 'complete', 'Who reads the log?', :t, :t)",
            "INSERT INTO answer (run_id, question_id, version, status, started_at) VALUES (1, 'q2', 1, 'open', :t)",
            "INSERT INTO answerpart (answer_id, seq, text, in_follow_up, chat_id, message_id, sent_at, recorded_at)"
            " VALUES (1, 1, 'I log it.', false, 2, 5, :t, :t), (1, 2, 'My manager.', true, 2, 6, :t, :t)",
        ]:
            connection.execute(text(statement), now)

    upgrade(engine)
    with engine.begin() as connection:
        probes = dict(connection.execute(text("SELECT question_id, probes FROM answer ORDER BY id")).all())
        numbers = [row[0] for row in connection.execute(text("SELECT probe_number FROM answerpart ORDER BY seq"))]
    as_list = {key: json.loads(value) if isinstance(value, str) else value for key, value in probes.items()}
    assert as_list == {"q1": [{"text": "Who reads the log?", "aims": [], "asked_at": "2026-07-01T23:30:00+00:00"}], "q2": []}
    assert numbers == [None, 1]

    downgrade(engine, "0006")
    with engine.begin() as connection:
        assert connection.execute(text("SELECT probe FROM answer WHERE question_id = 'q1'")).scalar() == "Who reads the log?"
        assert [r[0] for r in connection.execute(text("SELECT in_follow_up FROM answerpart ORDER BY seq"))] == [False, True]
    engine.dispose()


def test_parts_gain_a_forward_origin_and_a_cleaned_mark_and_files_a_time_given_up_and_back(database_url):
    engine = make_engine(database_url)
    upgrade(engine, "0008")
    now = {"t": datetime(2026, 7, 1, 9, 0, tzinfo=UTC)}
    with engine.begin() as connection:
        for statement in [
            "INSERT INTO assessor (telegram_user_id, name, created_at, role) VALUES (1, 'Ann', :t, 'assessor')",
            "INSERT INTO candidate (telegram_user_id, chat_id, name, created_at, reminders_paused)"
            " VALUES (2, 2, 'Sam', :t, false)",
            "INSERT INTO unit (code, title, level, awarding_body, source) VALUES ('u', 'Unit', 3, 'Body', 's.txt')",
            "INSERT INTO enrolment (candidate_id, unit_code, assessor_id, deadline, status, created_at)"
            " VALUES (1, 'u', 1, '2030-01-01', 'active', :t)",
            "INSERT INTO questionrun (enrolment_id, question_set, status, started_at, updated_at)"
            " VALUES (1, 'knowledge', 'in_progress', :t, :t)",
            "INSERT INTO answer (run_id, question_id, version, status, probes, started_at)"
            " VALUES (1, 'q1', 1, 'open', '[]', :t)",
            "INSERT INTO attachment (kind, file_id, file_unique_id, fetch_attempts, fetch_error)"
            " VALUES ('voice', 'F1', 'U1', 3, 'Timed out')",
            "INSERT INTO answerpart (answer_id, seq, text, attachment_id, chat_id, message_id, sent_at, recorded_at)"
            " VALUES (1, 1, 'I log it.', NULL, 2, 5, :t, :t), (1, 2, NULL, 1, 2, 6, :t, :t)",
        ]:
            connection.execute(text(statement), now)

    upgrade(engine)
    with engine.begin() as connection:
        parts = connection.execute(text("SELECT text, forwarded_from, text_cleaned FROM answerpart ORDER BY seq")).all()
        # given up under the old three-attempt rule, for what may have been a timeout: tried again now
        files = connection.execute(text("SELECT fetch_attempts, fetch_failed_at FROM attachment")).all()
        origin = {"kind": "channel", "name": "Money Tips", "date": "2026-06-30T08:00:00+00:00"}
        connection.execute(
            text("INSERT INTO answerpart (answer_id, seq, text, forwarded_from, text_cleaned, chat_id, message_id,"
                 " sent_at, recorded_at) VALUES (1, 3, 'Save \u2400 now', :origin, true, 2, 7, :t, :t)"),
            {**now, "origin": json.dumps(origin)},
        )
    assert [tuple(row) for row in parts] == [("I log it.", None, False), (None, None, False)]
    assert [tuple(row) for row in files] == [(3, None)]

    downgrade(engine, "0008")
    with engine.begin() as connection:
        assert [r[0] for r in connection.execute(text("SELECT text FROM answerpart ORDER BY seq"))] == [
            "I log it.", None, "Save \u2400 now"]
        columns = connection.execute(text("SELECT * FROM answerpart")).keys()
        assert "forwarded_from" not in columns and "text_cleaned" not in columns
        assert "fetch_failed_at" not in connection.execute(text("SELECT * FROM attachment")).keys()
    upgrade(engine)
    engine.dispose()


def test_the_numbered_files_name_alembics_one_head_and_a_migrated_database_is_at_it(database_url):
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from bot.storage.db import MIGRATIONS_DIR, applied_revision, head_revision

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    script = ScriptDirectory.from_config(config)
    assert script.get_heads() == [head_revision()]  # one line of migrations, the newest file its head
    engine = make_engine(database_url)
    assert applied_revision(engine) is None
    upgrade(engine)
    assert applied_revision(engine) == head_revision()
    engine.dispose()


def test_the_migrations_make_the_tables_the_models_describe(database_url):
    """A column or table added to the models without its migration (or the reverse) shows here."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    import bot.storage.models  # noqa: F401  (the tables)

    engine = make_engine(database_url)
    upgrade(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    engine.dispose()
    assert differences == []
