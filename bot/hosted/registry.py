"""The hosted registry: its own small SQLite file (created 0600), or the public schema of the
PostgreSQL of DATABASE_URL, apart from the workspaces' stores; spoken to through the store's
Database (bot/store/database.py), one code path for both. Every method takes the team it
works for; nothing here reads another team's rows.

    oauth_states    one row per "Add to Slack" page shown; consumed once, within 10 minutes
    installations   each workspace's Slack installation, sealed (tokens encrypted, bot.hosted.crypto)
    workspaces      plan, note, channel, idle time, rules YAML; uninstalled_at when removed
    connections     provider connections: options sealed, a hint (last 4 characters) in clear
    known_apps      every app a workspace's providers listed, in the order first seen, and
                    which ones a user pinned (`monitor`) or excluded (`unmonitor`)
    slack_events    the ids of the Events API deliveries of the last hour (a retry is not acted on twice)

Every write holds the database's write lock from its first statement (BEGIN IMMEDIATE on
SQLite, an advisory lock on PostgreSQL): a limit's check and the insert run under it, so 20
simultaneous connects against a limit of 3 make 3, whichever instance each one reaches (a
plain BEGIN makes most of them fail with "database is locked", research/hosted.md §2.4).
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.hosted.plans import DEFAULT_PLAN, KnownApp
from bot.store.database import Database, Tx

TEAM_ID = re.compile(r"^[TE][A-Z0-9]{2,30}$")
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS oauth_states (state TEXT PRIMARY KEY, expires_at REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS installations (team_id TEXT PRIMARY KEY, sealed TEXT NOT NULL, saved_at TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS workspaces (
    team_id TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '', installer TEXT,
    plan TEXT NOT NULL DEFAULT 'free', note TEXT, channel TEXT, idle_time TEXT, rules TEXT NOT NULL DEFAULT '',
    installed_at TEXT NOT NULL, uninstalled_at TEXT, asleep_at_uninstall TEXT
    )""",
    """CREATE TABLE IF NOT EXISTS connections (
    team_id TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL, sealed TEXT NOT NULL, hint TEXT NOT NULL,
    created_at TEXT NOT NULL, PRIMARY KEY (team_id, name)
    )""",
    """CREATE TABLE IF NOT EXISTS known_apps (
    team_id TEXT NOT NULL, provider TEXT NOT NULL, app_id TEXT NOT NULL, name TEXT NOT NULL,
    seen INTEGER NOT NULL, pinned_at TEXT, excluded INTEGER NOT NULL DEFAULT 0, shown INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, provider, app_id)
    )""",
    "CREATE TABLE IF NOT EXISTS slack_events (event_id TEXT PRIMARY KEY, team_id TEXT NOT NULL, seen_at REAL NOT NULL)",
)
TEAM_TABLES = ("installations", "workspaces", "connections", "known_apps", "slack_events")
EVENT_MEMORY = 3600.0  # seconds an event id is remembered: Slack retries within about 5 minutes


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
    def __init__(self, where: Path | str) -> None:
        """`where`: the registry's SQLite file, or a PostgreSQL URL (DATABASE_URL)."""
        self.database = Database(where, shared=True)  # every workspace's threads use it; a file is created 0600
        with self.database.transaction() as tx:
            for statement in SCHEMA:
                tx.execute(statement)
        self._team_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)

    @contextmanager
    def team_lock(self, purpose: str, team_id: str) -> Iterator[None]:
        """Held by one thread of one instance at a time for this team and purpose (a token
        rotation): on PostgreSQL an advisory lock of its own key space, held by a transaction
        of its own for as long as the block runs — never the write lock, which others need."""
        with self._team_locks[f"{purpose}:{team_id}"], self.database.held(f"{purpose}:{team_id}"):
            yield

    def close(self) -> None:
        self.database.close()

    # -- OAuth states ----------------------------------------------------------------------
    def issue_state(self, state: str, expires_at: float) -> None:
        with self.database.transaction() as tx:
            tx.insert("oauth_states", {"state": state, "expires_at": expires_at})

    def consume_state(self, state: str, now: float) -> bool:
        """True once for a state issued and not expired; never again (whichever instance asks)."""
        with self.database.transaction() as tx:
            tx.execute("DELETE FROM oauth_states WHERE expires_at < :now", {"now": now})
            return tx.execute("DELETE FROM oauth_states WHERE state = :state", {"state": state}).rowcount == 1

    def first_delivery(self, event_id: str, team_id: str, now: float) -> bool:
        """The event recorded; False when it was before (by this instance or another)."""
        with self.database.transaction() as tx:
            tx.execute("DELETE FROM slack_events WHERE seen_at < :old", {"old": now - EVENT_MEMORY})
            sql = (
                "INSERT INTO slack_events (event_id, team_id, seen_at) VALUES (:event, :team, :now) "
                "ON CONFLICT (event_id) DO NOTHING"
            )
            return tx.execute(sql, {"event": event_id, "team": team_id, "now": now}).rowcount == 1

    # -- installations ---------------------------------------------------------------------
    def save_installation(self, team_id: str, sealed: str, name: str, installer: str | None, now: str) -> None:
        """The installation (a reinstall replaces it) and the workspace, installed again if it was removed."""
        with self.database.transaction() as tx:
            tx.upsert(
                "installations", {"team_id": valid_team(team_id), "sealed": sealed, "saved_at": now}, ("team_id",)
            )
            tx.execute(
                "INSERT INTO workspaces (team_id, name, installer, plan, installed_at) "
                "VALUES (:team, :name, :installer, :plan, :now) "
                "ON CONFLICT (team_id) DO UPDATE SET name = excluded.name, uninstalled_at = NULL, "
                "asleep_at_uninstall = NULL",
                {"team": team_id, "name": name, "installer": installer, "plan": DEFAULT_PLAN, "now": now},
            )

    def installation(self, team_id: str) -> str | None:
        row = self.database.one("SELECT sealed FROM installations WHERE team_id = :team", team=team_id)
        return row["sealed"] if row else None

    def uninstall(self, team_id: str, now: str, asleep: str) -> bool:
        """Tokens and credentials deleted at once; the workspace marked for purge. False when
        it was already uninstalled (Slack retries, and tokens_revoked may follow)."""
        with self.database.transaction() as tx:
            team = {"team": team_id}
            tx.execute("DELETE FROM installations WHERE team_id = :team", team)
            tx.execute("DELETE FROM connections WHERE team_id = :team", team)
            sql = (
                "UPDATE workspaces SET uninstalled_at = :now, asleep_at_uninstall = :asleep "
                "WHERE team_id = :team AND uninstalled_at IS NULL"
            )
            return tx.execute(sql, {**team, "now": now, "asleep": asleep}).rowcount == 1

    def purge(self, team_id: str, also: Callable[[Tx], None] | None = None) -> None:
        """Every row of the team, in every table; `also(tx)` in the same transaction."""
        with self.database.transaction() as tx:
            for table in TEAM_TABLES:
                tx.execute(f"DELETE FROM {table} WHERE team_id = :team", {"team": team_id})
            if also is not None:
                also(tx)

    # -- workspaces ------------------------------------------------------------------------
    def workspace(self, team_id: str) -> Workspace | None:
        row = self.database.one("SELECT * FROM workspaces WHERE team_id = :team", team=team_id)
        return Workspace(**row) if row else None

    def workspaces(self) -> list[Workspace]:
        return [Workspace(**r) for r in self.database.rows("SELECT * FROM workspaces ORDER BY team_id")]

    def set_plan(self, team_id: str, plan: str, note: str | None) -> bool:
        with self.database.transaction() as tx:
            return tx.update("workspaces", {"team_id": team_id}, {"plan": plan, "note": note}) == 1

    def set_settings(self, team_id: str, channel: str | None, idle_time: str | None, rules: str) -> None:
        with self.database.transaction() as tx:
            values = {"channel": channel, "idle_time": idle_time, "rules": rules}
            tx.update("workspaces", {"team_id": team_id}, values)

    # -- connections -----------------------------------------------------------------------
    def connections(self, team_id: str) -> list[Connection]:
        sql = "SELECT * FROM connections WHERE team_id = :team ORDER BY created_at, name"
        return [Connection(**r) for r in self.database.rows(sql, team=team_id)]

    def save_connection(self, connection: Connection, limit: int | None) -> bool:
        """Add (within `limit` connections: QuotaReached beyond) or replace one of the same
        name; True when it was added."""
        with self.database.transaction() as tx:
            key = {"team_id": connection.team_id, "name": connection.name}
            values = {"kind": connection.kind, "sealed": connection.sealed, "hint": connection.hint}
            if tx.update("connections", key, values):
                return False
            found = tx.one("SELECT count(*) AS n FROM connections WHERE team_id = :team", team=connection.team_id)
            count = found["n"] if found else 0
            if limit is not None and count >= limit:
                raise QuotaReached(f"{count} of {limit} provider connection(s)")
            tx.insert("connections", connection.__dict__)
            return True

    def remove_connection(self, team_id: str, name: str) -> bool:
        with self.database.transaction() as tx:
            sql = "DELETE FROM connections WHERE team_id = :team AND name = :name"
            return tx.execute(sql, {"team": team_id, "name": name}).rowcount == 1

    # -- apps known, pinned, excluded ------------------------------------------------------
    def record_seen(self, team_id: str, apps: list[tuple[str, str, str]]) -> None:
        """(provider, app id, name) of the apps a provider listed; new ones ranked after the rest."""
        with self.database.transaction() as tx:
            top = tx.one("SELECT coalesce(max(seen), 0) AS top FROM known_apps WHERE team_id = :team", team=team_id)
            rank = top["top"] if top else 0
            for provider, app_id, name in apps:
                rank += 1
                tx.execute(
                    "INSERT INTO known_apps (team_id, provider, app_id, name, seen) "
                    "VALUES (:team, :provider, :app, :name, :seen) "
                    "ON CONFLICT (team_id, provider, app_id) DO UPDATE SET name = excluded.name",
                    {"team": team_id, "provider": provider, "app": app_id, "name": name, "seen": rank},
                )

    def known_apps(self, team_id: str) -> list[KnownApp]:
        rows = self.database.rows("SELECT * FROM known_apps WHERE team_id = :team", team=team_id)
        return [
            KnownApp(
                r["provider"], r["app_id"], r["name"], r["seen"], r["pinned_at"], bool(r["excluded"]), bool(r["shown"])
            )
            for r in rows
        ]

    def mark_shown(self, team_id: str, provider: str, app_ids: set[str]) -> None:
        """Which apps of that provider the workspace's Paastis manages now."""
        with self.database.transaction() as tx:
            tx.update("known_apps", {"team_id": team_id, "provider": provider}, {"shown": 0})
            sql = "UPDATE known_apps SET shown = 1 WHERE team_id = :team AND provider = :provider AND app_id = :app"
            if app_ids:
                tx.execute(sql, [{"team": team_id, "provider": provider, "app": a} for a in sorted(app_ids)])

    def choose(self, team_id: str, provider: str, app_id: str, *, pinned_at: str | None, excluded: bool) -> None:
        with self.database.transaction() as tx:
            key = {"team_id": team_id, "provider": provider, "app_id": app_id}
            tx.update("known_apps", key, {"pinned_at": pinned_at, "excluded": int(excluded)})

    # -- key rotation ----------------------------------------------------------------------
    def reseal(self, rotate: Callable[[str], str]) -> int:
        """Every sealed value encrypted again by `rotate`; how many."""
        count = 0
        with self.database.transaction() as tx:
            for table, key in (("installations", ("team_id",)), ("connections", ("team_id", "name"))):
                for row in tx.rows(f"SELECT {', '.join(key)}, sealed FROM {table}"):
                    tx.update(table, {k: row[k] for k in key}, {"sealed": rotate(row["sealed"])})
                    count += 1
        return count
