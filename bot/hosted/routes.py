"""The routes of the hosted Bolt app: each request goes to its team's Paastis (its
Listeners, as in a single-workspace Paastis) or to the admin (connect, settings, plan…);
the Home tab shows the workspace's plan and connections above its dashboard."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, BoltRequest, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.chat.messages import ACTIONS as CHAT_ACTIONS
from bot.chat.messages import Message
from bot.clock import Clock
from bot.hosted import admin as hosted_admin
from bot.hosted import modals
from bot.hosted.admin import Admin
from bot.hosted.home import workspace_home
from bot.hosted.registry import Registry
from bot.hosted.settings import HostedSettings
from bot.hosted.tenants import Tenants
from bot.hosted.uninstall import uninstall
from bot.slack.app import REQUEST_TIMEOUT
from bot.slack.blocks import base_action, home_view, message_payload
from bot.slack.home import page_value
from bot.slack.listeners import COMMAND, action_pattern
from bot.slack.response_urls import ResponseUrls

log = logging.getLogger(__name__)


class Routes:
    def __init__(
        self, hosted: HostedSettings, registry: Registry, tenants: Tenants, admin: Admin, clock: Clock
    ) -> None:
        self.hosted = hosted
        self.registry = registry
        self.tenants = tenants
        self.admin = admin
        self.clock = clock
        self.urls = ResponseUrls(hosted.api_url, clock)  # only Slack's own hosts; posted from listener threads

    def register(self, bolt: App) -> None:
        bolt.use(self.once_per_event)
        bolt.command(COMMAND)(self.command)
        for action in hosted_admin.ACTIONS:
            bolt.action(action_pattern(action))(self.admin_click)
        for action in CHAT_ACTIONS:
            bolt.action(action_pattern(action))(self.click)
        bolt.action(re.compile(r".*"))(self.click)
        bolt.view(modals.CONNECT)(self.connect_submitted)
        bolt.view(modals.SETTINGS)(self.settings_submitted)
        bolt.event("app_home_opened")(self.home_opened)
        bolt.event("app_uninstalled")(self.uninstalled)
        bolt.event("tokens_revoked")(self.uninstalled)
        bolt.error(self.error)

    def once_per_event(
        self, request: BoltRequest, body: dict[str, Any], context: BoltContext, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        """Slack retries an event it thinks was not received (no 200 within 3 seconds, an
        instance restarting): a retry of an event already received, by any instance, is
        answered 200 and not acted on again."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if isinstance(event_id, str) and event_id:
            first = self.registry.first_delivery(event_id, context.team_id or "", self.clock.now().timestamp())
            retry = (request.headers.get("x-slack-retry-num") or [""])[0]
            if not first and retry:
                log.info("hosted.event_retry_skipped team=%s event_id=%s retry=%s", context.team_id, event_id, retry)
                return BoltResponse(status=200, body="")
        return next()

    def client(self, token: str) -> WebClient:
        """Calls made on a listener thread, with the team's token: fail fast, no retry."""
        return WebClient(token=token, base_url=self.hosted.api_url, timeout=REQUEST_TIMEOUT, retry_handlers=[])

    def may_change(self, context: BoltContext, user: str) -> bool:
        workspace = self.registry.workspace(context.team_id or "")
        if workspace is not None and workspace.installer == user:
            return True
        try:
            found = self.client(context.bot_token or "").users_info(user=user)["user"]
        except (SlackClientError, OSError, KeyError, TypeError) as exc:
            log.warning("hosted.identity_unknown team=%s user=%s error=%s", context.team_id, user, type(exc).__name__)
            return False  # fails closed
        return bool(found.get("is_admin") or found.get("is_owner") or found.get("is_primary_owner"))

    # -- /paastis ----------------------------------------------------------------------------
    def command(self, ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        team, token = context.team_id or "", context.bot_token or ""
        words = str(body.get("text") or "").split()
        verb = words[0].lower() if words else ""
        if verb in ("", "help"):
            ack(**_ephemeral(self.admin.help()))
            return
        if verb in hosted_admin.WORDS:
            ack(**_ephemeral(self.admin_command(verb, words[1:], body, context)))
            return
        ack()  # first: the workspace's Paastis is built on first use, then looks up who asked
        tenant = self.tenants.get(team, token)
        if tenant is None:
            none = Message(
                "Paastis has no provider connected in this workspace yet: an admin can connect one with "
                "/paastis connect (or from Paastis's Home tab).",
                private=True,
            )
            self.urls.open(body.get("response_url"), self.clock.now()).post(_ephemeral(none))
            return
        tenant.listeners.later(tenant.listeners.command)(body)  # it answers by response_url

    def admin_command(self, verb: str, args: list[str], body: dict[str, Any], context: BoltContext) -> Message | None:
        team, token, user = context.team_id or "", context.bot_token or "", str(body.get("user_id") or "")
        if verb == "plan":
            return self.admin.plan_message(team)
        if verb == "connections":
            return self.admin.connections(team)
        if not self.may_change(context, user):
            return self.admin.refused(f"{verb} {' '.join(args)}".strip())
        if verb == "connect":
            kind = args[0].lower() if args else ""
            if kind not in self.admin.kinds():
                return self.admin.connect_choice()
            return self.open_view(token, body, modals.connect_view(kind))
        if verb == "settings":
            workspace = self.registry.workspace(team)
            return self.open_view(token, body, modals.settings_view(workspace)) if workspace else None
        if verb == "disconnect":
            return self.admin.remove(team, token, " ".join(args))
        return self.admin.monitor(team, " ".join(args), on=verb == "monitor")

    def open_view(self, token: str, body: dict[str, Any], view: dict[str, Any]) -> Message | None:
        try:
            self.client(token).views_open(trigger_id=str(body.get("trigger_id") or ""), view=view)
            return None
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning(
                "hosted.view_failed error=%s",
                getattr(exc, "response", {}).get("error") if isinstance(exc, SlackApiError) else type(exc).__name__,
            )
            return Message("⚠️ Slack did not open the form; try again.", private=True)

    # -- buttons -----------------------------------------------------------------------------
    def admin_click(self, ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        ack()
        action = body["actions"][0]
        verb, value = base_action(action["action_id"]), str(action.get("value") or "")
        team, token, user = context.team_id or "", context.bot_token or "", body["user"]["id"]
        answer: Message | None
        if not self.may_change(context, user):
            answer = self.admin.refused("change Paastis's connections or settings")
        elif verb == hosted_admin.CONNECT and value in self.admin.kinds():
            answer = self.open_view(token, body, modals.connect_view(value))
        elif verb == hosted_admin.REPLACE:
            found = [c for c in self.registry.connections(team) if c.name == value]
            answer = (
                self.open_view(token, body, modals.connect_view(found[0].kind, value))
                if found
                else self.admin.remove(team, token, value)
            )
        elif verb == hosted_admin.REMOVE:
            answer = self.admin.remove(team, token, value)
        elif verb == hosted_admin.SETTINGS:
            workspace = self.registry.workspace(team)
            answer = self.open_view(token, body, modals.settings_view(workspace)) if workspace else None
        else:
            answer = Message("❌ This button is not Paastis's; nothing was done.", private=True)
        if answer is not None:
            self.tell(token, body, user, answer)
        if (body.get("container") or {}).get("type") == "view":
            self.publish_home(team, token, user, "")

    def tell(self, token: str, body: dict[str, Any], user: str, message: Message) -> None:
        """An answer to a click, for the clicker only: in the channel as an ephemeral, else a DM."""
        channel = ((body.get("container") or {}).get("channel_id")) or user
        try:
            client = self.client(token)
            if channel == user:
                client.chat_postMessage(channel=user, **message_payload(message))
            else:
                client.chat_postEphemeral(channel=channel, user=user, **message_payload(message))
        except (SlackClientError, OSError) as exc:
            log.warning("hosted.answer_failed error=%s", type(exc).__name__)

    def click(self, ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        ack()  # first: a workspace's Paastis is built on first use
        team, token = context.team_id or "", context.bot_token or ""
        tenant = self.tenants.get(team, token)
        if tenant is None:
            self.tell(
                token,
                body,
                body["user"]["id"],
                Message("❌ Nothing is connected in this workspace: that app is not known here.", private=True),
            )
            return
        tenant.listeners.later(tenant.listeners.click)(body)  # its Home tab: bot.hosted.home

    # -- modals ------------------------------------------------------------------------------
    def connect_submitted(self, ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        team, token, user = context.team_id or "", context.bot_token or "", body["user"]["id"]
        view = body.get("view") or {}
        if not self.may_change(context, user):
            ack(
                response_action="update",
                view=modals.result_view("Not allowed", hosted_admin.NOT_ADMIN.format("connect providers")),
            )
            return
        view_id = str(view.get("id") or "")

        def late(text: str) -> None:
            try:
                self.client(token).views_update(view_id=view_id, view=modals.result_view("Connection", text))
            except (SlackClientError, OSError) as exc:
                log.warning("hosted.view_failed error=%s", type(exc).__name__)

        checked = self.admin.submit_connect(team, token, str(view.get("private_metadata") or ""), view, late)
        if checked.errors:
            ack(response_action="errors", errors=checked.errors)
        else:
            ack(response_action="update", view=modals.result_view("Connection", checked.done))

    def settings_submitted(self, ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        team, token, user = context.team_id or "", context.bot_token or "", body["user"]["id"]
        if not self.may_change(context, user):
            ack(response_action="errors", errors={"channel": hosted_admin.NOT_ADMIN.format("change the settings")})
            return
        errors = self.admin.submit_settings(team, token, body.get("view") or {})
        if errors:
            ack(response_action="errors", errors=errors)
        else:
            ack(response_action="update", view=modals.result_view("Settings", "✅ Saved."))

    # -- Home, uninstall, errors -------------------------------------------------------------
    def home_opened(self, body: dict[str, Any], context: BoltContext) -> None:
        event = body["event"]
        if event.get("tab", "home") == "home":
            view = event.get("view") if isinstance(event.get("view"), dict) else {}
            self.publish_home(
                context.team_id or "", context.bot_token or "", event["user"], str(view.get("private_metadata") or "")
            )

    def publish_home(self, team: str, token: str, user: str, page: str) -> None:
        """The workspace's Home tab: its Paastis's (bot.hosted.home around the dashboard), or,
        before anything is connected, the connections and the plan alone."""
        tenant = self.tenants.get(team, token)
        if tenant is not None:
            tenant.listeners.publish_home(user, page)
            return
        home = workspace_home(self.hosted.offered, self.registry, team, None)
        try:
            self.client(token).views_publish(user_id=user, view=home_view(home, page_value(1, "")))
        except (SlackClientError, OSError) as exc:
            log.warning("hosted.home_failed team=%s error=%s", team, type(exc).__name__)

    def uninstalled(self, body: dict[str, Any], context: BoltContext) -> None:
        uninstall(self.registry, self.tenants, self.clock, context.team_id or "")

    def error(
        self, error: Exception, body: Any, response: BoltResponse | None, context: BoltContext
    ) -> BoltResponse | None:
        """The workspace's own error handler (logged, a short apology); before any workspace
        is built, logged and acknowledged."""
        tenant = self.tenants.get(context.team_id or "", None) if context else None
        if tenant is not None:
            return tenant.listeners.error(error, body, response)
        log.error("hosted.listener_failed error=%s", type(error).__name__, exc_info=error)
        return BoltResponse(status=200, body="") if response is not None else None


def _ephemeral(message: Message | None) -> dict[str, Any]:
    return {"response_type": "ephemeral", **message_payload(message)} if message is not None else {}
