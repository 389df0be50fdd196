"""slack_sdk's InstallationStore and OAuthStateStore over the hosted registry.

slack_sdk's own SQL stores keep tokens in clear in VARCHAR(200) columns; here the whole
installation is sealed (bot.hosted.crypto) in a TEXT column, so the database alone reveals
no token. Org-wide (Enterprise Grid) installs are not supported: the team is the tenant.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from typing import Any

from slack_bolt.error import BoltError
from slack_sdk.oauth.installation_store import Bot, Installation, InstallationStore
from slack_sdk.oauth.state_store import OAuthStateStore

from bot.clock import Clock
from bot.hosted.crypto import SealBroken, Sealer
from bot.hosted.registry import Registry

log = logging.getLogger(__name__)
STATE_SECONDS = 600


class RegistryInstallationStore(InstallationStore):
    def __init__(self, registry: Registry, sealer: Sealer, clock: Clock) -> None:
        self.registry = registry
        self.sealer = sealer
        self.clock = clock

    @property
    def logger(self) -> logging.Logger:
        return log

    def save(self, installation: Installation) -> None:
        team = installation.team_id
        if not team or installation.is_enterprise_install:
            raise BoltError("org-wide installs are not supported: install Paastis in each workspace")
        plain = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in installation.to_dict().items()}
        sealed = self.sealer.seal(team, plain)
        self.registry.save_installation(
            team, sealed, installation.team_name or "", installation.user_id, self.clock.now().isoformat()
        )
        log.info("hosted.installed team=%s", team)

    def find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        sealed = self.registry.installation(team_id) if team_id else None
        if sealed is None:
            return None
        try:
            values: Any = self.sealer.open(team_id, sealed)
        except SealBroken as exc:
            log.error("hosted.installation_unreadable team=%s error=%s", team_id, exc)
            return None
        return Installation(**values)

    def find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        found = self.find_installation(enterprise_id=enterprise_id, team_id=team_id)
        return found.to_bot() if found else None

    def delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        """The uninstall handler (bot.hosted.app) deletes tokens with everything else."""

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """As delete_installation."""

    def delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """As delete_installation."""


class RegistryStateStore(OAuthStateStore):
    """A state per install page shown, consumed once within 10 minutes."""

    def __init__(self, registry: Registry, clock: Clock, expiration_seconds: int = STATE_SECONDS) -> None:
        self.registry = registry
        self.clock = clock
        self.expiration_seconds = expiration_seconds

    @property
    def logger(self) -> logging.Logger:
        return log

    def issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(24)
        self.registry.issue_state(state, self.clock.now().timestamp() + self.expiration_seconds)
        return state

    def consume(self, state: str) -> bool:
        return bool(state) and self.registry.consume_state(state, self.clock.now().timestamp())
