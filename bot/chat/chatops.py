"""Commands and button clicks, whatever the transport: Slack, the demo's terminal, the CLI.

`Chatops.command(text, actor, reply)` and `Chatops.click(action, value, actor, reply)`
answer through a `Destination`: `send()` once, at once (never after a provider call: Slack wants
an answer within 3 seconds), then `update()` to change that answer in place as work
progresses (a wake, a sleep). Provider work runs on the engine's executor. Refusals and
"already up" are private (for whoever asked); a wake asked from a shared place (a channel
thread) is followed there by one message whoever asks (`bot.chat.following`).

Permissions are checked on every command and every click: a button can be clicked by
anyone who sees it.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.chat import answers, plan, prompts
from bot.chat.commands import ALIASES, NAMES, Command, parse
from bot.chat.following import WakeThreads
from bot.chat.messages import (
    KEEP,
    OPEN,
    PAGE,
    SLEEP,
    START,
    UNKEEP,
    WAKE,
    Destination,
    Message,
    Mrkdwn,
    app_name,
    fitted_value,
    md,
)
from bot.chat.report import UNUSED_AFTER, build_report, report_message
from bot.config.loading import Permissions
from bot.engine.actors import Actor
from bot.engine.engine import Engine
from bot.engine.wake_jobs import JobStatus, Phase, TicketProgress, WakeTicket
from bot.errors import ActionRefused, AmbiguousApp, UnknownApp, UsageError
from bot.policy.catalog import AppView, Catalog
from bot.policy.pricing import Prices
from providers.base import AppState, ProviderError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChatopsOptions:
    timezone: ZoneInfo
    permissions: Permissions
    prices: Prices
    dry_run: bool | None = None
    report_period: timedelta = timedelta(days=1)


def may(actor: Actor, action: str, permissions: Permissions, groups: frozenset[str] = frozenset()) -> str | None:
    """None when `actor` may do `action` (wake, sleep, keep; start: admins only), else why not."""
    rule = getattr(permissions, action, "admins")
    ids = {actor.id, *groups}
    is_admin = actor.is_admin or bool(ids & set(permissions.admins))
    if rule == "everyone" or is_admin:
        return None
    if isinstance(rule, tuple) and ids & set(rule):
        return None
    who = "workspace admins and the people listed in PAASTIS_ADMINS"
    if isinstance(rule, tuple):
        who += " or in the permissions of paastis.yml"
    what = "start Paastis" if action == "start" else f"{action} apps"
    return f"Only {who} may {what}. Ask one of them, or ask for the permission."


class Chatops:
    def __init__(
        self, engine: Engine, options: ChatopsOptions, groups_of: Callable[[str], frozenset[str]] | None = None
    ) -> None:
        self.engine = engine
        self.options = options
        self._groups_of = groups_of or (lambda user: frozenset())
        self.threads = WakeThreads()

    @property
    def now(self) -> datetime:
        return self.engine.clock.now()

    # -- entry points --------------------------------------------------------------------
    def command(self, text: str, actor: Actor, reply: Destination) -> None:
        try:
            command = parse(text, self.now, self.options.timezone)
        except UsageError as exc:
            if _known_command(text):  # one wrong part of a known command: that line, not the whole help
                reply.send(answers.error(str(exc)))
            else:
                reply.send(answers.help_message(str(exc)))
            return
        try:
            self._run(command, actor, reply)
        except (UnknownApp, AmbiguousApp, ActionRefused, ProviderError) as exc:
            reply.send(answers.error(str(exc)))

    def click(self, action: str, value: str, actor: Actor, reply: Destination) -> None:
        if action == OPEN:
            return  # a link: Slack opened it; nothing to do
        try:
            if action == START:
                self._start(actor, reply)
                return
            if action == PAGE:
                number, _, text_filter = value.partition("|")
                reply.update(self._status_page(text_filter or None, int(number) if number.isdigit() else 1))
                return
            catalog = self._around_value(value)
            view = self._by_value(value, catalog)
            if action == WAKE:
                self._wake(view, catalog, actor, reply, confirmed=True)
            elif action == SLEEP:
                self._sleep(view, catalog, actor, reply, confirmed=True)
            elif action == KEEP:
                self._keep(view, Command("keep", view.name, self.now + timedelta(hours=2)), actor, reply)
            elif action == UNKEEP:
                self._unkeep(view, actor, reply)
            else:
                reply.send(answers.error(f"This button ({action}) is not known to this version of Paastis."))
        except (UnknownApp, AmbiguousApp, ActionRefused, ProviderError) as exc:
            reply.send(answers.error(str(exc)))

    # -- commands ------------------------------------------------------------------------
    def _run(self, command: Command, actor: Actor, reply: Destination) -> None:
        if command.name == "help":
            reply.send(answers.help_message())
        elif command.name == "status":
            reply.send(self._status(command.arg))
        elif command.name == "log":
            reply.send(self._log(command.arg))
        elif command.name == "report":
            reply.send(self.report())
        elif command.name == "start":
            self._start(actor, reply)
        else:
            view, catalog = self.engine.fleet.find_around(command.arg or "")
            if command.name == "wake":
                self._wake(view, catalog, actor, reply, confirmed=False)
            elif command.name == "sleep":
                self._sleep(view, catalog, actor, reply, confirmed=False)
            elif command.name == "keep":
                self._keep(view, command, actor, reply)
            elif command.name == "unkeep":
                self._unkeep(view, actor, reply)

    def _status(self, arg: str | None) -> Message:
        if arg:  # one app: read with its group only (bot.engine.fleet)
            try:
                view, catalog = self.engine.fleet.find_around(arg)
            except AmbiguousApp:
                pass
            except UnknownApp as exc:
                if not self.engine.catalog().search(arg):
                    raise UnknownApp(arg, exc.suggestions) from None
            else:
                return answers.app_detail(view, catalog.members(view), self.now, self.options.timezone)
        return self._status_page(arg, 1)

    def _status_page(self, text_filter: str | None, number: int) -> Message:
        budgets = self.engine.budgets()
        page = answers.Page(number, answers.STATUS_PAGE_SIZE, text_filter or "")
        tz = self.options.timezone
        listing = None if text_filter else self.engine.fleet.page(number, page.size, answers.MAX_BLOCKS - 4)
        if listing is not None:  # every app: the page alone is read and decided
            return answers.status_page(listing, self.now, tz, budgets=budgets)
        catalog = self.engine.catalog()
        views = catalog.search(text_filter)
        return answers.status(views, self.now, tz, page=page, budgets=budgets, catalog=catalog)

    def _log(self, arg: str | None) -> Message:
        if arg:
            view = self.engine.find(arg)
            events = self.engine.store.events(provider=view.row.provider, app_id=view.row.app_id, limit=20)
            return answers.event_log(events, self.now, self.options.timezone, about=view.label)
        events = self.engine.store.events(limit=20)
        return answers.event_log(events, self.now, self.options.timezone)

    def report(self) -> Message:
        now = self.now
        start = now - self.options.report_period
        store, fleet = self.engine.store, self.engine.fleet
        apps = fleet.topology()  # the apps it names are read and decided, not every app
        data = build_report(
            list(fleet.around(store.noteworthy(now - UNUSED_AFTER), apps)),
            store.naps(start),
            store.events(since=start, actions=("woke", "wake_failed"), limit=10_000),
            store.provider_health(),
            self.options.prices,
            start,
            now,
            states=fleet.states(),
            kinds=apps.kinds,
        )
        return report_message(data, self.options.timezone)

    # -- actions -------------------------------------------------------------------------
    def _check(self, actor: Actor, action: str) -> None:
        """Refuse unless `actor` may do `action`. User groups are looked up only when the
        actor's own id and admin flag are not enough; `groups_of` may raise ActionRefused
        when it cannot tell (Slack unreachable): admin-only actions then fail closed."""
        refusal = may(actor, action, self.options.permissions)
        if refusal:
            refusal = may(actor, action, self.options.permissions, self._groups_of(actor.id))
        if refusal:
            log.info("permission.refused actor=%s action=%s", actor.id, action)
            raise ActionRefused(refusal)

    def _wake(self, view: AppView, catalog: Catalog, actor: Actor, reply: Destination, *, confirmed: bool) -> None:
        self._check(actor, "wake")
        if view.state is AppState.RUNNING and not self.engine.wakes.job(view.ref) and not view.linked:
            up = answers.wake_progress(_already_up(view, self.now), view.value)
            reply.send(dataclasses.replace(up, private=True))
            self.engine.mark_used(view)
            return
        if view.rules.protected and not confirmed:
            reply.send(prompts.wake_protected(view))
            return
        context = {**reply.context, "asked_by": [actor.name]} if reply.place else reply.context
        ticket = self.engine.wake(view, actor, context=context, catalog=catalog)
        self.threads.follow(ticket, reply, actor.name, view.value)

    def resume(self, ticket: WakeTicket, reply: Destination, value: str, *, asked_by: object = None) -> None:
        """A wake resumed after a restart: bring the message that followed it to its end
        (`asked_by`: who had asked, as the wake's context recorded them)."""
        self.threads.resume(ticket, reply, value, asked_by)

    def _sleep(self, view: AppView, catalog: Catalog, actor: Actor, reply: Destination, *, confirmed: bool) -> None:
        """Sleep `view` and — a group sleeps together — the other running members of its group:
        asked first when typed (`confirmed`: a click on the button that asked)."""
        self._check(actor, "sleep")
        self.engine.check_sleepable(view)
        others = [m for m in catalog.members(view) if m.ref != view.ref and m.state is AppState.RUNNING]
        if others and not confirmed:
            reply.send(prompts.sleep_group(view, others))
            return
        for other in others:
            self.engine.check_sleepable(other)  # a protected or waking member: nobody's sleep, said now
        targets = [view, *others]
        names = Mrkdwn(", ").join(md("*{}*", app_name(target.label)) for target in targets)
        text = md("🌙 Putting {} to sleep…", names)
        reply.send(Message(text.replace("*", ""), (answers.Section(text),)))

        def work() -> None:
            said = []
            for target in targets:
                try:
                    outcome = self.engine.sleep(target, actor)[0]
                except (ActionRefused, ProviderError) as exc:
                    said.append(answers.error(f"{target.label} could not be put to sleep: {exc}"))
                    continue
                if outcome.action == "skipped":
                    said.append(answers.error(f"{target.label} was not running ({outcome.reason})."))
                else:
                    formation = outcome.formation.describe() if outcome.formation else None
                    said.append(answers.slept(target.label, formation, dry_run=outcome.action == "would_sleep"))
            reply.update(said[0] if len(said) == 1 else _together(said))

        self.engine.executor.submit(_logged(work, "sleep", view))

    def _start(self, actor: Actor, reply: Destination) -> None:
        """Begin the sweeps of the safe first run (admins only)."""
        self._check(actor, "start")
        if self.options.dry_run is None and self.engine.start(actor):
            reply.send(plan.started(actor.name))
            return
        reply.send(plan.already_started(self.engine.store.first_run().started_by, self.options.dry_run))

    def _keep(self, view: AppView, command: Command, actor: Actor, reply: Destination) -> None:
        self._check(actor, "keep")
        until = command.until or self.now + timedelta(hours=2)
        self.engine.keep(view, until, actor, command.reason)
        reply.send(answers.kept(view, until, self.now, self.options.timezone))

    def _unkeep(self, view: AppView, actor: Actor, reply: Destination) -> None:
        self._check(actor, "keep")
        reply.send(answers.unkept(view, self.engine.unkeep(view, actor)))

    def _around_value(self, value: str) -> Catalog:
        """The app a button names, with its group (a value cut to fit: every app)."""
        if value.startswith("#"):
            return self.engine.catalog()
        provider, _, app_id = value.partition(":")
        return self.engine.fleet.around([(provider, app_id)])

    def _by_value(self, value: str, catalog: Catalog) -> AppView:
        """The app of a button's value: `provider:app_id`, or the digest a value too long
        for Slack travels as (`fitted_value`)."""
        if value.startswith("#"):
            view = next((v for v in catalog if fitted_value(v.value) == value), None)
        else:
            provider, _, app_id = value.partition(":")
            view = catalog.get((provider, app_id))
        if view is None or view.row.gone:
            raise ActionRefused(
                "That app is no longer listed by its provider (deleted or renamed?). Try `/paastis status`."
            )
        return view


def _known_command(text: str) -> bool:
    words = text.strip().split()
    if words and words[0].lower() == "/paastis":
        words = words[1:]
    return bool(words) and ALIASES.get(words[0].lower(), words[0].lower()) in NAMES


def _together(messages: list[Message]) -> Message:
    """Several answers as one message (a group put to sleep): each one's blocks, in order."""
    blocks = tuple(block for message in messages for block in message.blocks)
    return Message("\n".join(message.text for message in messages), blocks)


def _already_up(view: AppView, now: datetime) -> TicketProgress:
    status = JobStatus(view.ref, view.label, Phase.UP, now, timedelta(0), view.row.url, already_up=True)
    return TicketProgress(status, (), joined=False, slow=False)


def _logged(work: Callable[[], None], what: str, view: AppView) -> Callable[[], None]:
    def run() -> None:
        try:
            work()
        except Exception:  # background work has no caller to raise to: log with the traceback
            log.exception("chatops.%s_crashed provider=%s app=%s", what, view.row.provider, view.name)

    return run
