"""A real PostgreSQL for the tests: one throw-away cluster per test session (initdb + pg_ctl
of the Debian `postgresql` package, on a temporary folder and a free loopback port), a new
database per test. As root, the server runs as the `postgres` user (it refuses root)."""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

MISSING = "PostgreSQL is not installed (apt-get install postgresql): its tests need initdb and pg_ctl"


def binaries() -> Path | None:
    """The folder of initdb and pg_ctl: the newest /usr/lib/postgresql/*/bin, else PATH."""
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), reverse=True):
        if (folder / "pg_ctl").exists() and (folder / "initdb").exists():
            return folder
    found = shutil.which("pg_ctl")
    return Path(found).parent if found and shutil.which("initdb") else None


@dataclass
class Cluster:
    folder: Path
    port: int
    bin: Path
    durable: bool = False  # commits survive a crash (`pause()`): synchronous_commit on
    _names: itertools.count = field(default_factory=itertools.count)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A new, empty database; its URL."""
        name = f"t{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def pause(self) -> None:
        """Stop the server as a crash or an outage does (every connection cut); `resume()` starts it again."""
        _run(self.bin / "pg_ctl", "-D", self.folder / "data", "-m", "immediate", "-w", "stop")

    def resume(self) -> None:
        _start(self.bin, self.folder, self.port, self.durable)

    def stop(self) -> None:
        _run(self.bin / "pg_ctl", "-D", self.folder / "data", "-m", "immediate", "stop", check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


def _start(bin_folder: Path, folder: Path, port: int, durable: bool) -> None:
    """Fast and unsafe for the tests (no fsync), but with `durable`, what was committed
    survives a crash of the server (not of the machine), as on a real database."""
    commits = "on" if durable else "off"
    options = f"-p {port} -k {folder} -h 127.0.0.1 -c fsync=off -c full_page_writes=off -c synchronous_commit={commits}"
    _run(bin_folder / "pg_ctl", "-D", folder / "data", "-o", options, "-l", folder / "log", "-w", "start")


def start_cluster(bin_folder: Path, *, durable: bool = False) -> Cluster:
    folder = Path(tempfile.mkdtemp(prefix="paastis-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = folder / "data"
    _run(bin_folder / "initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
    _start(bin_folder, folder, port, durable)
    return Cluster(folder, port, bin_folder, durable)


def _run(*command: object, check: bool = True) -> None:
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run([*as_postgres, *map(str, command)], check=check, capture_output=True, timeout=60)
