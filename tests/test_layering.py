"""Guards on the seams: which package may import what, who reads the environment and the time.

providers/            never imports bot/, Slack, a database library or the scheduler
bot/policy/           pure: no engine, chat, Slack, store (but its rows), no I/O library
bot/store/            no engine, chat or Slack; the only one to speak to the database (SQLAlchemy, psycopg)
bot/engine/           the sole caller of providers' actions; no chat, no Slack
bot/chat/             transport-neutral: no Slack
bot/slack/            the Bolt adapter: no providers (it speaks to chat/ and engine/)
bot/visits/           wake on request (proxy, Sablier API): the engine, never providers' actions nor Slack
bot/hosted/           the hosted edition, around the single-workspace Paastis: only the
                      entry point imports it; the rest of the bot knows of one workspace
*/fake_api/           only the demo, the tests and other fakes import them
everything            no import cycle (type-only imports count: they are cycles waiting)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
IO_MODULES = {
    "httpx",
    "requests",
    "slack_bolt",
    "slack_sdk",
    "sqlite_utils",
    "sqlite3",
    "sqlalchemy",
    "psycopg",
    "apscheduler",
    "os",
    "subprocess",
    "socket",
    "waitress",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted([*ROOT.glob("bot/**/*.py"), *ROOT.glob("providers/**/*.py")])}


def imported(path: Path) -> set[str]:
    """Every module `path` imports, anywhere in it (functions and TYPE_CHECKING blocks too),
    as absolute dotted names; `from package import module` names the module."""
    found: set[str] = set()
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in MODULES}
    return found


def modules_under(*prefixes: str) -> Iterator[str]:
    return (m for m in MODULES if any(m == p or m.startswith(p + ".") for p in prefixes))


def offending(prefixes: tuple[str, ...], forbidden: tuple[str, ...]) -> dict[str, set[str]]:
    found = {}
    for name in modules_under(*prefixes):
        bad = {m for m in imported(MODULES[name]) if any(m == f or m.startswith(f + ".") for f in forbidden)}
        if bad:
            found[name] = bad
    return found


DATABASE_LIBRARIES = ("sqlite_utils", "sqlite3", "sqlalchemy", "psycopg")


def test_providers_never_import_the_bot_slack_a_database_or_the_scheduler() -> None:
    assert offending(("providers",), ("bot", "slack_bolt", "slack_sdk", *DATABASE_LIBRARIES, "apscheduler")) == {}


def test_only_the_store_speaks_to_the_database() -> None:
    """Others catch its failures as `bot.store.database.StoreError`, never a driver's class."""
    found = offending(("bot", "providers"), DATABASE_LIBRARIES)
    assert {name for name in found if not name.startswith("bot.store.")} == set()
    assert "bot.store.database" in found  # the guard sees them where they are


def test_policy_is_pure() -> None:
    # APScheduler's triggers are pure functions of `now`: schedules may use them, not the rest of it
    io = (
        *(m for m in IO_MODULES if m != "apscheduler"),
        "apscheduler.schedulers",
        "apscheduler.executors",
        "apscheduler.jobstores",
    )
    forbidden = (
        "bot.engine",
        "bot.chat",
        "bot.slack",
        "bot.store.store",
        "bot.store.migrations",
        "bot.wiring",
        "bot.config",
        *io,
    )
    assert offending(("bot.policy",), forbidden) == {}


PURE = (
    "bot.chat.commands",
    "bot.chat.messages",
    "bot.chat.answers",
    "bot.chat.report",
    "bot.chat.plain_text",
    "bot.store.rows",
    "bot.slack.blocks",
    "bot.slack.home",
)


@pytest.mark.parametrize("name", PURE)
def test_renderers_and_parsers_import_no_io(name: str) -> None:
    """They read values: of the engine, only a wake's status (wake_jobs' Phase, TicketProgress)."""
    engine_parts = tuple(m for m in modules_under("bot.engine") if m not in ("bot.engine", "bot.engine.wake_jobs"))
    stateful = (
        *engine_parts,
        "bot.store.store",
        "bot.store.migrations",
        "bot.wiring",
        "bot.chat.chatops",
        "bot.chat.notifier",
        "bot.config",
    )
    assert offending((name,), (*IO_MODULES, *stateful)) == {}


def test_the_store_knows_nothing_of_the_engine_chat_or_slack() -> None:
    assert offending(("bot.store",), ("bot.engine", "bot.chat", "bot.slack", "bot.wiring")) == {}


def test_the_engine_knows_nothing_of_chat_or_slack() -> None:
    assert offending(("bot.engine",), ("bot.chat", "bot.slack", "slack_bolt", "slack_sdk", "bot.wiring")) == {}


def test_chat_is_transport_neutral() -> None:
    assert offending(("bot.chat",), ("bot.slack", "slack_bolt", "slack_sdk", "bot.wiring")) == {}


def test_visits_use_the_engine_never_providers_nor_slack() -> None:
    forbidden = ("providers.scalingo", "providers.clever_cloud", "providers.fake", "providers.registry", "slack_bolt")
    assert offending(("bot.visits",), (*forbidden, "slack_sdk", "bot.store.store")) == {}
    assert offending(("bot.visits",), ("bot.slack",)) == {"bot.visits.server": {"bot.slack.app"}}


def test_slack_never_imports_providers() -> None:
    assert offending(("bot.slack",), ("providers",)) == {}


def test_only_the_entry_point_knows_of_the_hosted_edition() -> None:
    importers = {
        name for name, path in MODULES.items() if not name.startswith("bot.hosted") and _imports(path, "bot.hosted")
    }
    assert importers == {"bot.__main__"}


def _imports(path: Path, prefix: str) -> bool:
    return any(m == prefix or m.startswith(prefix + ".") for m in imported(path))


def test_only_the_demo_and_other_fakes_import_fake_apis() -> None:
    users = {
        name: {m for m in imported(path) if ".fake_api" in m}
        for name, path in MODULES.items()
        if ".fake_api" not in name and name != "bot.demo"
    }
    assert {name: mods for name, mods in users.items() if mods} == {}


def test_no_import_cycle() -> None:
    graph = {name: {m for m in imported(path) if m in MODULES and m != name} for name, path in MODULES.items()}
    # a package's __init__ is imported on the way to its submodules: not an edge back to it
    graph = {name: {m for m in deps if not name.startswith(m + ".")} for name, deps in graph.items()}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], node, nxt] if nxt in stack else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*stack, node])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [])
    assert cycles == []


def test_only_the_entry_point_reads_the_environment() -> None:
    readers = [
        name for name, path in MODULES.items() if "os.environ" in path.read_text() or "getenv(" in path.read_text()
    ]
    assert readers == ["bot.__main__"]


def test_only_the_clock_reads_the_time() -> None:
    readers = [
        name for name, path in MODULES.items() if "datetime.now(" in path.read_text() or "utcnow(" in path.read_text()
    ]
    assert readers == ["bot.clock"]
