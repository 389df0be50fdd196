"""Guards on the seam between the manifests (what Slack sends) and the listeners (what Paastis
handles): a command, button or event on one side only is a bug users would hit. Both manifests
— manifest.yml (HTTP mode) and manifest.socket.yml (Socket Mode) — are held to it, and differ
only in the URLs and the mode."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.chat.commands import NAMES
from bot.chat.messages import ACTIONS, OPEN, PAGE
from bot.slack.listeners import COMMAND, EVENTS
from bot.slack.server import EVENTS_PATH
from tests.bot.slack.conftest import ADMIN, ALICE, Rig

ROOT = Path(__file__).parents[3]
MANIFEST = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))
SOCKET = yaml.safe_load((ROOT / "manifest.socket.yml").read_text(encoding="utf-8"))
BOTH = pytest.mark.parametrize("manifest", [MANIFEST, SOCKET], ids=["http", "socket"])
SCOPES = {"commands", "chat:write", "chat:write.public", "users:read", "usergroups:read"}


@BOTH
def test_the_manifest_declares_the_registered_command_with_every_subcommand(manifest: dict) -> None:
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == COMMAND
    assert command["description"]
    assert len(command["description"]) <= 2000
    for name in NAMES:
        assert name in command["usage_hint"], name


@BOTH
def test_the_manifest_subscribes_to_exactly_the_events_listened_to(manifest: dict) -> None:
    assert tuple(manifest["settings"]["event_subscriptions"]["bot_events"]) == EVENTS


def test_the_socket_mode_manifest_is_the_http_one_without_urls() -> None:
    http = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))
    del http["features"]["slash_commands"][0]["url"]
    del http["settings"]["event_subscriptions"]["request_url"]
    del http["settings"]["interactivity"]["request_url"]
    http["settings"]["socket_mode_enabled"] = True
    assert http == SOCKET


def test_interactivity_and_the_home_tab_are_on_and_every_url_is_the_events_path() -> None:
    settings, features = MANIFEST["settings"], MANIFEST["features"]
    assert settings["interactivity"]["is_enabled"] is True
    assert features["app_home"] == {
        "home_tab_enabled": True,
        "messages_tab_enabled": True,
        "messages_tab_read_only_enabled": True,
    }
    urls = [
        settings["interactivity"]["request_url"],
        settings["event_subscriptions"]["request_url"],
        features["slash_commands"][0]["url"],
    ]
    assert urls == [f"https://paastis.example.com{EVENTS_PATH}"] * 3
    assert settings["socket_mode_enabled"] is False


@pytest.mark.parametrize("name", ["manifest.yml", "manifest.socket.yml"])
def test_scopes_are_the_minimal_set_each_with_its_reason(name: str) -> None:
    text = (ROOT / name).read_text(encoding="utf-8")
    assert set(yaml.safe_load(text)["oauth_config"]["scopes"]["bot"]) == SCOPES
    lines = text.splitlines()
    for scope in SCOPES:
        (line,) = [x for x in lines if x.strip().startswith(f"- {scope} ")]
        assert "#" in line, f"say why {scope} is needed"


def test_every_button_the_messages_carry_reaches_its_handling(rig: Rig) -> None:
    answers = {}
    for action in ACTIONS:
        response, key = rig.click(action, "fake:hello" if action != PAGE else "1|", user=ADMIN)
        assert response.status == 200, action
        if action != OPEN:
            answers[action] = rig.last_response(key)["text"]
    assert not [a for a, text in answers.items() if "not known to this version" in text], answers
    _, key = rig.click("paastis.renamed", "fake:hello")  # the control: a button no version handles
    assert "not known to this version" in rig.last_response(key)["text"]


def test_the_command_and_the_event_reach_their_listeners(rig: Rig) -> None:
    assert rig.ask("help")[0]["text"] == "Paastis commands"
    assert rig.event({"type": EVENTS[0], "user": ALICE, "tab": "home"}).status == 200
    assert rig.slack.wait_for(lambda: rig.slack.views.get(ALICE))


def test_procfile_runs_one_web_process() -> None:
    lines = [x for x in (ROOT / "Procfile").read_text().splitlines() if x.strip()]
    assert [x for x in lines if x.startswith("web:")] == ["web: paastis serve"]
    assert lines == ["web: paastis serve", "proxy: paastis proxy"]  # wake on request, its own process
    assert 'paastis = "bot.__main__:main"' in (ROOT / "pyproject.toml").read_text()


def test_the_readme_setup_runs_in_order_for_each_mode() -> None:
    """Issue 12, item 2: each mode's steps name their own manifest before the tokens it
    yields are used, and HTTP mode verifies the events URL after deploying, not before."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    socket = readme[readme.index("#### Try it in Slack with Socket Mode") : readme.index("#### Deploy in HTTP mode")]
    assert socket.index("manifest.socket.yml") < socket.index("xapp-") < socket.index("paastis serve")
    assert "manifest.yml" not in socket.replace("manifest.socket.yml", "")
    http = readme[readme.index("#### Deploy in HTTP mode") : readme.index("### Deploy\n")]
    assert (
        http.index("manifest.yml")
        < http.index("SLACK_SIGNING_SECRET")
        < http.index("Deploy with")
        < http.index("Retry")
    )
