"""A fake Slack Web API on 127.0.0.1, port 0: records every call, answers like Slack.

    with FakeSlack() as slack:
        client = WebClient(token=slack.bot_token, base_url=slack.api_url)
        ...
        slack.calls_to("chat.postMessage")          # method, token and body of each call

It answers the methods Paastis uses — auth.test, chat.postMessage, chat.update,
chat.postEphemeral, views.publish, views.open, views.update, users.info, usergroups.users.list,
apps.connections.open, and oauth.v2.access for installs in several workspaces (`authorize`) —
and enforces what real Slack would refuse: unknown tokens (invalid_auth), more than 50 blocks
in a message or 100 in a Home view, sections over 3000 characters, long labels and values,
repeated action ids in one block (invalid_blocks), private channels the bot is not in
(not_in_channel), updates of unknown messages (message_not_found). Failures and 429s with
Retry-After can be scripted per method.

Like Slack, it rate-limits: chat.postMessage about one message a second per channel (a
short burst allowed), chat.update 50 a minute for the workspace (Tier 3); beyond, HTTP 429
with Retry-After. Every such answer is kept in `ratelimited`.

It also serves response_urls (`slack.response_url("key")`): each counts its uses and, like
Slack, refuses a sixth.
"""

from __future__ import annotations

import base64
import json
import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

BOT_TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-test-token"
TEAM = {"team": "Paastis Test", "team_id": "T0TEST", "user": "paastis", "user_id": "U0BOT", "bot_id": "B0BOT"}
CLIENT_ID, CLIENT_SECRET = "1111.2222", "test-client-secret"
RESPONSE_URL_USES = 5
POST_PER_SECOND, POST_BURST = 1.0, 3  # chat.postMessage, per channel
UPDATE_PER_SECOND, UPDATE_BURST = 50 / 60, 10  # chat.update (Tier 3), per workspace


class Bucket:
    """A token bucket on real time: `take()` is 0 when a call may go, else the seconds to wait."""

    def __init__(self, per_second: float, burst: int) -> None:
        self.per_second = per_second
        self.burst = burst
        self.tokens = float(burst)
        self.at = time.monotonic()

    def take(self) -> float:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.per_second)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.per_second


@dataclass
class Call:
    method: str
    token: str | None
    body: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


@dataclass
class Posted:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None = None
    edits: list[dict[str, Any]] = field(default_factory=list)

    @property
    def current(self) -> dict[str, Any]:
        """The message as Slack shows it now (after its last chat.update)."""
        return self.edits[-1] if self.edits else {"text": self.text, "blocks": self.blocks}


class FakeSlack:
    def __init__(self, *, rate_limits: bool = True) -> None:
        self.bot_token = BOT_TOKEN
        self.app_token = APP_TOKEN
        self.calls: list[Call] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.usergroups: dict[str, list[str]] = {}
        self.private_channels: set[str] = set()  # channels the bot is not in: not_in_channel
        self.missing_channels: set[str] = set()  # channel_not_found
        self.home_enabled = True
        self.socket_url: str | None = None
        self.messages: list[Posted] = []
        self.ephemerals: list[dict[str, Any]] = []
        self.views: dict[str, list[dict[str, Any]]] = {}  # user → every view published
        self.opened: list[dict[str, Any]] = []  # every views.open and views.update, with its token
        self.tokens: dict[str, dict[str, str]] = {BOT_TOKEN: TEAM}  # bot token → its workspace
        self._codes: dict[str, tuple[dict[str, str], str]] = {}  # OAuth code → (workspace, installer)
        self.expires_in: int | None = None  # token rotation on: bot tokens live this many seconds
        self._refresh: dict[str, dict[str, str]] = {}  # refresh token (used once) → its workspace
        self.response_uses: dict[str, list[dict[str, Any]]] = {}
        self._script: dict[str, list[dict[str, Any]]] = {}
        self._outages: dict[str, str] = {}
        self._delays: dict[str, float] = {}
        self.rate_limits = rate_limits
        self.ratelimited: list[Call] = []  # every call answered 429 by the rate limits (not the scripted ones)
        self._post_buckets: dict[str, Bucket] = {}
        self._update_bucket = Bucket(UPDATE_PER_SECOND, UPDATE_BURST)
        self._ts = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fake-slack", daemon=True)

    # -- life ----------------------------------------------------------------------------
    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    # -- scripting -----------------------------------------------------------------------
    def fail(self, method: str, error: str, *, times: int = 1) -> None:
        """The next `times` calls of `method` answer {"ok": false, "error": error}."""
        with self._lock:
            self._script.setdefault(method, []).extend([{"error": error}] * times)

    def rate_limit(self, method: str, *, retry_after: int = 1, times: int = 1) -> None:
        """The next `times` calls of `method` answer HTTP 429 with Retry-After."""
        with self._lock:
            self._script.setdefault(method, []).extend([{"retry_after": retry_after}] * times)

    def outage(self, method: str, error: str | None = "internal_error") -> None:
        """Every call of `method` answers {"ok": false, "error": error} until `outage(method, None)`."""
        with self._lock:
            if error:
                self._outages[method] = error
            else:
                self._outages.pop(method, None)

    def delay(self, method: str, seconds: float) -> None:
        """Every call of `method` takes `seconds` (a slow Slack)."""
        self._delays[method] = seconds

    def add_user(self, user_id: str, name: str, *, admin: bool = False, owner: bool = False) -> None:
        self.users[user_id] = {
            "id": user_id,
            "name": name.lower(),
            "real_name": name,
            "is_admin": admin,
            "is_owner": owner,
            "is_primary_owner": False,
            "profile": {"display_name": name, "real_name": name},
        }

    def authorize(self, team_id: str, team_name: str, installer: str) -> str:
        """Someone clicked "Allow" on Slack's consent page: the code Slack sends to the redirect."""
        with self._lock:
            code = f"code-{team_id}-{len(self._codes)}"
            team = {**TEAM, "team": team_name, "team_id": team_id}
            self._codes[code] = (team, installer)
            return code

    def revoke(self, team_id: str) -> None:
        """The workspace uninstalled the app: its tokens stop working."""
        with self._lock:
            for token in [t for t, team in self.tokens.items() if team["team_id"] == team_id]:
                del self.tokens[token]

    def response_url(self, key: str) -> str:
        return f"{self.base_url}/response/{key}"

    # -- reading -------------------------------------------------------------------------
    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def responses(self, key: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.response_uses.get(key, []))

    def message(self, channel: str, ts: str) -> Posted | None:
        with self._lock:
            return next((m for m in self.messages if m.channel == channel and m.ts == ts), None)

    def thread(self, channel: str, thread_ts: str) -> list[Posted]:
        with self._lock:
            return [m for m in self.messages if m.channel == channel and m.thread_ts == thread_ts]

    def wait_for(self, predicate, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.01)
        return predicate()

    # -- the API -------------------------------------------------------------------------
    def handle(
        self, method: str, token: str | None, body: dict[str, Any]
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        if method in self._delays:
            time.sleep(self._delays[method])
        with self._lock:
            self.calls.append(Call(method, token, body))
            scripted = self._script.get(method)
            step = scripted.pop(0) if scripted else None
            if step is None and method in self._outages:
                step = {"error": self._outages[method]}
        if step and "retry_after" in step:
            return 429, {"Retry-After": str(step["retry_after"])}, {"ok": False, "error": "ratelimited"}
        if step:
            return 200, {}, {"ok": False, "error": step["error"]}
        wait = self._limit(method, body)
        if wait:
            return 429, {"Retry-After": str(math.ceil(wait))}, {"ok": False, "error": "ratelimited"}
        if method == "apps.connections.open":
            if token != self.app_token:
                return (
                    200,
                    {},
                    {"ok": False, "error": "not_allowed_token_type" if token == self.bot_token else "invalid_auth"},
                )
            return 200, {}, {"ok": True, "url": self.socket_url}
        if method == "oauth.v2.access":
            with self._lock:
                return 200, {}, self._oauth_v2_access(token, body)
        if token not in self.tokens:
            return 200, {}, {"ok": False, "error": "not_authed" if not token else "invalid_auth"}
        if method == "auth.test":
            return 200, {}, {"ok": True, "url": "https://paastis-test.slack.com/", **self.tokens[token]}
        if method in ("views.open", "views.update"):
            with self._lock:
                return 200, {}, self._views_open(method, token, body)
        answer = getattr(self, "_" + method.replace(".", "_"), None)
        if answer is None:
            return 200, {}, {"ok": False, "error": "unknown_method"}
        with self._lock:
            return 200, {}, answer(body)

    def _limit(self, method: str, body: dict[str, Any]) -> float:
        """Seconds until Slack would take this call (0: now), as its rate limits count."""
        if not self.rate_limits or method not in ("chat.postMessage", "chat.update"):
            return 0.0
        with self._lock:
            if method == "chat.postMessage":
                channel = str(body.get("channel"))
                bucket = self._post_buckets.setdefault(channel, Bucket(POST_PER_SECOND, POST_BURST))
            else:
                bucket = self._update_bucket
            wait = bucket.take()
            if wait:
                self.ratelimited.append(self.calls[-1])
            return wait

    def _oauth_v2_access(self, credentials: str | None, body: dict[str, Any]) -> dict[str, Any]:
        """The code exchanged for a bot token, once; the client's id and secret checked (Basic auth)."""
        if credentials != f"{CLIENT_ID}:{CLIENT_SECRET}":
            return {"ok": False, "error": "invalid_client_id"}
        if body.get("grant_type") == "refresh_token":  # the refresh token is spent: a new pair
            team = self._refresh.pop(str(body.get("refresh_token")), None)
            if team is None:
                return {"ok": False, "error": "invalid_refresh_token"}
            found: tuple[dict[str, str], str] | None = (team, "")
        else:
            found = self._codes.pop(str(body.get("code")), None)
        if found is None:
            return {"ok": False, "error": "invalid_code"}
        team, installer = found
        token = f"xoxb-{team['team_id']}-{len(self.tokens)}-secretpart"
        self.tokens[token] = team
        rotation = {}
        if self.expires_in is not None:
            refresh = f"xoxe-1-{team['team_id']}-{len(self.tokens)}-refreshpart"
            self._refresh[refresh] = team
            rotation = {"refresh_token": refresh, "expires_in": self.expires_in}
        return {
            **rotation,
            "ok": True,
            "app_id": "A0TEST",
            "access_token": token,
            "token_type": "bot",
            "scope": "commands,chat:write,chat:write.public,users:read,usergroups:read",
            "bot_user_id": team["user_id"],
            "team": {"id": team["team_id"], "name": team["team"]},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": installer},
        }

    def _views_open(self, method: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
        view = body.get("view")
        view = json.loads(view) if isinstance(view, str) else view
        if method == "views.open" and not body.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        if not isinstance(view, dict) or view.get("type") != "modal" or len(view.get("blocks") or []) > 100:
            return {"ok": False, "error": "invalid_arguments"}
        self.opened.append({"method": method, "token": token, "view": view, "view_id": body.get("view_id")})
        return {"ok": True, "view": {"id": f"V0MODAL{len(self.opened)}", **view}}

    def _chat_postMessage(self, body: dict[str, Any]) -> dict[str, Any]:
        channel, problem = self._channel(body.get("channel"))
        if problem:
            return {"ok": False, "error": problem}
        errors = block_errors(body.get("blocks"), 50)
        if errors:
            return {"ok": False, "error": "invalid_blocks", "errors": errors}
        if not body.get("text") and not body.get("blocks"):
            return {"ok": False, "error": "no_text"}
        self._ts += 1
        ts = f"1700000000.{self._ts:06d}"
        posted = Posted(channel, ts, body.get("text", ""), body.get("blocks") or [], body.get("thread_ts"))
        self.messages.append(posted)
        return {"ok": True, "channel": channel, "ts": ts, "message": {"text": posted.text, "ts": ts}}

    def _chat_update(self, body: dict[str, Any]) -> dict[str, Any]:
        posted = next((m for m in self.messages if m.channel == body.get("channel") and m.ts == body.get("ts")), None)
        if posted is None:
            return {"ok": False, "error": "message_not_found"}
        errors = block_errors(body.get("blocks"), 50)
        if errors:
            return {"ok": False, "error": "invalid_blocks", "errors": errors}
        if len(body.get("text") or "") > 4000:
            return {"ok": False, "error": "msg_too_long"}
        posted.edits.append({"text": body.get("text", ""), "blocks": body.get("blocks") or []})
        return {"ok": True, "channel": posted.channel, "ts": posted.ts}

    def _chat_postEphemeral(self, body: dict[str, Any]) -> dict[str, Any]:
        _, problem = self._channel(body.get("channel"))
        if problem or not body.get("user"):
            return {"ok": False, "error": problem or "user_not_in_channel"}
        errors = block_errors(body.get("blocks"), 50)
        if errors:
            return {"ok": False, "error": "invalid_blocks", "errors": errors}
        self.ephemerals.append(body)
        return {"ok": True, "message_ts": f"1700000001.{len(self.ephemerals):06d}"}

    def _views_publish(self, body: dict[str, Any]) -> dict[str, Any]:
        if not self.home_enabled:
            return {"ok": False, "error": "not_enabled"}
        view = body.get("view")
        view = json.loads(view) if isinstance(view, str) else view
        if not isinstance(view, dict) or view.get("type") != "home" or not body.get("user_id"):
            return {"ok": False, "error": "invalid_arguments"}
        errors = block_errors(view.get("blocks"), 100)
        if len(view.get("private_metadata") or "") > 3000:
            errors.append("private_metadata must be at most 3000 characters")
        if errors:
            return {"ok": False, "error": "invalid_blocks", "errors": errors}
        self.views.setdefault(body["user_id"], []).append(view)
        return {"ok": True, "view": {"id": "V0HOME", **view}}

    def _users_info(self, body: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(body.get("user", ""))
        return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}

    def _usergroups_users_list(self, body: dict[str, Any]) -> dict[str, Any]:
        members = self.usergroups.get(body.get("usergroup", ""))
        return {"ok": True, "users": members} if members is not None else {"ok": False, "error": "no_such_subteam"}

    def _channel(self, channel: Any) -> tuple[str, str | None]:
        if not isinstance(channel, str) or not channel or channel in self.missing_channels:
            return "", "channel_not_found"
        if channel in self.private_channels:
            return channel, "not_in_channel"
        if channel.startswith(("U", "W")):  # a user id: the app's DM with that user
            return "D" + channel, None
        return channel, None

    def use_response_url(self, key: str, payload: dict[str, Any]) -> bool:
        with self._lock:
            uses = self.response_uses.setdefault(key, [])
            if len(uses) >= RESPONSE_URL_USES:
                return False
            uses.append(payload)
            return True


def block_errors(blocks: Any, limit: int) -> list[str]:
    """What Slack's invalid_blocks would say about `blocks` (empty: valid)."""
    if blocks is None:
        return []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    errors = []
    if len(blocks) > limit:
        errors.append(f"no more than {limit} items allowed [json-pointer:/blocks]")
    for index, block in enumerate(blocks):
        where = f"[json-pointer:/blocks/{index}]"
        kind = block.get("type")
        if kind == "section":
            text = (block.get("text") or {}).get("text", "")
            if not text or len(text) > 3000:
                errors.append(f"section text must be 1 to 3000 characters {where}")
            if block.get("accessory"):
                errors.extend(_element_errors(block["accessory"], where))
        elif kind == "header":
            if not 0 < len(block["text"]["text"]) <= 150 or block["text"]["type"] != "plain_text":
                errors.append(f"header must be plain text of 1 to 150 characters {where}")
        elif kind == "actions":
            elements = block.get("elements") or []
            ids = [e.get("action_id") for e in elements]
            if not 0 < len(elements) <= 25:
                errors.append(f"actions must hold 1 to 25 elements {where}")
            if len(set(ids)) != len(ids):
                errors.append(f"action_id must be unique within a block {where}")
            for element in elements:
                errors.extend(_element_errors(element, where))
        elif kind == "context":
            elements = block.get("elements") or []
            if not 0 < len(elements) <= 10 or any(not 0 < len(e.get("text", "")) <= 3000 for e in elements):
                errors.append(f"context must hold 1 to 10 elements of 1 to 3000 characters {where}")
        elif kind != "divider":
            errors.append(f"unsupported block type {kind!r} {where}")
    return errors


def _element_errors(element: dict[str, Any], where: str) -> list[str]:
    errors = []
    if element.get("type") != "button":
        return [f"unsupported element {element.get('type')!r} {where}"]
    if not 0 < len(element["text"]["text"]) <= 75:
        errors.append(f"button text must be 1 to 75 characters {where}")
    if len(element.get("value", "")) > 2000 or len(element.get("action_id", "")) > 255:
        errors.append(f"button value or action_id too long {where}")
    if len(element.get("url", "")) > 3000:
        errors.append(f"button url too long {where}")
    if element.get("style") not in (None, "primary", "danger"):
        errors.append(f"button style must be primary or danger {where}")
    confirm = element.get("confirm")
    if confirm and (
        len(confirm["title"]["text"]) > 100
        or len(confirm["text"]["text"]) > 300
        or len(confirm["confirm"]["text"]) > 30
        or len(confirm["deny"]["text"]) > 30
    ):
        errors.append(f"confirm dialog texts too long {where}")
    return errors


def _handler(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._api()

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            if parts.path.startswith("/response/"):
                self._response_url(parts.path.removeprefix("/response/"))
            else:
                self._api()

        def _api(self) -> None:
            parts = urlsplit(self.path)
            if not parts.path.startswith("/api/"):
                self._send(404, {}, b"not found")
                return
            body = dict(parse_qsl(parts.query))
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            if raw and "json" in (self.headers.get("Content-Type") or ""):
                body.update(json.loads(raw))
            elif raw:
                body.update(parse_qsl(raw))
            auth = self.headers.get("Authorization") or ""
            token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else body.pop("token", None)
            if auth.startswith("Basic "):  # oauth.v2.access: the client's id and secret
                token = base64.b64decode(auth.removeprefix("Basic ")).decode()
            status, headers, answer = fake.handle(parts.path.removeprefix("/api/"), token, body)
            self._send(status, {"Content-Type": "application/json", **headers}, json.dumps(answer).encode())

        def _response_url(self, key: str) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            if fake.use_response_url(key, json.loads(raw or "{}")):
                self._send(200, {"Content-Type": "text/plain"}, b"ok")
            else:
                self._send(404, {"Content-Type": "text/plain"}, b"used_url")

        def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def walk_texts(blocks: list[dict[str, Any]]) -> Iterator[str]:
    """Every text of some blocks, for assertions on what a user reads."""
    for block in blocks:
        if "text" in block:
            yield block["text"]["text"]
        for element in block.get("elements") or []:
            yield element["text"]["text"] if isinstance(element.get("text"), dict) else element.get("text", "")
        if "accessory" in block:
            yield block["accessory"]["text"]["text"]


def mrkdwn_texts(value: Any) -> Iterator[str]:
    """Every mrkdwn text object in some blocks (or a view): what Slack parses for mentions
    and links — plain_text (headers, button labels) it shows as it is."""
    if isinstance(value, dict):
        if value.get("type") == "mrkdwn":
            yield value["text"]
        for child in value.values():
            yield from mrkdwn_texts(child)
    elif isinstance(value, list):
        for child in value:
            yield from mrkdwn_texts(child)
