"""Discovery: every provider's apps listed into the store, and the providers' health.

A provider that cannot be listed is logged once per change (not at every minute) and, when
it lasts, told to the channel — at once for refused credentials, which never fix themselves.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.engine.actors import SCHEDULER
from bot.engine.audit import Audit
from bot.engine.fleet import Fleet
from bot.engine.notices import Notify, ProviderRecovered, ProviderTrouble
from providers.base import AuthenticationFailed, ProviderError

log = logging.getLogger(__name__)

TROUBLE_AFTER = timedelta(minutes=5)  # a provider failing this long is reported in the channel
TROUBLE_REPEAT = timedelta(hours=6)  # ... and reminded at most this often


class Discovery:
    """Lists every provider's apps into the store and follows each provider's health."""

    def __init__(self, fleet: Fleet, audit: Audit, notify: Notify) -> None:
        self.fleet = fleet
        self.audit = audit
        self.notify = notify

    def discover(self) -> dict[str, str]:
        """List every provider's apps into the store; returns errors by provider name."""
        errors: dict[str, str] = {}
        for name, provider in self.fleet.providers.items():
            now = self.fleet.clock.now()
            try:
                apps = provider.list_apps()
            except ProviderError as exc:
                errors[name] = str(exc)
                self._failed(name, exc)
                continue
            self._ok(name)
            waking = frozenset(app_id for owner, app_id in self.fleet.wakes.in_flight() if owner == name)
            for app in self.fleet.store.sync_apps(name, apps, now, hold_state=waking):
                log.info("app.discovered provider=%s app=%s state=%s", name, app.name, app.state.value)
                self.audit.record(
                    "discovered",
                    SCHEDULER,
                    provider=name,
                    app_id=app.app_id,
                    app_name=app.name,
                    reason=f"found {app.state.value}",
                )
        return errors

    def _failed(self, name: str, exc: ProviderError) -> None:
        now, error = self.fleet.clock.now(), str(exc)
        previous = self.fleet.store.provider_health().get(name, {})
        health = self.fleet.store.provider_failed(name, error, now)
        if previous.get("ok", 1) or previous.get("error") != error:
            log.warning("provider.failing provider=%s error=%s", name, error)
        else:
            log.debug("provider.still_failing provider=%s error=%s", name, error)
        since = datetime.fromisoformat(health["failing_since"])
        notified = datetime.fromisoformat(health["notified_at"]) if health.get("notified_at") else None
        lasting = now - since >= TROUBLE_AFTER or isinstance(exc, AuthenticationFailed)
        if lasting and (notified is None or now - notified >= TROUBLE_REPEAT):
            self.fleet.store.provider_notified(name, now)
            self.audit.record("provider_error", SCHEDULER, provider=name, outcome="failed", reason=error)
            self.notify(ProviderTrouble(name, error, since))

    def _ok(self, name: str) -> None:
        if self.fleet.store.provider_ok(name, self.fleet.clock.now()):
            log.info("provider.recovered provider=%s", name)
            self.notify(ProviderRecovered(name))
