"""Whether a database file can be used, told before anything is written (check-config asks too)."""

from __future__ import annotations

import os
import re
from pathlib import Path


class StoreUnusable(Exception):
    """The database file cannot be used: a sentence naming the path and what to fix."""


SQLITE_HEADER = b"SQLite format 3\x00"


def masked_location(where: Path | str) -> str:
    """A database's path, or its URL with the password hidden (for people and logs)."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", str(where))


def unusable(path: Path, *, create: bool = False) -> str | None:
    """Why the database file at `path` cannot be used (None: it can). `create` makes the
    file (0600, its folders too) when it is missing; without it nothing is written."""
    if path.is_dir():
        return "is a directory: point PAASTIS_DB at a file (e.g. /data/paastis.db)"
    if path.exists():
        try:
            with path.open("r+b") as file:
                header = file.read(len(SQLITE_HEADER))
        except OSError as exc:
            return f"cannot be read and written ({exc.strerror}): fix its permissions or point PAASTIS_DB elsewhere"
        if header and header != SQLITE_HEADER:
            return "is not a SQLite database: point PAASTIS_DB at a new path or at Paastis's database"
        if not os.access(path.parent, os.W_OK):
            return f"is in {path.parent}, where SQLite cannot write its journal: make that folder writable"
        return None
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        return f"cannot be created: {folder} is not a writable folder"
    if create:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            pass
        except OSError as exc:
            return f"cannot be created ({exc.strerror})"
    return None
