"""Guards on the seams: who may import what, who may read the environment and the time."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PURE = ["bot/policy.py", "bot/commands.py", "bot/messages.py", "bot/replies.py", "bot/rules.py",
        "bot/durations.py", "bot/catalog.py", "bot/reports.py", "bot/text.py", "bot/pricing.py",
        "bot/records.py", "bot/slack/blocks.py", "bot/slack/home.py"]  # fmt: skip
IO_MODULES = {"httpx", "requests", "slack_bolt", "slack_sdk", "sqlite_utils", "sqlite3", "apscheduler", "os", "subprocess", "socket"}


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def full_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("path", sorted((ROOT / "providers").glob("*.py")), ids=lambda p: p.name)
def test_providers_never_import_the_bot_slack_sqlite_or_the_scheduler(path: Path) -> None:
    assert not imports(path) & {"bot", "slack_bolt", "slack_sdk", "sqlite_utils", "sqlite3", "apscheduler"}


@pytest.mark.parametrize("name", PURE)
def test_pure_modules_import_no_io(name: str) -> None:
    modules = full_imports(ROOT / name)
    heavy = {m for m in modules if m.split(".")[0] in IO_MODULES}
    stateful = {m for m in modules if m in ("bot.engine", "bot.store", "bot.wiring", "bot.chatops")}
    assert not heavy and not stateful, (heavy, stateful)


def test_only_the_entry_point_reads_the_environment() -> None:
    readers = [
        str(p.relative_to(ROOT)) for p in [*ROOT.glob("bot/**/*.py"), *ROOT.glob("providers/*.py")]
        if "os.environ" in p.read_text() or "getenv(" in p.read_text()
    ]  # fmt: skip
    assert readers == ["bot/__main__.py"]


def test_only_the_clock_reads_the_time() -> None:
    readers = [
        str(p.relative_to(ROOT)) for p in [*ROOT.glob("bot/**/*.py"), *ROOT.glob("providers/*.py")]
        if "datetime.now(" in p.read_text() or "utcnow(" in p.read_text()
    ]  # fmt: skip
    assert readers == ["bot/clock.py"]
