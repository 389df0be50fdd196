"""The Bolt listeners: thin — acknowledge, then find who asks, call `Chatops`, answer.

Every request is acknowledged first, on the thread that received it, with nothing
(`acknowledge`: Bolt's `process_before_response`, so no listener thread is waited for);
the work follows as Bolt's lazy listeners on the listener pool (bot.slack.pool: bounded,
first come first served, after the acknowledgements pending), so a flood of commands
delays answers, never acknowledgements:

    /paastis …          the user (users.info), then `Chatops.command`; answers through the
                        command's response_url (a CommandDestination)
    any button          the user, then `Chatops.click`; PAGE in the Home tab republishes it
    app_home_opened     publish the dashboard (the report's summary and the apps)
    errors              one handler: logged with the traceback; the user gets a short apology

Nothing here calls a provider: `Chatops` answers from the store and hands provider work to
the engine's executor. Nothing here waits on Slack either: answers leave through the
outbound path and `ResponseUrls`. Only verified requests get here (bot.slack.gate).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.chat.messages import ACTIONS, OPEN, PAGE, Message
from bot.engine.actors import Actor
from bot.engine.wake_jobs import WakeTicket
from bot.slack.blocks import base_action, home_view
from bot.slack.destinations import (
    CommandDestination,
    PostedDestination,
    ResponseUrlDestination,
    ThreadDestination,
    from_context,
)
from bot.slack.home import home_message, page_value, parse_page
from bot.slack.identity import Directory
from bot.slack.outbound import Outbound
from bot.slack.response_urls import ResponseUrls
from bot.store.store import InFlightWake
from bot.wiring import Paastis

log = logging.getLogger(__name__)

COMMAND = "/paastis"
EVENTS = ("app_home_opened",)
SORRY = (
    "⚠️ Something went wrong on our side; it was logged. "
    "Try again in a moment, or ask whoever runs Paastis to look at its logs."
)


def acknowledge(ack: Ack) -> None:
    """Every request's acknowledgement: at once, with nothing (the answers follow)."""
    ack()


def action_pattern(action: str) -> re.Pattern[str]:
    """An action id as rendered: `paastis.page`, or `paastis.page#2` for a repeat in one row."""
    return re.compile(rf"^{re.escape(action)}(#\d+)?$")


def register(
    bolt: App, paastis: Paastis, directory: Directory, outbound: Outbound, urls: ResponseUrls, views: WebClient
) -> Listeners:
    """Register every listener and the error handler. `Listeners.resume` is what Paastis's
    `start()` hands the wakes it resumes, so their messages are brought to their end.
    `views`: the client that publishes the Home tab (a short timeout: listener threads)."""
    listeners = Listeners(paastis, directory, outbound, urls, views)
    bolt.command(COMMAND)(ack=acknowledge, lazy=[listeners.later(listeners.command)])
    for action in ACTIONS:
        bolt.action(action_pattern(action))(ack=acknowledge, lazy=[listeners.later(listeners.click)])
    # a button of another version: answered clearly
    bolt.action(re.compile(r".*"))(ack=acknowledge, lazy=[listeners.later(listeners.click)])
    bolt.event("app_home_opened")(ack=acknowledge, lazy=[listeners.later(listeners.home_opened)])
    bolt.error(listeners.error)
    return listeners


class Listeners:
    def __init__(
        self,
        paastis: Paastis,
        directory: Directory,
        outbound: Outbound,
        urls: ResponseUrls,
        views: WebClient,
        *,
        dashboard: Callable[[Message], Message] = lambda home: home,
    ) -> None:
        """`dashboard`: what the Home tab shows around Paastis's dashboard (the hosted edition
        adds the workspace's plan and connections), whatever republishes it."""
        self.dashboard = dashboard
        self.paastis = paastis
        self.chatops = paastis.chatops
        self.directory = directory
        self.outbound = outbound
        self.urls = urls
        self.client = views

    def later(self, work: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
        """`work(body)` as a Bolt lazy listener, after the acknowledgement. Bolt would log its
        errors in one line and drop them: they go to the error handler from here (the
        traceback logged, the apology through the response_url)."""

        def later(body: dict[str, Any]) -> None:
            try:
                work(body)
            except Exception as error:
                self.error(error, body, None)

        later.__name__ = work.__name__
        return later

    # -- slash command -------------------------------------------------------------------
    def command(self, command: dict[str, Any]) -> None:
        actor = self.directory.actor(command["user_id"], str(command.get("user_name") or ""))
        response_url = self.urls.open(command.get("response_url"), self.paastis.clock.now())
        reply = CommandDestination(response_url, user=actor.id, fallback=PostedDestination(self.outbound, actor.id))
        self.chatops.command(str(command.get("text") or ""), actor, reply)

    # -- buttons -------------------------------------------------------------------------
    def click(self, body: dict[str, Any]) -> None:
        action = body["actions"][0]
        action_id = base_action(action["action_id"])
        if action_id == OPEN:
            return  # a link: Slack opened it
        value = str(action.get("value") or "")
        user = body["user"]
        actor = self.directory.actor(user["id"], str(user.get("name") or user.get("username") or ""))
        container = body.get("container") or {}
        if container.get("type") == "view":
            self._home_click(action_id, value, actor, body)
            return
        self.chatops.click(action_id, value, actor, self._reply_to_click(action_id, actor, body, container))

    def _reply_to_click(
        self, action_id: str, actor: Actor, body: dict[str, Any], container: dict[str, Any]
    ) -> ResponseUrlDestination | PostedDestination | ThreadDestination:
        channel, message_ts = container.get("channel_id"), container.get("message_ts")
        dm = PostedDestination(self.outbound, actor.id)  # when Slack refuses the usual place, or its time ran out
        response_url = self.urls.open(body.get("response_url"), self.paastis.clock.now())
        if container.get("is_ephemeral") or not (channel and message_ts):
            return ResponseUrlDestination(response_url, user=actor.id, fallback=dm)
        if action_id == PAGE:  # turn the page of that very message
            return PostedDestination(self.outbound, channel, ts=message_ts)
        message = body.get("message") if isinstance(body.get("message"), dict) else {}
        thread_ts = container.get("thread_ts") or message.get("thread_ts") or message_ts
        public = PostedDestination(self.outbound, channel, thread_ts=thread_ts, fallback=dm)
        # never replace_original here: that would replace the channel's message for everyone
        return ThreadDestination(public, ResponseUrlDestination(response_url, user=actor.id, replace=False))

    def _home_click(self, action_id: str, value: str, actor: Actor, body: dict[str, Any]) -> None:
        view = body.get("view") if isinstance(body.get("view"), dict) else {}
        if action_id == PAGE:
            self.publish_home(actor.id, value)
            return
        metadata = str(view.get("private_metadata") or "")
        reply = PostedDestination(self.outbound, actor.id, on_change=lambda: self.publish_home(actor.id, metadata))
        self.chatops.click(action_id, value, actor, reply)

    # -- App Home ------------------------------------------------------------------------
    def home_opened(self, body: dict[str, Any]) -> None:
        event = body["event"]
        if event.get("tab", "home") != "home":
            return
        view = event.get("view") if isinstance(event.get("view"), dict) else {}
        self.publish_home(event["user"], str(view.get("private_metadata") or ""))

    def publish_home(self, user: str, page: str) -> None:
        number, text_filter = parse_page(page)
        engine, chatops = self.paastis.engine, self.chatops
        message = self.dashboard(
            home_message(
                lambda: engine.catalog().search(text_filter or None),
                chatops.report(),
                chatops.now,
                chatops.options.timezone,
                number=number,
                text_filter=text_filter,
                budgets=engine.budgets(),
                page_of=engine.fleet.page,  # no filter: the page alone is read
            )
        )
        try:
            self.client.views_publish(user_id=user, view=home_view(message, page_value(number, text_filter)))
        except SlackApiError as exc:
            error = exc.response.get("error")
            fix = " (turn the Home tab on: App Home in the app's settings, or create the app from manifest.yml)"
            log.warning("slack.home_failed user=%s error=%s%s", user, error, fix if error == "not_enabled" else "")
        except (SlackClientError, OSError) as exc:  # also refreshed from engine threads: never raise there
            log.warning("slack.home_failed user=%s error=%s", user, type(exc).__name__)

    # -- after a restart -----------------------------------------------------------------
    def resume(self, ticket: WakeTicket, wake: InFlightWake) -> None:
        reply = from_context(wake.context, self.outbound, self.urls)
        if reply is None:
            log.info("slack.resume_silent provider=%s app=%s", wake.provider, wake.app_id)
            return
        self.chatops.resume(ticket, reply, f"{wake.provider}:{wake.app_id}", asked_by=wake.context.get("asked_by"))

    # -- errors --------------------------------------------------------------------------
    def error(self, error: Exception, body: Any, response: BoltResponse | None) -> BoltResponse | None:
        """Every unhandled error: logged with its traceback; the user reads a short apology."""
        body = body if isinstance(body, dict) else {}
        kind = "command" if "command" in body else str(body.get("type") or "request")
        log.error("slack.listener_failed kind=%s error=%s", kind, type(error).__name__, exc_info=error)
        if response is not None and kind == "command":  # not acknowledged yet: the apology is the answer
            return BoltResponse(status=200, body={"response_type": "ephemeral", "text": SORRY})
        if isinstance(body.get("response_url"), str):  # a verified request's: Slack's own hosts only
            self.urls.open(body["response_url"], self.paastis.clock.now()).send(
                {"response_type": "ephemeral", "replace_original": False, "text": SORRY}
            )
        return BoltResponse(status=200, body="") if response is not None else None
