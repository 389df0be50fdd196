"""Bot tokens rotated ahead of their expiry, when the Slack app has token rotation on.

Bolt rotates a token only while authorizing a request, once it is within 2 hours of
expiring; a workspace nobody talks to for 12 hours would then lose its notices and reports.
`TokenKeeper.rotate_due` (every hour in `serve`) rotates each token due within 4 hours, one
workspace at a time, under that workspace's rotation lock in the database (so two instances
never spend one refresh token: research/hosted.md §1.4), re-reading the installation right
before (a refresh token is good once; the other instance may have rotated it meanwhile),
saves it sealed, and rebuilds that workspace's Paastis with the new token.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.oauth.token_rotation import TokenRotator

from bot.hosted.registry import Registry
from bot.hosted.settings import HostedSettings
from bot.hosted.stores import RegistryInstallationStore
from bot.hosted.tenants import Tenants

log = logging.getLogger(__name__)
AHEAD_MINUTES = 240  # more than Bolt's 120: the request-time rotation almost never has to run


class TokenKeeper:
    def __init__(
        self, hosted: HostedSettings, registry: Registry, installations: RegistryInstallationStore, tenants: Tenants
    ) -> None:
        self.registry = registry
        self.installations = installations
        self.tenants = tenants
        client = WebClient(base_url=hosted.api_url, timeout=10)  # not slack.com: SLACK_API_URL
        self.rotator = TokenRotator(client_id=hosted.client_id, client_secret=hosted.client_secret, client=client)

    def rotate_due(self, minutes_before: int = AHEAD_MINUTES) -> list[str]:
        """The teams whose token was rotated."""
        rotated = []
        for workspace in self.registry.workspaces():
            if workspace.uninstalled_at:
                continue
            with self.registry.team_lock("rotate", workspace.team_id):
                if self._rotate(workspace.team_id, minutes_before):
                    rotated.append(workspace.team_id)
        return rotated

    def _rotate(self, team_id: str, minutes_before: int) -> bool:
        installation = self.installations.find_installation(enterprise_id=None, team_id=team_id)
        if installation is None or not installation.bot_refresh_token:
            return False
        try:
            fresh = self.rotator.perform_token_rotation(
                installation=installation, minutes_before_expiration=minutes_before
            )
        except (SlackApiError, SlackClientError, OSError) as exc:
            error = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
            log.warning("hosted.token_rotation_failed team=%s error=%s", team_id, error)
            return False
        if fresh is None:
            return False
        self.installations.save(fresh)
        self.tenants.get(team_id, fresh.bot_token)  # a running workspace is rebuilt with it
        log.info("hosted.token_rotated team=%s", team_id)
        return True
