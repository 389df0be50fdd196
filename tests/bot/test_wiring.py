"""The composition root builds each object once, with its collaborators: nothing is plugged
in or replaced afterwards (in wiring.py, nor where the Slack side is put together)."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from bot.config.loading import Settings
from bot.wiring import build
from providers import parse_spec

ROOT = Path(__file__).parents[2]
COMPOSERS = ("bot/wiring.py", "bot/slack/app.py", "bot/serve.py", "bot/slack/server.py")


def late_assignments(path: Path) -> list[str]:
    """Assignments to an attribute of anything but `self` (setattr calls too): an object
    changed after it was built."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr":
            found.append(f"{path.name}:{node.lineno} setattr")
        for target in targets:
            for part in ast.walk(target):
                own = isinstance(part, ast.Attribute) and isinstance(part.value, ast.Name) and part.value.id == "self"
                if isinstance(part, ast.Attribute) and not own:
                    found.append(f"{path.name}:{node.lineno} {ast.unparse(part)}")
    return found


@pytest.mark.parametrize("module", COMPOSERS)
def test_composers_never_assign_to_what_they_built(module: str) -> None:
    assert late_assignments(ROOT / module) == []


def test_what_build_made_cannot_be_replaced(tmp_path: Path) -> None:
    spec, problems = parse_spec("fake", {}, where="test")
    assert spec is not None, problems
    paastis = build(Settings(providers=(spec,), db_path=tmp_path / "p.db"))
    try:
        with pytest.raises(dataclasses.FrozenInstanceError):
            paastis.chatops = paastis.chatops  # type: ignore[misc]
        assert paastis.chatops.engine is paastis.engine
        assert not paastis.running  # built, not started
    finally:
        paastis.close()


def test_a_full_disk_makes_paastis_unready_and_is_told_once_then_its_end(tmp_path: Path) -> None:
    from bot.chat.messages import Message
    from bot.web import health_app

    posted: list[str] = []

    class Channel:
        def post(self, message: Message, channel: str | None) -> None:
            posted.append(message.text)

    spec, _ = parse_spec("fake", {}, where="test")
    settings = Settings(providers=(spec,), db_path=tmp_path / "p.db", sweep_cron="0 0 1 1 *")
    paastis = build(settings, poster=Channel())
    health = health_app(lambda: paastis.running, paastis.problems, None, paastis.facts)

    def healthz() -> tuple[str, str]:
        answer: list[str] = []
        body = b"".join(health({"PATH_INFO": "/healthz"}, lambda status, headers: answer.append(status)))
        return answer[0], body.decode()

    try:
        paastis.start()
        assert healthz() == ("200 OK", f"ok\nleader: yes ({paastis.store.owner})\ndatabase: sqlite writable\n")
        with paastis.store.database.reading() as db:  # this thread's connection: the disk is full for it from now on
            db.execute(f"PRAGMA max_page_count = {db.one('PRAGMA page_count')['page_count']}")
        with pytest.raises(OperationalError, match="full"):
            paastis.store.add_event(at=paastis.clock.now(), action="note", actor="t", details={"blob": "x" * 100_000})
        for _ in range(3):
            paastis.engine.check_readiness()

        status, body = healthz()
        assert status.startswith("503")
        assert "cannot be written: database or disk is full" in body
        assert body.endswith("\ndatabase: sqlite database or disk is full\n")
        assert [p for p in posted if "cannot write its database" in p] == [posted[-1]]

        with paastis.store.database.reading() as db:
            db.execute("PRAGMA max_page_count = 1073741823")  # space freed
        paastis.engine.discover()
        paastis.engine.check_readiness()
        assert healthz()[1].startswith("ok\nleader: yes")
        assert posted[-1].startswith("✅ Paastis can write its database again")
        assert sum("cannot write its database" in p for p in posted) == 1
    finally:
        paastis.close()
