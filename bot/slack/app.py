"""The Bolt App and its WebClients, built from settings: tokens, the signing secret and
SLACK_API_URL are passed explicitly, never left for Bolt to find on its own.

    web_client       posts, updates, views.publish: retries 429s after Retry-After
    identity_client  users.info, usergroups.users.list: before a command's ack, so a short
                     timeout and no retries (a slow Slack fails closed instead of late)
    build_app        App(client=…, signing_secret=…) with a listener pool larger than Bolt's 5

Built in two steps around `bot.wiring.build`, so nothing is replaced afterwards:

    slack_side(…)    before Paastis, no network call: the web client, the poster of channel
                     notices, the directory of users and groups (permissions) → build(poster=…,
                     groups_of=…)
    connect(…)       after: auth.test, the Bolt app, its listeners registered over the finished
                     Paastis; `start(resumed=parts.listeners.resume)` follows
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.clock import Clock
from bot.config.loading import Permissions, SlackSettings
from bot.errors import SlackSetupError
from bot.slack.identity import Directory
from bot.slack.listeners import Listeners, PayloadCheck, register
from bot.slack.poster import SlackPoster
from bot.wiring import Paastis

LISTENER_THREADS = 32  # Bolt's default is 5: a sixth request waiting on a listener would get a 404
IDENTITY_TIMEOUT = 1  # seconds: users.info runs before a command is acknowledged


def web_client(slack: SlackSettings, *, timeout: int = 10) -> WebClient:
    client = WebClient(token=slack.bot_token, base_url=slack.api_url, timeout=timeout)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    return client


def identity_client(slack: SlackSettings) -> WebClient:
    return WebClient(token=slack.bot_token, base_url=slack.api_url, timeout=IDENTITY_TIMEOUT, retry_handlers=[])


def build_app(slack: SlackSettings, client: WebClient, *, threads: int = LISTENER_THREADS) -> App:
    """The Bolt App (it calls auth.test once). Raises SlackSetupError when the environment
    would turn Bolt's multi-workspace OAuth flow on behind Paastis's back."""
    bolt = App(
        name="paastis",
        client=client,
        signing_secret=slack.signing_secret or "",  # Socket Mode needs none: its requests are not signed
        before_authorize=PayloadCheck(),
        listener_executor=ThreadPoolExecutor(max_workers=threads, thread_name_prefix="slack-listener"),
    )
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
    poster: SlackPoster

    def close(self) -> None:
        self.poster.close()


def slack_side(slack: SlackSettings, permissions: Permissions, clock: Clock) -> SlackSide:
    """The Slack pieces Paastis needs at construction; no call to Slack yet."""
    client = web_client(slack)
    directory = Directory(identity_client(slack), permissions, clock)
    return SlackSide(client, directory, SlackPoster(client, slack.channel, clock))


@dataclass(frozen=True)
class SlackParts:
    bolt: App
    auth: dict[str, Any]
    listeners: Listeners

    def close(self) -> None:
        self.bolt.listener_runner.listener_executor.shutdown(wait=False)


def connect(paastis: Paastis, side: SlackSide, slack: SlackSettings) -> SlackParts:
    """Check the bot token (auth.test), build the Bolt app and register its listeners over
    the finished Paastis. Raises SlackApiError, BoltError or SlackSetupError when Slack refuses."""
    auth = side.client.auth_test()
    bolt = build_app(slack, side.client)
    listeners = register(bolt, paastis, side.directory)
    return SlackParts(bolt, dict(auth.data), listeners)
