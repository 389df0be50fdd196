"""Hooks: the original paastis shell commands, now told which app and why.

HOOKS_BEFORE_START, HOOKS_AFTER_START, HOOKS_BEFORE_STOP and HOOKS_AFTER_STOP run with
`sh -c` in Paastis's environment (minus its secrets) plus:

    PAASTIS_EVENT     before_start | after_start | before_stop | after_stop
    PAASTIS_APP       the app's name in Paastis        PAASTIS_APP_ID   its provider id
    PAASTIS_PROVIDER  the provider's name              PAASTIS_REASON   why (idle for 17 min, asked by Ada…)

Each runs in a process group of its own, at most PAASTIS_HOOKS_TIMEOUT seconds (the whole
group is killed past it), and never outlives Paastis: a watchdog beside it (`sh`, reading
a pipe only Paastis holds) kills the group when Paastis dies, even by SIGKILL — so a hook
interrupted by a crash is not still running when the next start runs it again. Its output
goes to the logs (`hook.output`). Failure policy: a failing or hanging
`before_stop` hook cancels that sleep (the app stays up; the sweep reports it); every other
hook's failure is logged and recorded, and never stops a wake — people are waiting for it.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from bot.policy.catalog import AppView

log = logging.getLogger(__name__)

EVENTS = ("before_start", "after_start", "before_stop", "after_stop")
OUTPUT_LIMIT = 4000


class HookFailed(Exception):
    """A hook exited non-zero or ran past its timeout."""


class Hooks(Protocol):
    """Each returns why its hook failed (None: it ran, or there is none); a failing
    before_stop raises HookFailed instead, which cancels the sleep."""

    def before_start(self, view: AppView, reason: str) -> str | None: ...
    def after_start(self, view: AppView, reason: str) -> str | None: ...
    def before_stop(self, view: AppView, reason: str) -> str | None: ...
    def after_stop(self, view: AppView, reason: str) -> str | None: ...


class NoHooks:
    def before_start(self, view: AppView, reason: str) -> str | None:
        return None

    after_start = before_stop = after_stop = before_start


@dataclass(frozen=True)
class HookResult:
    returncode: int | None  # None: killed at the timeout
    output: str


def run_shell(command: str, env: Mapping[str, str], timeout: float) -> HookResult:
    """Run `command` with `sh -c` in its own process group; kill the group at the timeout,
    or when this process dies (the watchdog)."""
    process = subprocess.Popen(
        ["/bin/sh", "-c", command],
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    watchdog = _watchdog(process.pid)
    try:
        output, _ = process.communicate(timeout=timeout)
        return HookResult(process.returncode, output.decode(errors="replace"))
    except subprocess.TimeoutExpired:
        _kill_group(process)
        output, _ = process.communicate()
        return HookResult(None, output.decode(errors="replace"))
    finally:
        watchdog.kill()  # the hook is over: what it left running in the background is its own
        watchdog.communicate()


# Reads its stdin, a pipe whose other end only Paastis holds: end of file means Paastis is
# gone (exited or killed), and the hook's whole process group is killed.
WATCHDOG = 'read _ ; kill -9 -"$1" 2>/dev/null'


def _watchdog(group: int) -> subprocess.Popen:
    return subprocess.Popen(
        ["/bin/sh", "-c", WATCHDOG, "paastis-hook-watchdog", str(group)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a signal to Paastis's group (Ctrl-C) reaches it as end of file only
    )


def _kill_group(process: subprocess.Popen) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=2)
            return
        except subprocess.TimeoutExpired:
            continue


@dataclass
class ShellHooks:
    commands: Mapping[str, str]  # event → shell command
    base_env: Mapping[str, str]
    timeout: float = 60.0
    on_failure: Callable[[str, AppView, str], None] = field(default=lambda event, view, why: None)
    runner: Callable[[str, Mapping[str, str], float], HookResult] = run_shell

    def before_start(self, view: AppView, reason: str) -> str | None:
        return self._run("before_start", view, reason, abort=False)

    def after_start(self, view: AppView, reason: str) -> str | None:
        return self._run("after_start", view, reason, abort=False)

    def before_stop(self, view: AppView, reason: str) -> str | None:
        return self._run("before_stop", view, reason, abort=True)

    def after_stop(self, view: AppView, reason: str) -> str | None:
        return self._run("after_stop", view, reason, abort=False)

    def _run(self, event: str, view: AppView, reason: str, *, abort: bool) -> str | None:
        command = self.commands.get(event)
        if not command:
            return None
        env = {
            **self.base_env,
            "PAASTIS_EVENT": event,
            "PAASTIS_APP": view.name,
            "PAASTIS_APP_ID": view.row.app_id,
            "PAASTIS_PROVIDER": view.row.provider,
            "PAASTIS_REASON": reason,
        }
        result = self.runner(command, env, self.timeout)
        output = result.output.strip()
        if output:
            log.info("hook.output event=%s app=%s output=%s", event, view.name, output[-OUTPUT_LIMIT:])
        if result.returncode == 0:
            log.info("hook.ran event=%s app=%s", event, view.name)
            return None
        why = (
            f"the {event} hook ran past its {self.timeout:g} s timeout and was killed"
            if result.returncode is None
            else f"the {event} hook exited with status {result.returncode}"
        )
        log.warning("hook.failed event=%s app=%s why=%s", event, view.name, why)
        self.on_failure(event, view, why)
        if abort:
            raise HookFailed(why)
        return why


def hook_environment(environ: Mapping[str, str], secret_names: frozenset[str]) -> dict[str, str]:
    """The environment hooks inherit: Paastis's own, without its secrets."""
    return {k: v for k, v in environ.items() if k not in secret_names}
