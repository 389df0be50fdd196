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

A PostgreSQL URL may end with `?schema=name`: the store then lives in that schema (created at
first use; `search_path` set on each connection, so every unqualified name is in it), and its
write lock is that schema's own — the hosted edition keeps each workspace in one.
"""

from __future__ import annotations

import re
import threading
import weakref
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.pool import QueuePool, SingletonThreadPool

from bot.store.files import StoreUnusable, masked_location, unusable
from bot.store.statements import Tx

WRITE_LOCK = 7_140_211  # the advisory lock every PostgreSQL write holds ("paastis", roughly)
POSTGRES = ("postgres", "postgresql", "postgresql+psycopg")
EXAMPLE_URL = "postgresql://user:password@host:5432/name"
FIX = "check the host, port, user, password and database name in DATABASE_URL, and that the database runs"
SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
StoreError = SQLAlchemyError  # what a database that fails raises (unreachable, full, refused)


@dataclass(frozen=True)
class Location:
    """Where the database is: a SQLite file (`path`) or a PostgreSQL URL (`url`)."""

    url: URL
    path: Path | None = None
    schema: str | None = None  # PostgreSQL: the schema the store lives in (None: the default, public)

    @property
    def kind(self) -> str:
        return "sqlite" if self.path is not None else "postgresql"

    def masked(self) -> str:
        """For people and logs: the file, or the URL with its password hidden."""
        if self.path is not None:
            return str(self.path)
        return masked_location(self.url.render_as_string(False)) + (f"?schema={self.schema}" if self.schema else "")

    @property
    def write_lock(self) -> int:
        """The advisory lock of this store's writes: one per schema."""
        return WRITE_LOCK if self.schema is None else zlib.crc32(self.schema.encode())


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
    shown = url.render_as_string(hide_password=True)
    if not url.database:
        raise StoreUnusable(f"DATABASE_URL {shown} names no database: end it with /name ({EXAMPLE_URL})")
    schema = url.query.get("schema")
    if schema is not None and (not isinstance(schema, str) or not SCHEMA_NAME.match(schema)):
        raise StoreUnusable(f"DATABASE_URL {shown}: its schema must be one lowercase name such as ?schema=paastis")
    return Location(url.difference_update_query(["schema"]), schema=schema)


class Database:
    """The engine of one location, its write lock and its per-thread transaction."""

    def __init__(self, where: Path | str | Location, *, shared: bool = False) -> None:
        """`shared`: used by many threads at once (the hosted registry, which every workspace's
        threads read): on SQLite a few connections taken in turn, instead of one per thread —
        past its 64, SingletonThreadPool closes a connection another thread may be using."""
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
            pooling = (
                {"poolclass": QueuePool, "pool_size": 8, "max_overflow": 0}
                if shared
                else {
                    "poolclass": SingletonThreadPool,
                    "pool_size": 64,
                }  # one connection per thread, as SQLite likes it
            )
            self.engine = create_engine(
                self.location.url,
                paramstyle="named",  # binds by name, as psycopg's: the statements' parameters go as they are
                connect_args={"timeout": 30, "check_same_thread": False},
                **pooling,
            )
            event.listen(self.engine, "connect", _sqlite_connected)
        else:
            schema = self.location.schema
            self.engine = create_engine(
                self.location.url,
                pool_size=5,
                max_overflow=10,
                pool_pre_ping=True,
                connect_args={
                    "connect_timeout": 10,
                    "application_name": "paastis",
                    **({"options": f"-c search_path={schema}"} if schema else {}),
                },
            )
        event.listen(self.engine, "connect", lambda conn, _: connections.append(conn))  # never `self`: see below
        if self.location.schema:
            with self._connected() as tx:  # one instance creates it, the others wait and find it
                tx.execute("select pg_advisory_xact_lock(:lock)", {"lock": WRITE_LOCK})
                tx.execute(f'create schema if not exists "{self.location.schema}"')
                tx.end(commit=True)
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
                        tx.execute("select pg_advisory_xact_lock(:lock)", {"lock": self.location.write_lock})
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
    def held(self, key: str) -> Iterator[None]:
        """A lock of its own for `key` across instances, held while the block runs — never the
        write lock, which others need meanwhile. On PostgreSQL an advisory lock of the write
        lock's key space, in a transaction of its own; on SQLite (one instance) nothing."""
        if self.kind != "postgresql":
            yield
            return
        with self._connected() as tx:
            tx.execute(
                "select pg_advisory_xact_lock(:space, hashtext(:key))", {"space": self.location.write_lock, "key": key}
            )
            try:
                yield
            finally:
                tx.end(commit=False)

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
