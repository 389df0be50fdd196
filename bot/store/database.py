"""Where the store lives and how it is spoken to: one SQLAlchemy engine on SQLite (PAASTIS_DB,
the default: a file) or PostgreSQL (DATABASE_URL, as the platforms' add-ons set it), and
one discipline for both.

Every write is a transaction that holds the database's one write lock from its first
statement: `BEGIN IMMEDIATE` on SQLite, `pg_advisory_xact_lock(WRITE_LOCK)` on PostgreSQL.
So a read-then-write (a claim, a first start, a failure count) behaves the same on both,
whichever process or instance writes beside it; Paastis writes little, and short. Writes of
this process are serialised by one lock. A write inside a write joins it (a savepoint).

SQLite: one connection per thread, WAL journal, busy timeout, foreign keys; the file is
created 0600. PostgreSQL: a small pool (5 + 10), each connection checked before use.
SQL is written once, in the dialect both speak (`ON CONFLICT`, `RETURNING`, quoted names).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Dialect, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoResultFound, SQLAlchemyError
from sqlalchemy.pool import PoolProxiedConnection, SingletonThreadPool

from bot.store.files import StoreUnusable, masked_location, unusable

WRITE_LOCK = 7_140_211  # the advisory lock every PostgreSQL write holds ("paastis", roughly)
POSTGRES = ("postgres", "postgresql", "postgresql+psycopg")
EXAMPLE_URL = "postgresql://user:password@host:5432/name"
FIX = "check the host, port, user, password and database name in DATABASE_URL, and that the database runs"
StoreError = SQLAlchemyError  # what a database that fails raises (unreachable, full, refused)


@dataclass(frozen=True)
class Location:
    """Where the database is: a SQLite file (`path`) or a PostgreSQL URL (`url`)."""

    url: URL
    path: Path | None = None

    @property
    def kind(self) -> str:
        return "sqlite" if self.path is not None else "postgresql"

    def masked(self) -> str:
        """For people and logs: the file, or the URL with its password hidden."""
        return str(self.path) if self.path is not None else masked_location(self.url.render_as_string(False))


def locate(where: Path | str) -> Location:
    """A SQLite path, `sqlite:///path`, or `postgres(ql)://…`; a StoreUnusable naming the fix otherwise."""
    value = str(where).strip()
    scheme = value.partition("://")[0].lower() if "://" in value else ""
    if not scheme:
        return Location(URL.create("sqlite", database=value), Path(value))
    if scheme == "sqlite":
        path = value[len("sqlite:///") :] if value.startswith("sqlite:///") else ""
        if not path:
            raise StoreUnusable("the SQLite URL has no path: write it sqlite:///path/to/paastis.db")
        return Location(URL.create("sqlite", database=path), Path(path))
    if scheme not in POSTGRES:
        raise StoreUnusable(
            f"DATABASE_URL starts with {scheme}://, which Paastis cannot use: give a PostgreSQL URL ({EXAMPLE_URL})"
        )
    try:
        url = make_url(value).set(drivername="postgresql+psycopg")
    except (ArgumentError, ValueError):
        raise StoreUnusable(f"DATABASE_URL is not a valid URL: write it {EXAMPLE_URL}") from None
    if not url.database:
        shown = url.render_as_string(hide_password=True)
        raise StoreUnusable(f"DATABASE_URL {shown} names no database: end it with /name ({EXAMPLE_URL})")
    return Location(url)


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


class Database:
    """The engine of one location, its write lock and its per-thread transaction."""

    def __init__(self, where: Path | str | Location) -> None:
        self.location = where if isinstance(where, Location) else locate(where)
        self.kind = self.location.kind
        self.where = self.location.masked()
        self.write_problem: str | None = None  # why the last write failed (a full disk), None once one succeeds
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self.connections: list[Any] = []  # the driver's connections this engine opened
        connections = self.connections
        if self.location.path is not None:
            problem = unusable(self.location.path, create=True)
            if problem:
                raise StoreUnusable(f"PAASTIS_DB {self.location.path} {problem}")
            self.engine = create_engine(
                self.location.url,
                poolclass=SingletonThreadPool,  # one connection per thread, as SQLite likes it
                paramstyle="named",  # binds by name, as psycopg's: the statements' parameters go as they are
                pool_size=64,
                connect_args={"timeout": 30, "check_same_thread": False},
            )
            event.listen(self.engine, "connect", _sqlite_connected)
        else:
            self.engine = create_engine(
                self.location.url,
                pool_size=5,
                max_overflow=10,
                pool_pre_ping=True,
                connect_args={"connect_timeout": 10, "application_name": "paastis"},
            )
        event.listen(self.engine, "connect", lambda conn, _: connections.append(conn))  # never `self`: see below
        # a database dropped without close() still closes what it opened, once it is collected
        weakref.finalize(self, self.engine.dispose)

    def close(self) -> None:
        """Close every connection, even while another thread is opening one (the pool's own
        dispose would then fail: "set changed size during iteration")."""
        self.engine.dispose(close=False)  # a new, empty pool: the old one is given nothing more
        for connection in list(self.connections):  # a copy: another thread may be connecting
            connection.close()
        self.connections.clear()
        self._local = threading.local()

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """A write transaction holding the write lock; a nested one joins it (a savepoint)."""
        current: Tx | None = getattr(self._local, "tx", None)
        if current is not None:
            current.execute("savepoint paastis")  # the innermost of that name is the one released
            try:
                yield current
            except BaseException:
                current.execute("rollback to savepoint paastis")
                current.execute("release savepoint paastis")
                raise
            current.execute("release savepoint paastis")
            return
        with self._write_lock:
            try:
                with self._connected() as tx:
                    if self.kind == "sqlite":  # the write lock first: another process writing makes this
                        tx.execute("BEGIN IMMEDIATE")  # wait (busy timeout) instead of failing midway
                    else:
                        tx.execute("select pg_advisory_xact_lock(:lock)", {"lock": WRITE_LOCK})
                    self._local.tx = tx
                    try:
                        yield tx
                    except BaseException:
                        tx.end(commit=False)
                        raise
                    finally:
                        self._local.tx = None
                    tx.end(commit=True)
            except DBAPIError as exc:
                if not _contention(exc):  # contention is no readiness problem; a full disk, a lost database are
                    self.write_problem = problem_of(exc) + (f" ({FIX})" if self.kind == "postgresql" else "")
                raise
            self.write_problem = None

    @contextmanager
    def reading(self, *, single: bool = False) -> Iterator[Tx]:
        """A connection to read with: the thread's transaction when one is open. Its reads
        see one snapshot; `single`: one statement is read, which needs no transaction."""
        current: Tx | None = getattr(self._local, "tx", None)
        if current is not None:
            yield current
            return
        with self._connected() as tx:
            if self.kind == "sqlite" and not single:  # (PostgreSQL's driver begins by itself)
                tx.execute("BEGIN")  # ended as the pool takes the connection back
            yield tx

    @contextmanager
    def _connected(self) -> Iterator[Tx]:
        """A connection of the pool, given back (its transaction rolled back) at the end."""
        dialect = self.engine.dialect
        try:
            connection = self.engine.raw_connection()
        except dialect.loaded_dbapi.Error as exc:  # unreachable, refused: as SQLAlchemy says it
            raise DBAPIError.instance(None, None, exc, dialect.loaded_dbapi.Error, dialect=dialect) from exc
        try:
            yield Tx(connection, dialect)
        finally:
            connection.close()

    def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        with self.reading(single=True) as tx:
            return tx.rows(sql, **params)

    def one(self, sql: str, **params: Any) -> dict[str, Any] | None:
        with self.reading(single=True) as tx:
            return tx.one(sql, **params)


def _sqlite_connected(conn: Any, _record: Any) -> None:
    conn.isolation_level = None  # transactions are begun by Database (BEGIN IMMEDIATE), not by the driver
    for pragma in ("busy_timeout = 30000", "foreign_keys = ON", "synchronous = NORMAL", "journal_mode = WAL"):
        conn.execute(f"PRAGMA {pragma}")


def _contention(exc: DBAPIError) -> bool:
    return "locked" in str(exc.orig)


def problem_of(exc: BaseException) -> str:
    """A driver's error in one line, without the SQL (for readiness, logs and people)."""
    original = getattr(exc, "orig", None) or exc
    return (str(original).strip().splitlines() or [type(original).__name__])[0]
