"""Install with "Add to Slack": the OAuth redirect, its state, and what is kept (encrypted)."""

from __future__ import annotations

import httpx

from tests.bot.hosted.conftest import ACME, ADA, ON_EACH_DATABASE, Hosted


@ON_EACH_DATABASE
def test_add_to_slack_installs_the_workspace_and_keeps_its_token_encrypted(hosted: Hosted) -> None:
    answer = hosted.install(ACME, "Acme", ADA)

    assert answer.status_code == 200
    assert "Paastis is installed in Acme" in answer.text
    workspace = hosted.edition.registry.workspace(ACME)
    assert (workspace.plan, workspace.installer) == ("free", ADA)
    token = hosted.token(ACME)
    found = hosted.edition.installations.find_installation(enterprise_id=None, team_id=ACME)
    assert found.bot_token == token
    assert ACME in hosted.stored_text()
    assert token not in hosted.stored_text()
    if not hosted.settings.database_url:
        assert oct(hosted.settings.registry_path.stat().st_mode & 0o777) == "0o600"


def test_the_install_page_links_to_slack_with_the_scopes_of_the_manifest(hosted: Hosted) -> None:
    page = hosted.http.get("/slack/install")

    assert page.status_code == 200
    assert "slack-app-oauth-state=" in page.headers["set-cookie"]
    assert "scope=commands,chat:write,chat:write.public,users:read,usergroups:read" in page.text


@ON_EACH_DATABASE
def test_a_state_is_good_once(hosted: Hosted) -> None:
    with httpx.Client(base_url=str(hosted.http.base_url)) as browser:
        state = hosted.install_page(browser)
        first = browser.get(
            "/slack/oauth_redirect", params={"code": hosted.slack.authorize(ACME, "Acme", ADA), "state": state}
        )
        replayed = browser.get(
            "/slack/oauth_redirect", params={"code": hosted.slack.authorize(ACME, "Acme", ADA), "state": state}
        )

    assert first.status_code == 200
    assert replayed.status_code == 401
    assert "expired or was already used" in replayed.text


def test_bad_redirects_get_a_clear_page_and_write_nothing(hosted: Hosted) -> None:
    with httpx.Client(base_url=str(hosted.http.base_url)) as browser:
        state = hosted.install_page(browser)
        code = hosted.slack.authorize(ACME, "Acme", ADA)
        denied = browser.get("/slack/oauth_redirect", params={"error": "access_denied", "state": state})
        missing = browser.get("/slack/oauth_redirect", params={"code": code})
        forged = browser.get("/slack/oauth_redirect", params={"code": code, "state": "made-up"})
        hosted.clock.advance(minutes=11)
        expired = browser.get("/slack/oauth_redirect", params={"code": code, "state": state})
    other_browser = httpx.get(
        f"{hosted.http.base_url}/slack/oauth_redirect", params={"code": code, "state": hosted.install_page()}
    )

    assert denied.status_code == 200
    assert "You cancelled the installation: nothing was installed." in denied.text
    for answer in (missing, forged, expired):
        assert answer.status_code in (400, 401), answer.text
        assert "Start again from /slack/install" in answer.text
        assert "Traceback" not in answer.text
    assert other_browser.status_code == 400
    assert "cookie" in other_browser.text
    assert hosted.edition.registry.workspaces() == []


def test_a_request_from_a_workspace_that_never_installed_is_refused_and_writes_nothing(hosted: Hosted) -> None:
    hosted.install(ACME, "Acme", ADA)

    command, key = hosted.command("T0STRANGER", ADA, "connect fake")
    event = hosted.event("T0STRANGER", {"type": "app_home_opened", "user": ADA, "tab": "home"})

    assert command.status_code == 200
    assert "Paastis is not installed in this workspace" in hosted.last_response(key)["text"]
    assert event.status_code == 200
    assert [w.team_id for w in hosted.edition.registry.workspaces()] == [ACME]
    assert hosted.slack.opened == []
    assert hosted.slack.calls_to("views.publish") == []


def test_with_token_rotation_a_token_due_is_rotated_ahead_sealed_and_the_workspace_uses_the_new_one(
    hosted: Hosted,
) -> None:
    hosted.slack.expires_in = 3600  # due within the 4 hours the keeper looks ahead
    hosted.install(ACME, "Acme", ADA)
    hosted.connect_fake(ACME, ADA, "shop")
    first = hosted.tenant(ACME).token
    hosted.slack.expires_in = 12 * 3600  # the next token lives 12 hours

    assert hosted.edition.tokens.rotate_due() == [ACME]

    fresh = hosted.edition.installations.find_installation(enterprise_id=None, team_id=ACME)
    assert fresh.bot_token != first
    assert hosted.edition.tenants.get(ACME, None).token == fresh.bot_token
    assert fresh.bot_token.encode() not in hosted.settings.registry_path.read_bytes()
    assert fresh.bot_refresh_token.encode() not in hosted.settings.registry_path.read_bytes()
    assert hosted.edition.tokens.rotate_due() == []  # not due: left alone
