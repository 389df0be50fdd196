"""The composition root builds each object once, with its collaborators: nothing is plugged
in or replaced afterwards (in wiring.py, nor where the Slack side is put together)."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

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
