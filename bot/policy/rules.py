"""Per-app rules of paastis.yml, and how they resolve for one app. Pure.

The original paastis rules keep their meaning: every rule whose `pattern` (a regular
expression searched in the app name) matches applies, in file order, later keys overriding
earlier ones; `app_name` renames the app (Paastis shows it and finds it under that name,
and still under its provider name), `app_max_idle_time` is in minutes, `linked_apps` wake
with it. `$1`…`$9` in `app_name`, `linked_apps` and `group` are the pattern's groups.

Fixed from the original: every `$N` is replaced (not only the first), a missing group
gives an empty string, idle times of 60 minutes and more work, and renamed apps are found.

New keys: `ignore` (never managed), `protect` (never slept; a wake asks for confirmation),
`idle_timeout` (a duration), `schedule` (a schedule's name), `provider` (the rule applies
to apps of that provider only: its name or type), `notify` (the channel for this app's
notices), `group` (apps with the same group name wake and sleep together), `manage_workers`
(true: manage an app with no web process — worker or clock only — which is otherwise left
alone: router traffic says nothing of its use, so it sleeps by its schedule's windows only).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import re2

from bot.policy.durations import check_idle_timeout, parse_duration

Pattern = Any  # a compiled RE2 pattern (re2 ships no type stubs)

# keys of the original sample file that its code ignored: accepted, still ignored, reported
LEGACY_IGNORED = {
    "group_name": "was documented by the original sample but never used; use `group`",
    "name": "was documented by the original sample but never used; use `app_name`",
}
ALIASES = {"app_group": "group", "provider_name": "provider"}
KEYS = {
    "pattern",
    "app_name",
    "app_max_idle_time",
    "linked_apps",
    "ignore",
    "protect",
    "idle_timeout",
    "schedule",
    "provider",
    "provider_zone",
    "notify",
    "group",
    "manage_workers",
}


@dataclass(frozen=True)
class Rule:
    pattern: Pattern  # compile_pattern: RE2, linear time
    index: int
    app_name: str | None = None
    idle_timeout: timedelta | None = None
    linked_apps: tuple[str, ...] | None = None
    ignore: bool | None = None
    protect: bool | None = None
    schedule: str | None = None
    provider: str | None = None
    zone: str | None = None
    notify: str | None = None
    group: str | None = None
    manage_workers: bool | None = None


@dataclass(frozen=True)
class AppRules:
    """What the rules say of one app."""

    name: str  # the name Paastis shows (app_name, or the provider's name)
    idle_timeout: timedelta
    linked_apps: tuple[str, ...] = ()
    group: str | None = None
    ignored: str | None = None  # why, when the app is not managed
    protected: bool = False
    schedule: str | None = None
    notify: str | None = None
    manage_workers: bool = False  # managed even with no web process
    matched: tuple[int, ...] = field(default=())  # 1-based rule numbers, for "why"


def parse_rules(raw: Any) -> tuple[tuple[Rule, ...], list[tuple[str, str, str]], list[str]]:
    """Validate the `rules:` list; returns rules, problems (where, value, why) and warnings."""
    problems: list[tuple[str, str, str]] = []
    warnings: list[str] = []
    if raw is None:
        return (), problems, warnings
    if not isinstance(raw, list):
        return (), [("rules", type(raw).__name__, "must be a list of rules, each with a pattern")], warnings
    rules = []
    for number, entry in enumerate(raw, start=1):
        where = f"rules[{number}]"
        if not isinstance(entry, Mapping):
            problems.append((where, repr(entry), "must be a mapping with at least a pattern"))
            continue
        rule = _parse_rule(entry, number, where, problems, warnings)
        if rule:
            rules.append(rule)
    return tuple(rules), problems, warnings


def _parse_rule(entry: Mapping[str, Any], number: int, where: str, problems: list, warnings: list) -> Rule | None:
    values: dict[str, Any] = {}
    for key, value in entry.items():
        key = str(key)
        if key in LEGACY_IGNORED:
            warnings.append(f"{where}.{key}: ignored — it {LEGACY_IGNORED[key]}")
            continue
        target = ALIASES.get(key, key)
        if target not in KEYS:
            known = ", ".join(sorted(KEYS | set(ALIASES)))
            problems.append((f"{where}.{key}", "", f"unknown key; known keys: {known}"))
            continue
        values[target] = value
    if "pattern" not in values:
        problems.append((where, "", "has no pattern: add `pattern: 'regular expression of app names'`"))
        return None
    try:
        pattern = compile_pattern(str(values["pattern"]))
    except ValueError as exc:
        problems.append((f"{where}.pattern", str(values["pattern"]), str(exc)))
        return None
    fields: dict[str, Any] = {}
    for key in ("app_name", "schedule", "provider", "notify", "group"):
        if key in values:
            fields[key] = _text(values[key], f"{where}.{key}", problems)
    if "provider_zone" in values:
        fields["zone"] = _text(values["provider_zone"], f"{where}.provider_zone", problems)
    for key in ("ignore", "protect", "manage_workers"):
        if key in values:
            if isinstance(values[key], bool):
                fields[key] = values[key]
            else:
                problems.append((f"{where}.{key}", repr(values[key]), "must be true or false"))
    if "linked_apps" in values:
        linked = values["linked_apps"]
        if isinstance(linked, str):
            linked = [linked]
        if isinstance(linked, list) and all(isinstance(x, str) and x.strip() for x in linked):
            fields["linked_apps"] = tuple(x.strip() for x in linked)
        else:
            problems.append((f"{where}.linked_apps", repr(linked), "must be a list of app names"))
    idle = _idle_timeout(values, where, problems, warnings)
    if idle is not None:
        fields["idle_timeout"] = idle
    if fields.get("manage_workers") and "idle_timeout" in fields and not values.get("schedule"):
        key = "idle_timeout" if "idle_timeout" in values else "app_max_idle_time"
        problems.append(
            (
                f"{where}.{key}",
                str(values[key]),
                "an idle timeout cannot put worker apps to sleep (`manage_workers: true`): they have no "
                "activity signal, so they sleep by schedule only — add `schedule: <name of a schedule with "
                "sleep windows>` to this rule, or remove manage_workers",
            )
        )
    return Rule(pattern=pattern, index=number, **fields)


_RE2 = re2.Options()
_RE2.log_errors = False  # the problem is told in check-config's words, not on stderr
_RE2.max_mem = 8 << 20  # a pattern whose automaton needs more is refused, not run


def compile_pattern(text: str) -> Pattern:
    """A rule pattern, matched in time linear in the name (RE2): none can freeze Paastis as
    `(a+)+$` freezes a backtracking engine. Patterns needing backtracking are refused."""
    try:
        return re2.compile(text, options=_RE2)
    except re2.error as exc:
        why = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise ValueError(
            f"is not a valid regular expression for Paastis ({why}): patterns are matched in linear time (RE2 "
            "syntax), so backreferences (\\1) and lookarounds ((?=…), (?!…)) are refused"
        ) from None


def _text(value: Any, where: str, problems: list) -> str | None:
    if isinstance(value, (str, int)) and str(value).strip():
        return str(value).strip()
    problems.append((where, repr(value), "must be a non-empty text"))
    return None


def _idle_timeout(values: Mapping[str, Any], where: str, problems: list, warnings: list) -> timedelta | None:
    if "app_max_idle_time" in values and "idle_timeout" in values:
        problems.append((where, "", "has both app_max_idle_time and idle_timeout: keep one"))
        return None
    for key, unit in (("app_max_idle_time", "minutes"), ("idle_timeout", "minutes")):
        if key in values:
            try:
                idle = parse_duration(str(values[key]), bare_unit=unit)
            except ValueError as exc:
                problems.append((f"{where}.{key}", str(values[key]), str(exc)))
                return None
            if idle < timedelta(0):
                problems.append((f"{where}.{key}", str(values[key]), "must not be negative"))
                return None
            if idle == timedelta(0):
                # the original read 0 as "stop at every tick", even an app used a second ago;
                # the file keeps working, with the smallest idle time that lets a user finish a click
                warnings.append(f"{where}.{key}: 0 is read as 1 minute (0 would put apps to sleep while in use)")
                return timedelta(minutes=1)
            try:
                return check_idle_timeout(idle)
            except ValueError as exc:
                problems.append((f"{where}.{key}", str(values[key]), str(exc)))
                return None
    return None


def interpolate(template: str, match: re.Match[str]) -> str:
    """Replace every `$N` by the pattern's group N (empty when it did not take part)."""

    def group(m: re.Match[str]) -> str:
        number = int(m.group(1))
        if number > (match.re.groups or 0):
            return ""
        return match.group(number) or ""

    return re.sub(r"\$(\d)", group, template)


def ignored_by(name: str, patterns: Iterable[str]) -> str | None:
    """The REGISTRY_IGNORED_APPS entry (exact name or glob such as `review-*`) naming this app."""
    for pattern in patterns:
        if name == pattern or fnmatch.fnmatchcase(name, pattern):
            return pattern
    return None


def resolve(
    rules: Sequence[Rule],
    app_name: str,
    *,
    provider_name: str,
    provider_kind: str,
    provider_zone: str = "",
    default_idle: timedelta,
    ignored_apps: Iterable[str] = (),
    self_app: str | None = None,
) -> AppRules:
    """Apply every matching rule, in order, to the app named `app_name` at its provider."""
    resolved: dict[str, Any] = {"name": app_name, "idle_timeout": default_idle}
    matched = []
    for rule in rules:
        if rule.provider and rule.provider not in (provider_name, provider_kind):
            continue
        if rule.zone and rule.zone != provider_zone:
            continue
        match = rule.pattern.search(app_name)
        if not match:
            continue
        matched.append(rule.index)
        if rule.app_name is not None:
            resolved["name"] = interpolate(rule.app_name, match)
        if rule.linked_apps is not None:
            resolved["linked_apps"] = tuple(interpolate(x, match) for x in rule.linked_apps)
        if rule.group is not None:
            resolved["group"] = interpolate(rule.group, match)
        for key in ("idle_timeout", "schedule", "notify"):
            if getattr(rule, key) is not None:
                resolved[key] = getattr(rule, key)
        if rule.ignore is not None:
            resolved["ignored"] = f"ignored by rule {rule.index}" if rule.ignore else None
        if rule.protect is not None:
            resolved["protected"] = rule.protect
        if rule.manage_workers is not None:
            resolved["manage_workers"] = rule.manage_workers
    if self_app and app_name == self_app:
        resolved["ignored"] = "Paastis runs as this app (PAASTIS_SELF_APP)"
    elif (pattern := ignored_by(app_name, ignored_apps)) is not None:
        resolved["ignored"] = f"listed in REGISTRY_IGNORED_APPS ({pattern})"
    linked = tuple(x for x in resolved.get("linked_apps", ()) if x != app_name)
    resolved["linked_apps"] = linked
    return AppRules(matched=tuple(matched), **resolved)
