"""Following a wake with one message, however many people ask for it.

    follow_wake(ticket, reply, value)  the wake's first message, then updates in place,
                                       throttled to the reply's budget (response_url: 5 uses),
                                       always keeping one update for the end
    WakeThreads                        one message per wake in a shared place (a channel
                                       thread): the first asker's reply follows the wake and
                                       names everyone who asked ("Asked by Alice, Bob and 6
                                       others"); each later asker is answered privately and
                                       added to that message

A reply's `place` says whether others see it: None for what only the asker sees (an
ephemeral answer, a DM, the terminal), else a key of the shared place.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from bot.chat import answers
from bot.chat.messages import Context, Destination, Message, Mrkdwn, Section, app_name, md
from bot.engine.wake_jobs import Phase, TicketProgress, WakeJob, WakeTicket


def follow_wake(ticket: WakeTicket, reply: Destination, value: str, *, first: bool = True) -> None:
    """Send the wake's first message (unless `first` is False: a resumed wake's message
    exists), then update it in place as the wake progresses."""
    state = {"sent": not first, "updates": 0, "last": 0.0, "final": False}
    lock = threading.Lock()

    def on_progress(progress: TicketProgress) -> None:
        message = answers.wake_progress(progress, value)
        final = progress.phase is not Phase.WAKING
        with lock:
            if state["final"]:
                return
            if not state["sent"]:
                state["sent"], state["last"] = True, time.monotonic()
                state["final"] = final
                reply.send(message)
                return
            budget = reply.max_updates
            room = budget is None or state["updates"] < budget - (0 if final else 1)
            due = final or time.monotonic() - state["last"] >= reply.min_interval
            if not (room and due):
                return
            state["updates"] += 1
            state["last"] = time.monotonic()
            state["final"] = final
            reply.update(message)  # under the lock: a late progress update never lands after the end

    ticket.follow(on_progress)


class SharedReply:
    """The one message that follows a wake in a shared place; each version names who asked."""

    def __init__(self, reply: Destination, askers: Sequence[str]) -> None:
        self.reply = reply
        self.askers = list(dict.fromkeys(askers))
        self.max_updates = reply.max_updates
        self.min_interval = reply.min_interval
        self._last: Message | None = None
        self._lock = threading.Lock()

    @property
    def context(self) -> Mapping[str, Any]:
        return {**self.reply.context, "asked_by": list(self.askers)}

    @property
    def place(self) -> str | None:
        return self.reply.place

    def send(self, message: Message) -> None:
        with self._lock:
            self._last = message
            self.reply.send(with_askers(message, self.askers))

    def update(self, message: Message) -> None:
        with self._lock:
            self._last = message
            self.reply.update(with_askers(message, self.askers))

    def join(self, asker: str) -> None:
        """Someone else asked for this wake: name them too (the message is edited, not re-posted)."""
        with self._lock:
            if asker in self.askers:
                return
            self.askers.append(asker)
            if self._last is not None:
                self.reply.update(with_askers(self._last, self.askers))


class WakeThreads:
    """The shared replies of the wakes in flight, by wake and place. Thread-safe; a wake's
    entries go with its job."""

    def __init__(self) -> None:
        self._replies: weakref.WeakKeyDictionary[WakeJob, dict[str, SharedReply]] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def follow(self, ticket: WakeTicket, reply: Destination, asker: str, value: str) -> None:
        """Follow `ticket` for `asker`: alone, in a shared place with the others, or privately."""
        place = reply.place
        if place is None:
            follow_wake(ticket, reply, value)
            return
        with self._lock:
            replies = self._replies.setdefault(ticket.jobs[0], {})
            shared = replies.get(place)
            first = shared is None
            if shared is None:
                shared = replies[place] = SharedReply(reply, [asker])
        if first:
            follow_wake(ticket, shared, value)
            return
        reply.send(wake_aside(ticket.progress()))
        shared.join(asker)

    def resume(self, ticket: WakeTicket, reply: Destination, value: str, askers: object = None) -> None:
        """A wake followed again after a restart: its message is brought to its end, naming
        who had asked (`askers`: a list of names, or one name as older versions stored it)."""
        names = [askers] if isinstance(askers, str) else list(askers) if isinstance(askers, list) else []
        if names and reply.place is not None:
            shared = SharedReply(reply, [str(a) for a in names])
            with self._lock:
                self._replies.setdefault(ticket.jobs[0], {})[reply.place] = shared
            reply = shared
        follow_wake(ticket, reply, value, first=False)


# -- what is said ------------------------------------------------------------------------


def asked_by(names: Sequence[str]) -> Mrkdwn:
    """`Asked by Alice`, `Asked by Alice and Bob`, `Asked by Alice, Bob and 6 others`."""
    shown = [app_name(n) for n in names] or [Mrkdwn("someone")]
    if len(shown) == 1:
        return md("Asked by {}", shown[0])
    if len(shown) <= 3:
        return md("Asked by {} and {}", Mrkdwn(", ").join(shown[:-1]), shown[-1])
    return md("Asked by {}, {} and {} others", shown[0], shown[1], len(shown) - 2)


def with_askers(message: Message, names: Sequence[str]) -> Message:
    return Message(message.text, (*message.blocks, Context(asked_by(names))), message.private)


def wake_aside(progress: TicketProgress) -> Message:
    """To someone asking for a wake already followed in the thread: where to look."""
    label = app_name(progress.main.label)
    if progress.phase is Phase.UP:
        text = md("✅ *{}* is up: the thread under this message has the details.", label)
    elif progress.phase is Phase.FAILED:
        text = md("❌ Waking *{}* failed: the thread under this message says why.", label)
    else:
        text = md("⏳ *{}* is already waking: follow it in the thread under this message.", label)
    return Message(text.replace("*", ""), (Section(text),), private=True)
