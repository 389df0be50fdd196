"""Adding a provider type is one folder and one line in `PROVIDERS`: these keep it true.

Each registered type declares what the rest of Paastis needs in its own package, and the
bot reads it from the registry instead of naming types.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from providers import PROVIDERS, provider_type
from providers.fake import SimulatedPaas
from providers.fake.deployment import FakeDeployment
from tests.fakes.clock import FakeClock
from tests.providers.kits import start_fake

ROOT = Path(__file__).parents[2]


@pytest.mark.parametrize("kind", sorted(PROVIDERS))
def test_each_type_declares_itself_in_its_own_package(kind: str) -> None:
    ptype = provider_type(kind)
    package = PROVIDERS[kind]

    assert ptype.kind == kind
    assert ptype.build.__module__.startswith(package)
    assert all(v.option in ptype.options for v in ptype.environment.values())
    assert all(price >= 0 for price in ptype.prices.values())
    assert ptype.fake.startswith(package + ".")
    fake = importlib.import_module(ptype.fake)
    assert callable(fake.start_fake)
    assert fake.DEMO_APPS
    assert all("name" in app for app in fake.DEMO_APPS)


@pytest.mark.parametrize("kind", sorted(PROVIDERS))
def test_each_fake_starts_over_the_world_it_is_given(kind: str) -> None:
    clock = FakeClock()
    world = SimulatedPaas(clock)
    deployment = start_fake(kind, world, clock)
    try:
        assert isinstance(deployment, FakeDeployment)
        assert deployment.world is world
        assert deployment.add_app("probe", {"web": 1}) in {a.id for a in world.apps()}
    finally:
        deployment.close()


def _string_constants(path: Path) -> set[str]:
    """String literals of a module, docstrings left out."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    }


def test_the_bot_names_no_provider_type_nor_their_variables() -> None:
    kinds = set(PROVIDERS)
    variables = {name for kind in PROVIDERS for name in provider_type(kind).environment if name != "PROVIDER_REGION"}
    named = {}
    for path in sorted(ROOT.glob("bot/**/*.py")):
        found = {s for s in _string_constants(path) if s in kinds or any(v in s for v in variables)}
        if found:
            named[str(path.relative_to(ROOT))] = found
    assert named == {}
