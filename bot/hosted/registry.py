"""The hosted registry: its own small SQLite file (created 0600), apart from the workspaces'
databases. Every method takes the team it works for; nothing here reads another team's rows.

    oauth_states    one row per "Add to Slack" page shown; consumed once, within 10 minutes
    installations   each workspace's Slack installation, sealed (tokens encrypted, bot.hosted.crypto)
    workspaces      plan, note, channel, idle time, rules YAML; uninstalled_at when removed
    connections     provider connections: options sealed, a hint (last 4 characters) in clear
    known_apps      every app a workspace's providers listed, in the order first seen, and
                    which ones a user pinned (`monitor`) or excluded (`unmonitor`)

Writes that check a limit open with BEGIN IMMEDIATE: the check and the insert run under the
database's write lock, so 20 simultaneous connects against a limit of 3 make 3 (a plain
BEGIN makes most of them fail with "database is locked", research/hosted.md §2.4).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.hosted.plans import DEFAULT_PLAN, KnownApp

TEAM_ID = re.compile(r"^[TE][A-Z0-9]{2,30}$")
SCHEMA = """
CREATE TABLE IF NOT EXISTS oauth_states (state TEXT PRIMARY KEY, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS installations (team_id TEXT PRIMARY KEY, sealed TEXT NOT NULL, saved_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS workspaces (
    team_id TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '', installer TEXT,
    plan TEXT NOT NULL DEFAULT 'free', note TEXT, channel TEXT, idle_time TEXT, rules TEXT NOT NULL DEFAULT '',
    installed_at TEXT NOT NULL, uninstalled_at TEXT, asleep_at_uninstall TEXT
);
CREATE TABLE IF NOT EXISTS connections (
    team_id TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL, sealed TEXT NOT NULL, hint TEXT NOT NULL,
    created_at TEXT NOT NULL, PRIMARY KEY (team_id, name)
);
CREATE TABLE IF NOT EXISTS known_apps (
    team_id TEXT NOT NULL, provider TEXT NOT NULL, app_id TEXT NOT NULL, name TEXT NOT NULL,
    seen INTEGER NOT NULL, pinned_at TEXT, excluded INTEGER NOT NULL DEFAULT 0, shown INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, provider, app_id)
);
"""
TEAM_TABLES = ("installations", "workspaces", "connections", "known_apps")


def valid_team(team_id: object) -> str:
    """A Slack team id (T…, E…), or ValueError: it names files, so nothing else gets through."""
    if not isinstance(team_id, str) or not TEAM_ID.match(team_id):
        raise ValueError(f"not a Slack team id: {team_id!r}")
    return team_id


class QuotaReached(Exception):
    """A limit of the workspace's plan; the message says which and how to go on."""


@dataclass(frozen=True)
class Workspace:
    team_id: str
    name: str
    installer: str | None
    plan: str
    note: str | None
    channel: str | None
    idle_time: str | None
    rules: str
    installed_at: str
    uninstalled_at: str | None
    asleep_at_uninstall: str | None


@dataclass(frozen=True)
class Connection:
    team_id: str
    name: str
    kind: str
    sealed: str
    hint: str
    created_at: str


class Registry:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)
        path.chmod(0o600)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        return db

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, begun IMMEDIATE (the write lock first, then the reads)."""
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            yield db
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        finally:
            db.close()

    def _read(self, sql: str, *args: object) -> list[sqlite3.Row]:
        db = self._connect()
        try:
            return db.execute(sql, args).fetchall()
        finally:
            db.close()

    # -- OAuth states ----------------------------------------------------------------------
    def issue_state(self, state: str, expires_at: float) -> None:
        with self._write() as db:
            db.execute("INSERT INTO oauth_states VALUES (?, ?)", (state, expires_at))

    def consume_state(self, state: str, now: float) -> bool:
        """True once for a state issued and not expired; never again."""
        with self._write() as db:
            db.execute("DELETE FROM oauth_states WHERE expires_at < ?", (now,))
            return db.execute("DELETE FROM oauth_states WHERE state = ?", (state,)).rowcount == 1

    # -- installations ---------------------------------------------------------------------
    def save_installation(self, team_id: str, sealed: str, name: str, installer: str | None, now: str) -> None:
        """The installation (a reinstall replaces it) and the workspace, installed again if it was removed."""
        with self._write() as db:
            db.execute("INSERT OR REPLACE INTO installations VALUES (?, ?, ?)", (valid_team(team_id), sealed, now))
            db.execute(
                "INSERT INTO workspaces (team_id, name, installer, plan, installed_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (team_id) DO UPDATE SET name = excluded.name, uninstalled_at = NULL, "
                "asleep_at_uninstall = NULL",
                (team_id, name, installer, DEFAULT_PLAN, now),
            )

    def installation(self, team_id: str) -> str | None:
        rows = self._read("SELECT sealed FROM installations WHERE team_id = ?", team_id)
        return rows[0]["sealed"] if rows else None

    def uninstall(self, team_id: str, now: str, asleep: str) -> bool:
        """Tokens and credentials deleted at once; the workspace marked for purge. False when
        it was already uninstalled (Slack retries, and tokens_revoked may follow)."""
        with self._write() as db:
            db.execute("DELETE FROM installations WHERE team_id = ?", (team_id,))
            db.execute("DELETE FROM connections WHERE team_id = ?", (team_id,))
            return (
                db.execute(
                    "UPDATE workspaces SET uninstalled_at = ?, asleep_at_uninstall = ? "
                    "WHERE team_id = ? AND uninstalled_at IS NULL",
                    (now, asleep, team_id),
                ).rowcount
                == 1
            )

    def purge(self, team_id: str) -> None:
        """Every row of the team, in every table."""
        with self._write() as db:
            for table in TEAM_TABLES:
                db.execute(f"DELETE FROM {table} WHERE team_id = ?", (team_id,))

    # -- workspaces ------------------------------------------------------------------------
    def workspace(self, team_id: str) -> Workspace | None:
        rows = self._read("SELECT * FROM workspaces WHERE team_id = ?", team_id)
        return Workspace(**dict(rows[0])) if rows else None

    def workspaces(self) -> list[Workspace]:
        return [Workspace(**dict(r)) for r in self._read("SELECT * FROM workspaces ORDER BY team_id")]

    def set_plan(self, team_id: str, plan: str, note: str | None) -> bool:
        with self._write() as db:
            sql = "UPDATE workspaces SET plan = ?, note = ? WHERE team_id = ?"
            return db.execute(sql, (plan, note, team_id)).rowcount == 1

    def set_settings(self, team_id: str, channel: str | None, idle_time: str | None, rules: str) -> None:
        with self._write() as db:
            sql = "UPDATE workspaces SET channel = ?, idle_time = ?, rules = ? WHERE team_id = ?"
            db.execute(sql, (channel, idle_time, rules, team_id))

    # -- connections -----------------------------------------------------------------------
    def connections(self, team_id: str) -> list[Connection]:
        rows = self._read("SELECT * FROM connections WHERE team_id = ? ORDER BY created_at, name", team_id)
        return [Connection(**dict(r)) for r in rows]

    def save_connection(self, connection: Connection, limit: int | None) -> bool:
        """Add (within `limit` connections: QuotaReached beyond) or replace one of the same
        name; True when it was added."""
        with self._write() as db:
            key = (connection.team_id, connection.name)
            if db.execute("SELECT 1 FROM connections WHERE team_id = ? AND name = ?", key).fetchone():
                sql = "UPDATE connections SET kind = ?, sealed = ?, hint = ? WHERE team_id = ? AND name = ?"
                db.execute(sql, (connection.kind, connection.sealed, connection.hint, *key))
                return False
            count = db.execute("SELECT count(*) FROM connections WHERE team_id = ?", key[:1]).fetchone()[0]
            if limit is not None and count >= limit:
                raise QuotaReached(f"{count} of {limit} provider connection(s)")
            db.execute("INSERT INTO connections VALUES (?, ?, ?, ?, ?, ?)", tuple(connection.__dict__.values()))
            return True

    def remove_connection(self, team_id: str, name: str) -> bool:
        with self._write() as db:
            return db.execute("DELETE FROM connections WHERE team_id = ? AND name = ?", (team_id, name)).rowcount == 1

    # -- apps known, pinned, excluded ------------------------------------------------------
    def record_seen(self, team_id: str, apps: list[tuple[str, str, str]]) -> None:
        """(provider, app id, name) of the apps a provider listed; new ones ranked after the rest."""
        with self._write() as db:
            top = db.execute("SELECT coalesce(max(seen), 0) FROM known_apps WHERE team_id = ?", (team_id,)).fetchone()
            rank = top[0]
            for provider, app_id, name in apps:
                rank += 1
                db.execute(
                    "INSERT INTO known_apps (team_id, provider, app_id, name, seen) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT DO UPDATE SET name = excluded.name",
                    (team_id, provider, app_id, name, rank),
                )

    def known_apps(self, team_id: str) -> list[KnownApp]:
        rows = self._read("SELECT * FROM known_apps WHERE team_id = ?", team_id)
        return [
            KnownApp(
                r["provider"], r["app_id"], r["name"], r["seen"], r["pinned_at"], bool(r["excluded"]), bool(r["shown"])
            )
            for r in rows
        ]

    def mark_shown(self, team_id: str, provider: str, app_ids: set[str]) -> None:
        """Which apps of that provider the workspace's Paastis manages now."""
        with self._write() as db:
            db.execute("UPDATE known_apps SET shown = 0 WHERE team_id = ? AND provider = ?", (team_id, provider))
            db.executemany(
                "UPDATE known_apps SET shown = 1 WHERE team_id = ? AND provider = ? AND app_id = ?",
                [(team_id, provider, app_id) for app_id in app_ids],
            )

    def choose(self, team_id: str, provider: str, app_id: str, *, pinned_at: str | None, excluded: bool) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE known_apps SET pinned_at = ?, excluded = ? WHERE team_id = ? AND provider = ? AND app_id = ?",
                (pinned_at, int(excluded), team_id, provider, app_id),
            )

    # -- key rotation ----------------------------------------------------------------------
    def reseal(self, rotate) -> int:
        """Every sealed value encrypted again by `rotate`; how many."""
        count = 0
        with self._write() as db:
            for table, key in (("installations", "team_id"), ("connections", "team_id, name")):
                for row in db.execute(f"SELECT {key}, sealed FROM {table}").fetchall():
                    where = " AND ".join(f"{k.strip()} = ?" for k in key.split(","))
                    values = [row[k.strip()] for k in key.split(",")]
                    db.execute(f"UPDATE {table} SET sealed = ? WHERE {where}", (rotate(row["sealed"]), *values))
                    count += 1
        return count
