"""The Bolt App and its WebClients, built from settings: tokens, the signing secret and
SLACK_API_URL are passed explicitly, never left for Bolt to find on its own.

    web_client       Bolt's own calls (auth.test), Socket Mode: retries 429s after Retry-After
    outbound client  every post and edit, from the outbound path's worker, which paces them
                     and honours Retry-After itself (so the client does not retry)
    request_client   calls made on a listener thread (views.publish, users.info,
                     usergroups.users.list): a short timeout and no retries — a slow Slack
                     fails closed (or is logged) instead of holding the listener pool
    build_app        App(client=…) with the `Gate` (signature, replays, payload shape) in
                     front of Bolt's own checks; every request acknowledged on the thread
                     that received it (`process_before_response`), its work queued on the
                     bounded listener pool (bot.slack.pool)

Built in two steps around `bot.wiring.build`, so nothing is replaced afterwards:

    slack_side(…)    before Paastis, no network call: the clients, the outbound path (with the
                     outbox in PAASTIS_DB), the response_urls, the poster of channel notices,
                     the directory of users and groups (permissions) → build(poster=…, groups_of=…)
    connect(…)       after: auth.test, the Bolt app, its listeners registered over the finished
                     Paastis, the outbox's notices queued again; `start(resumed=…)` follows
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt import App
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.clock import Clock
from bot.config.loading import Settings, SlackSettings
from bot.errors import SlackSetupError
from bot.slack.gate import Gate
from bot.slack.identity import Directory
from bot.slack.listeners import Listeners, register
from bot.slack.outbound import Outbound
from bot.slack.pool import Acknowledging, ListenerPool
from bot.slack.poster import SlackPoster
from bot.slack.response_urls import ResponseUrls
from bot.store.outbox import Outbox
from bot.wiring import Paastis

LISTENER_THREADS = 4  # the work after the acks (bot.slack.pool): answers, not acks, wait their turn
IDENTITY_TIMEOUT = 1  # seconds: users.info holds a listener thread, and the answer, that long at most
REQUEST_TIMEOUT = 3  # seconds: views.publish from a listener thread
BOLT_LOGGER = "bot.slack.bolt"


def _not_token_unused(record: logging.LogRecord) -> bool:
    """Bolt reads SLACK_BOT_TOKEN from the environment on its own and, as Paastis gives it a
    client made with that token, warns at every start that the token "will be unused": a
    warning about nothing, dropped here (every other Bolt line is kept)."""
    return record.getMessage() != warning_client_prioritized_and_token_skipped()


def web_client(slack: SlackSettings, *, timeout: int = 10) -> WebClient:
    client = WebClient(token=slack.bot_token, base_url=slack.api_url, timeout=timeout)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    return client


def request_client(slack: SlackSettings, *, timeout: int = REQUEST_TIMEOUT) -> WebClient:
    """For calls on a listener thread: fail fast, never sleep on a 429."""
    return WebClient(token=slack.bot_token, base_url=slack.api_url, timeout=timeout, retry_handlers=[])


def build_app(slack: SlackSettings, client: WebClient, *, threads: int = LISTENER_THREADS) -> App:
    """The Bolt App (it calls auth.test once). Raises SlackSetupError when the environment
    would turn Bolt's multi-workspace OAuth flow on behind Paastis's back."""
    bolt_log = logging.getLogger(BOLT_LOGGER)
    bolt_log.addFilter(_not_token_unused)  # once: a filter already there is not added again
    pool = ListenerPool(threads)
    bolt = App(
        name="paastis",
        client=client,
        signing_secret=slack.signing_secret or "",  # Socket Mode needs none: its requests are not signed
        request_verification_enabled=False,  # the Gate verifies, and answers a malformed header 401
        before_authorize=Gate(slack.signing_secret),
        process_before_response=True,  # the ack runs on the request's thread; the work is lazy
        listener_executor=pool,
        logger=bolt_log,
    )
    bolt.use(Acknowledging(pool))
    if bolt.oauth_flow is not None:
        raise SlackSetupError(
            "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set in the environment, which turns Bolt's OAuth "
            "installation flow on; Paastis is installed in one workspace with SLACK_BOT_TOKEN: unset them"
        )
    return bolt


@dataclass(frozen=True)
class SlackSide:
    """What Paastis is built with when it runs in Slack (`build(poster=…, groups_of=…)`)."""

    client: WebClient
    directory: Directory
    outbound: Outbound
    response_urls: ResponseUrls
    poster: SlackPoster
    outbox: Outbox

    def close(self, timeout: float = 10.0) -> None:
        """Post what is queued for up to `timeout` s; notices still waiting stay in the outbox."""
        self.outbound.close(timeout)
        self.response_urls.close()
        self.outbox.close()


def slack_side(settings: Settings, clock: Clock, *, sends: bool = True) -> SlackSide:
    """The Slack pieces Paastis needs at construction; no call to Slack yet. `sends=False`
    (`paastis proxy`): notices are only written to the outbox, for `paastis serve` to post."""
    slack = settings.slack
    outbox = Outbox(settings.database, sends=sends)
    outbound = Outbound(WebClient(token=slack.bot_token, base_url=slack.api_url, timeout=10), outbox, clock)
    directory = Directory(request_client(slack, timeout=IDENTITY_TIMEOUT), settings.permissions, clock)
    urls = ResponseUrls(slack.api_url, clock)
    return SlackSide(web_client(slack), directory, outbound, urls, SlackPoster(outbound, slack.channel), outbox)


@dataclass(frozen=True)
class SlackParts:
    bolt: App
    auth: dict[str, Any]
    listeners: Listeners

    def close(self) -> None:
        """After the last request: the answers still due are computed and handed to the
        response_urls and the outbound path (closed after this) before Paastis stops."""
        self.bolt.listener_runner.listener_executor.shutdown(wait=True)


def connect(paastis: Paastis, side: SlackSide, slack: SlackSettings) -> SlackParts:
    """Check the bot token (auth.test), build the Bolt app and register its listeners over
    the finished Paastis. Raises SlackApiError, BoltError or SlackSetupError when Slack refuses."""
    auth = side.client.auth_test()
    bolt = build_app(slack, side.client)
    listeners = register(bolt, paastis, side.directory, side.outbound, side.response_urls, request_client(slack))
    side.outbound.resume()  # notices a stopped Paastis could not post, before any new one
    return SlackParts(bolt, dict(auth.data), listeners)
