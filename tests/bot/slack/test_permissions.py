"""Permissions on every click and command: who Slack says the user is, and failing closed."""

from __future__ import annotations

import logging

from bot.chat.messages import SLEEP, WAKE
from tests.bot.slack.conftest import ADMIN, ALICE, OPS_GROUP, OPS_MEMBER, Rig

REFUSAL = (
    "⚠️ Only workspace admins and the people listed in PAASTIS_ADMINS may sleep apps. "
    "Ask one of them, or ask for the permission."
)


def sleeps(rig: Rig) -> int:
    return sum(1 for c in rig.world.calls if c.operation == "sleep")


def test_a_members_sleep_click_is_refused_with_the_reason(rig: Rig) -> None:
    _, key = rig.click(SLEEP, "fake:hello", user=ALICE)
    assert rig.last_response(key)["text"] == REFUSAL
    rig.paastis.engine.executor.submit(lambda: None).result()
    assert sleeps(rig) == 0
    assert rig.world.app("hello").state.value == "running"


def test_a_workspace_admins_sleep_click_works(rig: Rig) -> None:
    _, key = rig.click(SLEEP, "fake:hello", user=ADMIN)
    assert (
        rig.last_response(key, containing="going to sleep")["text"]
        == "💤 hello is going to sleep · web×1 will be restored at wake"
    )
    assert sleeps(rig) == 1


def test_a_member_of_an_admin_user_group_may_sleep(rig: Rig) -> None:
    _, key = rig.click(SLEEP, "fake:hello", user=OPS_MEMBER)
    rig.last_response(key, containing="going to sleep")
    assert [c.body["usergroup"] for c in rig.slack.calls_to("usergroups.users.list")] == [OPS_GROUP]


def test_the_command_path_checks_the_same_way(rig: Rig) -> None:
    assert "Only workspace admins" in rig.ask("keep hello 2h", user=ALICE)[0]["text"]
    assert "stays awake until" in rig.ask("keep hello 2h", user=OPS_MEMBER)[0]["text"]


def test_wake_needs_no_admin_and_no_user_group_lookup(rig: Rig) -> None:
    _, key = rig.click(WAKE, "fake:shop-demo", user=ALICE)
    rig.last_response(key, containing="is up")
    assert rig.slack.calls_to("usergroups.users.list") == []


def test_when_slack_cannot_say_who_is_admin_admin_actions_fail_closed(rig: Rig, caplog) -> None:
    rig.slack.fail("users.info", "fatal_error", times=3)
    with caplog.at_level(logging.WARNING, logger="bot.slack"):
        _, key = rig.click(SLEEP, "fake:hello", user=ADMIN)
        answer = rig.last_response(key)["text"]
    assert answer.startswith("⚠️ Slack could not tell whether you are an admin (users.info: fatal_error)")
    assert sleeps(rig) == 0
    assert "slack.identity_unknown user=U0ADMIN error=fatal_error" in caplog.text
    _, key = rig.click(WAKE, "fake:shop-demo", user=ADMIN)  # what everyone may do still works
    rig.last_response(key, containing="is up")


def test_a_user_group_slack_cannot_list_fails_closed_too(rig: Rig) -> None:
    rig.slack.fail("usergroups.users.list", "missing_scope")
    _, key = rig.click(SLEEP, "fake:hello", user=OPS_MEMBER)
    assert "(user group S0OPS: missing_scope)" in rig.last_response(key)["text"]
    assert sleeps(rig) == 0


def test_a_slow_slack_fails_closed(rig: Rig) -> None:
    rig.slack.delay("users.info", 2.5)  # over the lookup's 1-second timeout
    answer, _ = rig.ask("sleep hello", user=ADMIN)
    assert "Slack could not tell whether you are an admin" in answer["text"]
    assert sleeps(rig) == 0


def test_identities_are_cached_a_few_minutes(rig: Rig) -> None:
    for _ in range(3):
        rig.ask("status", user=ALICE)
    assert len(rig.slack.calls_to("users.info")) == 1
    rig.clock.advance(minutes=6)
    rig.ask("status", user=ALICE)
    assert len(rig.slack.calls_to("users.info")) == 2
