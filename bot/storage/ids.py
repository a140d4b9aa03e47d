"""The id of a stored row, typed as the int it is once the row has been read from or flushed to the database.

sqlmodel types every primary key `int | None` (None until the first flush). Code that holds a stored row asks
for its id through `stored_id`, so a row that was never flushed fails loudly instead of matching nothing.
"""

from typing import Protocol, TypeVar

from sqlalchemy import Table
from sqlmodel import Session, SQLModel

T = TypeVar("T", bound=SQLModel)


class _Stored(Protocol):
    @property
    def id(self) -> int | None: ...


def stored_id(row: _Stored) -> int:
    """The row's id; asking for the id of a row never flushed is a bug."""
    if row.id is None:
        raise ValueError(f"{type(row).__name__} has no id yet: it was never flushed")
    return row.id


def table_of(model: type[SQLModel]) -> Table:
    """The model's table, for reading plain rows (sqlmodel sets `__table__` but does not declare it)."""
    return model.__table__  # type: ignore[attr-defined]


def stored(session: Session, model: type[T], ident: object) -> T:
    """The row that must be there (named by a foreign key, or by an id just read): a missing one is a bug."""
    row = session.get(model, ident)
    if row is None:
        raise LookupError(f"no {model.__name__} with id {ident!r}")
    return row
