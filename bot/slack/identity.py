"""Who is asking: the Slack user behind a command or a click, as an `Actor`.

Workspace admins and owners come from users.info (`is_admin`, `is_owner`,
`is_primary_owner`); members of the user groups named in PAASTIS_ADMINS (or in the
permissions of paastis.yml) from usergroups.users.list. Both are cached a few minutes.

These lookups run after the acknowledgement, on a listener thread whose answer waits for
them, so they use a client with a short timeout and no retries. When Slack cannot tell (an
error, a timeout), the actor is not an admin, and `groups_of` — which `Chatops` consults
only when the actor's own id and admin flag are not enough — refuses with the reason:
admin-only actions fail closed; what everyone may do (wake, by default) still works.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.clock import Clock
from bot.config.loading import Permissions
from bot.engine.actors import Actor
from bot.errors import ActionRefused

log = logging.getLogger(__name__)

CACHE_FOR = timedelta(minutes=5)


@dataclass(frozen=True)
class _Known:
    value: object
    at: datetime


class Directory:
    """Slack users and user groups, cached `CACHE_FOR`. Thread-safe."""

    def __init__(
        self, client: WebClient, permissions: Permissions, clock: Clock, cache_for: timedelta = CACHE_FOR
    ) -> None:
        self.client = client
        self.clock = clock
        self.cache_for = cache_for
        granted = [*permissions.admins]
        for rule in (permissions.wake, permissions.sleep, permissions.keep):
            if isinstance(rule, tuple):
                granted.extend(rule)
        self.groups = tuple(dict.fromkeys(g for g in granted if g.startswith("S")))
        self._granted = frozenset(granted)
        self._users: dict[str, _Known] = {}
        self._members: dict[str, _Known] = {}
        self._unknown: dict[str, str] = {}  # user id → why users.info failed, until it works again
        self._lock = threading.Lock()

    def actor(self, user_id: str, fallback_name: str = "") -> Actor:
        """The Actor for a Slack user; not an admin when Slack cannot tell."""
        user = self._fresh(self._users, user_id)
        if not isinstance(user, dict):
            try:
                user = self.client.users_info(user=user_id)["user"]
                if not isinstance(user, dict):
                    raise TypeError("users.info answered no user")
            except (SlackClientError, OSError, KeyError, TypeError) as exc:
                why = _why(exc)
                log.warning("slack.identity_unknown user=%s error=%s", user_id, why)
                with self._lock:
                    self._unknown[user_id] = why
                return Actor(user_id, fallback_name or user_id, is_admin=False, via="slack")
            with self._lock:
                self._users[user_id] = _Known(user, self.clock.now())
                self._unknown.pop(user_id, None)
        profile = user.get("profile") or {}
        name = profile.get("display_name") or profile.get("real_name") or user.get("real_name") or user.get("name")
        is_admin = bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
        return Actor(user_id, str(name or fallback_name or user_id), is_admin=is_admin, via="slack")

    def groups_of(self, user_id: str) -> frozenset[str]:
        """The user groups (named in the permissions) `user_id` belongs to. Raises
        ActionRefused when Slack could not say whether this user is an admin."""
        member_of, errors = set(), []
        for group in self.groups:
            members = self._fresh(self._members, group)
            if members is None:
                try:
                    members = frozenset(self.client.usergroups_users_list(usergroup=group)["users"])
                except (SlackClientError, OSError, KeyError, TypeError) as exc:
                    log.warning("slack.usergroup_unknown group=%s error=%s", group, _why(exc))
                    errors.append(f"user group {group}: {_why(exc)}")
                    continue
                with self._lock:
                    self._members[group] = _Known(members, self.clock.now())
            if user_id in members:  # type: ignore[operator]
                member_of.add(group)
        with self._lock:
            unknown = self._unknown.get(user_id)
        if unknown:
            errors.insert(0, f"users.info: {unknown}")
        if errors and not member_of & self._granted:
            raise ActionRefused(
                "Slack could not tell whether you are an admin (" + "; ".join(errors) + "), so Paastis refuses "
                "this for now. Try again in a minute; if it persists, check the app's scopes (users:read, "
                "usergroups:read) or list your user id in PAASTIS_ADMINS."
            )
        return frozenset(member_of)

    def _fresh(self, cache: dict[str, _Known], key: str) -> object | None:
        with self._lock:
            known = cache.get(key)
        if known is None or self.clock.now() - known.at > self.cache_for:
            return None
        return known.value


def _why(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
    return type(exc).__name__ if not str(exc) else f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
