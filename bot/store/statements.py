"""Statements on one connection of the store (`Tx`): sent to the database driver's cursor,
compiled once per text by SQLAlchemy for the dialect, the same SQL on SQLite and PostgreSQL.
bot/store/database.py gives the connections and the transactions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, NoResultFound
from sqlalchemy.pool import PoolProxiedConnection


class Result:
    """What one statement gave: its rows (tuples), their column names, and how many rows it changed."""

    __slots__ = ("keys", "rowcount", "values")

    def __init__(self, keys: list[str], values: list[tuple[Any, ...]], rowcount: int) -> None:
        self.keys, self.values, self.rowcount = keys, values, rowcount

    def all(self) -> list[tuple[Any, ...]]:
        return self.values

    def mappings(self) -> list[dict[str, Any]]:
        return [dict(zip(self.keys, values, strict=True)) for values in self.values]

    def scalar_one(self) -> Any:
        if len(self.values) != 1:
            raise NoResultFound(f"one row was expected, {len(self.values)} came")
        return self.values[0][0]


@lru_cache(maxsize=2048)
def _compiled(dialect: Dialect, sql: str) -> str:
    """The statement as the driver takes it, compiled once by SQLAlchemy for the dialect
    (`:name` binds in its paramstyle — by name on both databases —, `%` escaped where needed)."""
    return text(sql).compile(dialect=dialect).string


class Tx:
    """A connection inside a transaction (or a read), with the few statements the store needs.

    Statements go to the driver's cursor, compiled once per text (`_compiled`): SQLAlchemy
    keeps the connections, the transactions and the dialect, without its per-call cost (a
    text() parsed, a cache key made, a result set up: ~10× the driver's own time on SQLite).
    A driver's error is raised as SQLAlchemy's (StoreError), a lost connection invalidated."""

    def __init__(self, connection: PoolProxiedConnection, dialect: Dialect) -> None:
        self.connection = connection  # the driver's, checked out of the engine's pool
        self.dialect = dialect

    def execute(self, sql: str, params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None) -> Result:
        statement = _compiled(self.dialect, sql)
        cursor = self.connection.cursor()
        try:
            if isinstance(params, Sequence):
                cursor.executemany(statement, params)
            else:
                cursor.execute(statement, params or {})
            keys = [column[0] for column in cursor.description or ()]
            return Result(keys, cursor.fetchall() if keys else [], cursor.rowcount)
        except self.dialect.loaded_dbapi.Error as exc:
            raise self.failure(exc, statement, params, cursor) from exc
        finally:
            cursor.close()

    def end(self, *, commit: bool) -> None:
        """Commit, or roll back, the transaction."""
        try:
            self.connection.commit() if commit else self.connection.rollback()
        except self.dialect.loaded_dbapi.Error as exc:
            raise self.failure(exc, "COMMIT" if commit else "ROLLBACK", None) from exc

    def failure(self, exc: Exception, statement: str, params: Any, cursor: Any = None) -> DBAPIError:
        """The driver's error as SQLAlchemy raises it; a connection lost is not given out again."""
        gone = self.dialect.is_disconnect(exc, self.connection.dbapi_connection, cursor)
        if gone:
            self.connection.invalidate(exc)
        error = self.dialect.loaded_dbapi.Error
        return DBAPIError.instance(statement, params, exc, error, connection_invalidated=gone, dialect=self.dialect)

    def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        return self.execute(sql, params).mappings()

    def one(self, sql: str, **params: Any) -> dict[str, Any] | None:
        found = self.rows(sql, **params)
        return found[0] if found else None

    def insert(self, table: str, values: Mapping[str, Any], *, returning: str | None = None) -> Any:
        sql = f"insert into {table} ({_names(values)}) values ({_binds(values)})"
        if returning:
            return self.execute(f"{sql} returning {returning}", values).scalar_one()
        self.execute(sql, values)
        return None

    def insert_many(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            self.execute(f"insert into {table} ({_names(rows[0])}) values ({_binds(rows[0])})", list(rows))

    def upsert(self, table: str, values: Mapping[str, Any], key: tuple[str, ...]) -> None:
        """Insert the row, or update the one with the same `key` (columns not given are kept)."""
        changes = ", ".join(f'"{k}" = excluded."{k}"' for k in values if k not in key)
        action = f"do update set {changes}" if changes else "do nothing"
        on = ", ".join(f'"{k}"' for k in key)
        self.execute(
            f"insert into {table} ({_names(values)}) values ({_binds(values)}) on conflict ({on}) {action}", values
        )

    def update(self, table: str, key: Mapping[str, Any], values: Mapping[str, Any], *, also: str = "") -> int:
        """Set `values` (and `also`, SQL assignments) on the row of `key`; the rows changed."""
        sets = ", ".join([*(f'"{k}" = :v_{k}' for k in values), *([also] if also else [])])
        if not sets:
            return 0
        where = " and ".join(f'"{k}" = :k_{k}' for k in key)
        params = {**{f"v_{k}": v for k, v in values.items()}, **{f"k_{k}": v for k, v in key.items()}}
        return self.execute(f"update {table} set {sets} where {where}", params).rowcount


def one_of(name: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """`in (…)` with one named parameter per value, the same on both databases:
    ("(:name0, :name1)", {"name0": …, "name1": …})."""
    params = {f"{name}{i}": value for i, value in enumerate(values)}
    return f"({', '.join(f':{k}' for k in params)})", params


def _names(values: Mapping[str, Any]) -> str:
    return ", ".join(f'"{k}"' for k in values)


def _binds(values: Mapping[str, Any]) -> str:
    return ", ".join(f":{k}" for k in values)
