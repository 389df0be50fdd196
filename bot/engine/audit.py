"""The audit log: every event written to the store, then handed to `on_event` (the webhooks)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta

from bot.engine.actors import Actor
from bot.policy.catalog import AppView
from bot.store.store import Store
from providers.base import Clock

EventSink = Callable[[dict[str, object]], None]


def _nowhere(event: dict[str, object]) -> None:
    pass


class Audit:
    """Writes events to the audit log (the store), then hands each to `on_event` (the webhooks)."""

    def __init__(self, store: Store, clock: Clock, on_event: EventSink = _nowhere) -> None:
        self.store = store
        self.clock = clock
        self.on_event = on_event

    def event(
        self,
        action: str,
        view: AppView,
        actor: Actor,
        reason: str,
        *,
        outcome: str = "ok",
        duration: timedelta | None = None,
        details: Mapping[str, object] | None = None,
    ) -> None:
        """An event about one app."""
        self.record(
            action,
            actor,
            provider=view.row.provider,
            app_id=view.row.app_id,
            app_name=view.name,
            outcome=outcome,
            reason=reason,
            duration=duration,
            details=details,
        )

    def record(self, action: str, actor: Actor, **fields: object) -> None:
        """Write an event to the audit log, and hand it to the webhooks."""
        at = self.clock.now()
        event_id = self.store.add_event(at=at, action=action, actor=actor.id, actor_name=actor.name, **fields)
        duration = fields.get("duration")
        payload = {
            "id": event_id,
            "at": at.isoformat(),
            "action": action,
            "actor": actor.id,
            "actor_name": actor.name,
            **{k: v for k, v in fields.items() if k != "duration"},
            "duration_seconds": duration.total_seconds() if isinstance(duration, timedelta) else None,
        }
        self.on_event(payload)
