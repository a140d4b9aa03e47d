"""Locks in the database that keep processes from stepping on each other.

- `ActiveLock`: exactly one bot process polls Telegram and sends at a time; the others stand by and take over
  when it goes. PostgreSQL: a session advisory lock, held on a connection of its own for the process's life and
  freed by the server the moment that connection drops (a SIGKILLed process's socket closes at once). SQLite: an
  exclusive `flock` on a file beside the database, freed by the kernel when the process dies.
- `startup_lock`: migrations and start-up work (loading the banks' units) run one process at a time.
- `audit_lock`: appending to the audit trail takes a transaction-scoped lock on PostgreSQL, so two writers (the
  bot and the CLI) never both chain to one predecessor. SQLite has one writer at a time: a writer whose snapshot
  is stale is refused (SQLITE_BUSY_SNAPSHOT) and rolls back, so its chain cannot fork either.
"""

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

# Advisory lock keys: (one of these, the schema's hash), so that nvqbot deployments in different schemas of one
# PostgreSQL database (the test suite's, or a centre's staging beside production) never hold each other's locks.
ACTIVE_KEY = 0x6E760001
STARTUP_KEY = 0x6E760002
AUDIT_KEY = 0x6E760003
_KEYS = ":key, hashtext(current_schema())"


def _sqlite_path(engine: Engine) -> Path | None:
    database = engine.url.database
    return None if not database or database == ":memory:" else Path(database)


class ActiveLock:
    def __init__(self, engine: Engine):
        self.engine = engine
        self._connection: Connection | None = None
        self._file: int | None = None

    def try_acquire(self) -> bool:
        """Take the lock if no other process holds it; True when this process now holds it."""
        if self.engine.dialect.name == "postgresql":
            connection = self.engine.connect()
            got = connection.execute(text(f"SELECT pg_try_advisory_lock({_KEYS})"), {"key": ACTIVE_KEY}).scalar()
            connection.commit()
            if got:
                self._connection = connection
            else:
                connection.close()
            return bool(got)
        path = _sqlite_path(self.engine)
        if path is None:
            return True  # an in-memory database belongs to this process alone
        descriptor = os.open(f"{path}.active.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            return False
        self._file = descriptor
        return True

    def still_held(self) -> bool:
        """False once the lock's connection is gone (the database restarted): another process may hold it now."""
        if self._connection is None:
            return self._file is not None or _sqlite_path(self.engine) is None
        try:
            self._connection.execute(text("SELECT 1")).scalar()
            self._connection.commit()
            return True
        except SQLAlchemyError:
            return False

    def release(self) -> None:
        if self._connection is not None:
            with suppress(SQLAlchemyError):
                self._connection.close()  # the server frees a session lock with its connection
            self._connection = None
        if self._file is not None:
            os.close(self._file)  # closing the descriptor frees the flock
            self._file = None


@contextmanager
def startup_lock(engine: Engine) -> Iterator[None]:
    """Hold while migrating and loading units, so two starting processes never do it at once."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text(f"SELECT pg_advisory_lock({_KEYS})"), {"key": STARTUP_KEY})
            connection.commit()
            try:
                yield
            finally:
                connection.execute(text(f"SELECT pg_advisory_unlock({_KEYS})"), {"key": STARTUP_KEY})
                connection.commit()
        return
    path = _sqlite_path(engine)
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(f"{path}.startup.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def audit_lock(session: Session) -> None:
    """Taken before reading the trail's last event; held until the transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SELECT pg_advisory_xact_lock({_KEYS})"), {"key": AUDIT_KEY})
