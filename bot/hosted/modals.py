"""The modals of the hosted edition, as Block Kit views, and reading their submissions.

connect_view(kind)      one input per credential of that provider type (from its options:
                        descriptions, required, secret); a secret is never put back in a
                        view (plain_text_input has no masking: it is typed, never echoed)
settings_view(ws)       channel, idle time, rules (paastis.yml's keys, as YAML)
values(view)            what was typed, by block id; too long values are problems
"""

from __future__ import annotations

from typing import Any

from bot.errors import ConfigError
from bot.hosted.registry import Workspace
from providers import build_provider, provider_type
from providers.base import ProviderDeps, ProviderError, ProviderSpec

CONNECT, SETTINGS = "hosted.connect", "hosted.settings"
SHOWN = ("region", "zone", "apps")  # besides the required and secret options: where, and a simulated PaaS's apps
MAX_VALUE = 500  # characters of one credential or name
MAX_RULES = 3000  # characters of the rules' YAML
MAX_LABEL = 2000
Json = dict[str, Any]


def _plain(text: str, limit: int = 150) -> Json:
    return {"type": "plain_text", "text": text if len(text) <= limit else text[: limit - 1] + "…"}


def _input(block_id: str, label: str, *, optional: bool, initial: str = "", hint: str = "", **extra: Any) -> Json:
    element: Json = {"type": "plain_text_input", "action_id": "value", "max_length": MAX_VALUE, **extra}
    if initial:
        element["initial_value"] = initial
    block: Json = {"type": "input", "block_id": block_id, "optional": optional, "label": _plain(label)}
    block["element"] = element
    if hint:
        block["hint"] = _plain(hint, MAX_LABEL)
    return block


def fields(kind: str) -> tuple[str, ...]:
    """The options of a provider type asked in the connect modal: its credentials (required or
    secret) and where its apps are. API URLs and tunings are the operator's, never asked."""
    options = provider_type(kind).options
    return tuple(name for name, option in options.items() if option.required or option.secret or name in SHOWN)


def label(kind: str) -> str:
    """ "Scalingo", "Clever Cloud": the start of the provider type's summary, else its name."""
    title = provider_type(kind).summary.split(":")[0]
    return title if len(title) <= 14 else kind


def connect_view(kind: str, replacing: str = "") -> Json:
    """The connect modal for one provider type; `replacing`: the name of the connection replaced."""
    options = provider_type(kind).options
    blocks = []
    if not replacing:
        blocks.append(_input("name", "Name (optional)", optional=True, hint="How Paastis names this account"))
    for field in fields(kind):
        option = options[field]
        initial = "" if option.secret or option.default is None or isinstance(option.default, tuple) else option.default
        listed = isinstance(option.default, tuple)
        hint = f"{option.description} — comma-separated" if listed else option.description
        blocks.append(
            _input(
                field,
                field.replace("_", " ").capitalize(),
                optional=not option.required,
                initial=str(initial),
                hint=hint,
            )
        )
    title = f"Replace {replacing}" if replacing else f"Connect {label(kind)}"
    return {
        "type": "modal",
        "callback_id": CONNECT,
        "private_metadata": f"{kind}|{replacing}",
        "title": _plain(title, 24),
        "submit": _plain("Check and save", 24),
        "close": _plain("Cancel", 24),
        "blocks": blocks,
    }


def settings_view(workspace: Workspace) -> Json:
    return {
        "type": "modal",
        "callback_id": SETTINGS,
        "title": _plain("Paastis settings", 24),
        "submit": _plain("Save", 24),
        "close": _plain("Cancel", 24),
        "blocks": [
            _input(
                "channel",
                "Channel for notices and reports",
                optional=True,
                initial=workspace.channel or "",
                hint="A channel id (C0123ABCD) or #name",
            ),
            _input(
                "idle_time",
                "Idle time before sleep",
                optional=True,
                initial=workspace.idle_time or "",
                hint="Such as 30m or 2h (default 15m)",
            ),
            _input(
                "rules",
                "Rules (paastis.yml keys, YAML)",
                optional=True,
                initial=workspace.rules[:MAX_RULES],
                multiline=True,
                max_length=MAX_RULES,
                hint="rules:, schedules:, holidays:, timezone:, prices:, reports:, permissions: — as in paastis.yml",
            ),
        ],
    }


def result_view(title: str, text: str) -> Json:
    return {
        "type": "modal",
        "title": _plain(title, 24),
        "close": _plain("Close", 24),
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}],
    }


def values(view: Json, limits: dict[str, int] | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """(value by block id, problem by block id): empty values are left out; one over its
    limit (MAX_VALUE unless `limits` says) is a problem, never kept."""
    limits = limits or {}
    found, problems = {}, {}
    state = ((view or {}).get("state") or {}).get("values") or {}
    for block_id, actions in state.items():
        value = ((actions or {}).get("value") or {}).get("value")
        if not isinstance(value, str) or not value.strip():
            continue
        limit = limits.get(block_id, MAX_VALUE)
        if len(value) > limit:
            problems[block_id] = f"At most {limit} characters; this has {len(value)}."
        else:
            found[block_id] = value.strip()
    return found, problems


def option_values(kind: str, typed: dict[str, str]) -> dict[str, Any]:
    """The provider options typed in the connect modal."""
    options = provider_type(kind).options
    raw: dict[str, Any] = {k: v for k, v in typed.items() if k in fields(kind)}
    for name, value in raw.items():
        if isinstance(options[name].default, tuple):  # a list option: comma-separated
            raw[name] = [item.strip() for item in value.split(",") if item.strip()]
    return raw


def settings_errors(exc: ConfigError) -> dict[str, str]:
    blocks = {"PAASTIS_CHANNEL": "channel", "START_AND_STOP_MAX_IDLE_TIME": "idle_time"}
    errors: dict[str, list[str]] = {}
    for p in exc.problems:
        if p.key.startswith(("providers", "PROVIDER_NAME", "PAASTIS_DB", "DATABASE_URL")):
            continue  # not the user's to fix here
        errors.setdefault(blocks.get(p.key, "rules"), []).append(str(p) if blocks.get(p.key) is None else p.why)
    return {block: "; ".join(lines)[:2000] for block, lines in errors.items()}


def check_credentials(spec: ProviderSpec, deps: ProviderDeps, typed: dict[str, str]) -> str | None:
    """One real call (the provider lists its apps): None when it answered, else its reason
    for the modal, with nothing that was typed in it."""
    try:
        build_provider(spec, deps).list_apps()
        return None
    except ProviderError as exc:
        reason = str(exc)
    except Exception as exc:  # a provider that cannot even be built: its type says why
        reason = type(exc).__name__
    for value in typed.values():
        if len(value) >= 4:
            reason = reason.replace(value, "…")
    return f"{provider_type(spec.kind).summary.split(':')[0]} refused these credentials: {reason}"[:2000]
