"""The `paastis` command (also `python -m bot`). The only reader of os.environ.

paastis demo                      the whole bot offline, in this terminal
paastis serve                     run the bot: Slack + scheduler
paastis proxy                     wake apps on their first request (proxy:, sablier: in paastis.yml)
paastis status [filter]           apps and their state
paastis wake APP                  wake an app, following it until it is up
paastis sleep APP                 put an app to sleep now
paastis keep APP DURATION         keep an app awake (2h, until 18:00)
paastis check-config              every configuration problem at once, the database, then the settings
paastis db upgrade                apply the database's migrations now (serve does it at start too)
paastis db copy --from sqlite:///paastis.db [--force]   a SQLite file into the database of DATABASE_URL

The hosted edition (SLACK_CLIENT_ID and SLACK_CLIENT_SECRET set, SLACK_BOT_TOKEN not; with
DATABASE_URL, on PostgreSQL — one schema per workspace — and on several instances):
paastis serve                     many workspaces, installed with "Add to Slack"
paastis plan set TEAM PLAN [--note green|sre|npo]
paastis secrets rotate            encrypt every secret again with the first key
paastis workspaces                workspaces, plans, providers, monitored apps
paastis workspaces wake-all TEAM  wake every app that workspace's Paastis put to sleep
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from bot import __version__
from bot.config.envfile import parse_env_file
from bot.config.loading import Settings, load_settings
from bot.errors import ConfigError
from bot.hosted.settings import is_hosted
from bot.logs import configure_logging
from bot.store.files import StoreUnusable

log = logging.getLogger("bot")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="paastis", description="Puts idle PaaS apps to sleep, wakes them from Slack.")
    parser.add_argument("--version", action="version", version=f"paastis {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("demo", help="run everything offline in this terminal")
    commands.add_parser("serve", help="run the bot: Slack and the scheduler")
    proxy = commands.add_parser(
        "proxy", help="wake apps on their first request: the built-in proxy and the Sablier API"
    )
    proxy.add_argument(
        "--workers",
        type=_workers,
        default=_cpus(),
        metavar="N",
        help="processes serving on the same addresses (default: the CPUs this process may use, at most 8)",
    )
    commands.add_parser("check-config", help="list configuration problems, then the resolved settings")
    status = commands.add_parser("status", help="apps and their state")
    status.add_argument("filter", nargs="?", default="")
    for name, text in (
        ("wake", "wake an app"),
        ("sleep", "put an app to sleep now"),
        ("unkeep", "stop keeping an app awake"),
    ):
        commands.add_parser(name, help=text).add_argument("app")
    keep = commands.add_parser("keep", help="keep an app awake for a while")
    keep.add_argument("app")
    keep.add_argument("duration", nargs="+", help="2h, 30m, or until 18:00")
    commands.add_parser("log", help="recent events").add_argument("app", nargs="?", default="")
    commands.add_parser("report", help="what slept, what woke, what it saved")
    db = commands.add_parser("db", help="the database: upgrade, copy a SQLite file into PostgreSQL")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_commands.add_parser("upgrade", help="apply the database's migrations now")
    copy = db_commands.add_parser("copy", help="copy a SQLite file into the database of DATABASE_URL")
    copy.add_argument("--from", dest="source", required=True, metavar="sqlite:///PATH")
    copy.add_argument("--force", action="store_true", help="replace what the target database holds")
    plan = commands.add_parser("plan", help="hosted: set a workspace's plan").add_subparsers(dest="verb", required=True)
    plan_set = plan.add_parser("set", help="set the plan of a workspace")
    plan_set.add_argument("team")
    plan_set.add_argument("plan", choices=("free", "team", "enterprise"))
    plan_set.add_argument("--note", choices=("green", "sre", "npo"))
    secrets = commands.add_parser("secrets", help="hosted: encryption keys").add_subparsers(dest="verb", required=True)
    secrets.add_parser("rotate", help="encrypt every secret again with the first key of PAASTIS_SECRET_KEY")
    workspaces = commands.add_parser("workspaces", help="hosted: workspaces, plans, providers, monitored apps")
    workspaces.add_argument("verb", nargs="?", choices=("wake-all",), help="wake-all TEAM: wake its apps asleep")
    workspaces.add_argument("team", nargs="?", default="")
    args = parser.parse_args(argv)

    if args.command is None:
        parser.print_help()
        return 2
    if args.command == "demo":
        return _demo()
    env = _environment()
    if args.command in HOSTED_COMMANDS or (args.command == "serve" and is_hosted(env)):
        return _hosted(args, env)
    try:
        settings = load_settings(env)
    except ConfigError as exc:
        print(f"paastis: {exc}", file=sys.stderr)
        print("Fix these and run `paastis check-config` again.", file=sys.stderr)
        return 2
    if args.command == "check-config":
        return _check_config(settings)
    configure_logging(settings.log_level, fmt=settings.log_format)
    for warning in settings.warnings:
        log.warning("config.warning %s", warning)
    try:
        if args.command == "serve":
            from bot.serve import serve

            return serve(settings, env)
        if args.command == "db":
            from bot.store.operations import copy_command, upgrade_command

            if args.db_command == "upgrade":
                return upgrade_command(settings.database, sys.stdout)
            return copy_command(args.source, settings.database_url, sys.stdout, force=args.force)
        if args.command == "proxy":
            from bot.visits.server import run_proxy

            return run_proxy(settings, env, args.workers)
        return _cli(args, settings, env)
    except StoreUnusable as exc:  # it became unusable since the settings were checked
        print(f"paastis: {exc}", file=sys.stderr)
        return 2


HOSTED_COMMANDS = ("plan", "secrets", "workspaces")


def _hosted(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """The hosted edition: `serve`, or one of the operator's commands."""
    from bot.hosted import server
    from bot.hosted.crypto import SecretKeyError
    from bot.hosted.settings import hosted_settings

    try:
        hosted = hosted_settings(env)
    except ConfigError as exc:
        print(f"paastis: {exc}", file=sys.stderr)
        return 2
    configure_logging(hosted.log_level)
    try:
        if args.command == "serve":
            stop = threading.Event()
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: stop.set())
            return server.serve_hosted(hosted, stop)
        if args.command == "plan":
            return server.set_plan(hosted, args.team, args.plan, args.note, sys.stdout)
        if args.command == "secrets":
            return server.rotate_secrets(hosted, sys.stdout)
        if args.verb == "wake-all":
            return server.wake_all(hosted, args.team, sys.stdout)
        return server.list_workspaces(hosted, sys.stdout)
    except SecretKeyError as exc:
        print(f"paastis: {exc}", file=sys.stderr)
        return 2


def _cpus() -> int:
    """The CPUs this process may run on, at most 8 (each worker holds its own memory and
    database connections: on a small PaaS container, say --workers 1 or 2)."""
    return max(1, min(8, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))


def _workers(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of processes from 1 to 64")
    return int(text)


def _environment() -> dict[str, str]:
    """The process environment over ./.env when there is one (the original paastis read it)."""
    path = Path.cwd() / ".env"
    if not path.is_file():
        return dict(os.environ)
    try:
        values, problems = parse_env_file(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        print(f"paastis: .env cannot be read ({exc}); using the environment only", file=sys.stderr)
        return dict(os.environ)
    for problem in problems:
        print(f"paastis: {problem}: ignored", file=sys.stderr)
    return {**values, **os.environ}


def _demo() -> int:
    from bot import demo

    configure_logging("WARNING")
    interactive = sys.stdin.isatty()
    if interactive:
        return demo.run(_prompt_lines(), sys.stdout, interactive=True)
    return demo.run(sys.stdin, sys.stdout, interactive=False)


def _prompt_lines():
    while True:
        try:
            yield input("> ")
        except (EOFError, KeyboardInterrupt):
            print()
            return


def _check_config(settings: Settings) -> int:
    from bot.store.operations import describe_database

    for warning in settings.warnings:
        print(f"warning: {warning}")
    line, ok = describe_database(settings.database)
    print(line)
    if not ok:
        return 2
    print("The configuration is valid. Resolved settings (secrets redacted):")
    print(json.dumps(settings.redacted(), indent=2, default=str))
    return 0


def _cli(args: argparse.Namespace, settings: Settings, env: Mapping[str, str]) -> int:
    from bot.engine.actors import Actor
    from bot.terminal import Terminal, TerminalDestination
    from bot.wiring import build

    app = build(settings, environ=env, one_shot=True)
    try:
        errors = app.engine.discover()
        for provider, error in errors.items():
            print(f"warning: provider {provider} could not be listed: {error}", file=sys.stderr)
        user = env.get("USER") or "cli"
        actor = Actor(f"cli:{user}", user, is_admin=True, via="cli")
        terminal = Terminal(sys.stdout)
        reply = TerminalDestination(terminal, min_interval=5.0, context={"via": "cli"})
        words = {
            "status": ["status", args.__dict__.get("filter", "")],
            "log": ["log", args.__dict__.get("app", "")],
            "report": ["report"],
            "keep": ["keep", args.__dict__.get("app", ""), *args.__dict__.get("duration", [])],
        }.get(args.command, [args.command, args.__dict__.get("app", "")])
        app.chatops.command(" ".join(w for w in words if w), actor, reply)
        if args.command in ("wake", "sleep"):
            _wait_for_background(app)
        last = reply.sent[-1].text if reply.sent else ""
        return 1 if last.startswith(("❌", "⚠️")) else 0
    finally:
        app.close()


def _wait_for_background(app) -> None:
    app.engine.wait_idle(timeout=3600)
    done = threading.Event()
    app.engine.executor.submit(done.set)
    done.wait(timeout=3600)


if __name__ == "__main__":
    sys.exit(main())
