"""Keeping an app awake until a moment (a pin), and dropping the pin."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.engine.actors import Actor
from bot.engine.audit import Audit
from bot.engine.fleet import Fleet
from bot.errors import ActionRefused
from bot.policy.catalog import AppView
from bot.store.store import Keep

LONGEST_KEEP = timedelta(days=31)


class Keeper:
    """Pins an app awake until a moment, and drops the pin."""

    def __init__(self, fleet: Fleet, audit: Audit) -> None:
        self.fleet = fleet
        self.audit = audit

    def keep(self, view: AppView, until: datetime, actor: Actor, reason: str | None = None) -> Keep:
        now = self.fleet.clock.now()
        if until <= now:
            raise ActionRefused("That moment is already past: pick a later one.")
        if until - now > LONGEST_KEEP:
            raise ActionRefused("Keeping an app awake is limited to 31 days, so pins are not forgotten.")
        keep = Keep(until=until, by=actor.id, by_name=actor.name, reason=reason, created_at=now)
        self.fleet.store.set_keep(*view.ref, keep)
        self.fleet.store.update_app(*view.ref, last_used_at=now)
        self.audit.event("kept", view, actor, reason or "", details={"until": until.isoformat()})
        return keep

    def unkeep(self, view: AppView, actor: Actor) -> bool:
        dropped = self.fleet.store.drop_keep(*view.ref)
        if dropped:
            self.audit.event("unkept", view, actor, "")
        return dropped
