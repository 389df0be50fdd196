"""Rules of paastis.yml: the original files keep working, its bugs are fixed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from bot.policy.rules import interpolate, parse_rules, resolve

SAMPLES = Path(__file__).parents[1] / "config" / "samples"


def resolved(rules_yaml: str, name: str, **kw):
    rules, problems, _warnings = parse_rules(yaml.safe_load(rules_yaml)["rules"])
    assert not problems, problems
    options = {"provider_name": "scalingo-osc-fr1", "provider_kind": "scalingo", "default_idle": timedelta(minutes=15)}
    return resolve(rules, name, **{**options, **kw})


def test_the_original_readme_rules_behave_as_documented() -> None:
    text = (SAMPLES / "original-readme.paastis.yml").read_text()

    assert resolved(text, "app-review-pr42-back").linked_apps == ("app-review-pr42-front",)
    assert resolved(text, "hello-fastify").linked_apps == ("hellofastifydeux",)
    renamed = resolved(text, "hello-fastify-2")
    assert renamed.name == "hellofastifydeux"  # found under its new name, and under its own
    assert renamed.idle_timeout == timedelta(minutes=1)  # '.*fastify.*' says 0: read as 1 minute
    assert renamed.linked_apps == ("hellofastifydeux",)
    assert resolved(text, "unrelated").matched == ()


def test_a_zero_idle_time_keeps_working_with_a_warning() -> None:
    _, problems, warnings = parse_rules([{"pattern": ".*fastify.*", "app_max_idle_time": 0}])
    assert problems == []
    assert "read as 1 minute" in warnings[0]


def test_the_original_sample_file_parses_and_reports_its_ignored_keys() -> None:
    raw = yaml.safe_load((SAMPLES / "original-sample.paastis.yml").read_text())["rules"]
    rules, problems, warnings = parse_rules(raw)

    assert problems == []
    assert len(rules) == 2
    assert any("group_name" in w for w in warnings)
    assert any(".name" in w for w in warnings)
    result = resolve(
        rules,
        "pix-app-review-pr12-back",
        provider_name="clever-par",
        provider_kind="clever-cloud",
        provider_zone="par",
        default_idle=timedelta(minutes=15),
    )
    assert result.name == "toto-pr12-back"
    assert result.group == "toto-pr12"
    assert result.idle_timeout == timedelta(minutes=30)


def test_the_original_test_rules_apply_in_order_later_ones_winning() -> None:
    text = (SAMPLES / "original-test.paastis.yml").read_text()
    result = resolved(text, "app-review-pr7-back")
    assert result.name == "renamed-app-pr7-back"
    assert result.idle_timeout == timedelta(minutes=30)
    assert result.linked_apps == ("app-review-pr7-front",)
    assert resolved(text, "infinite-app-back").linked_apps == ("infinite-app-front",)  # never itself


def test_provider_restrictions_from_the_original_keys() -> None:
    raw = yaml.safe_load((SAMPLES / "original-sample.paastis.yml").read_text())["rules"]
    rules, _, _ = parse_rules(raw)
    on_scalingo = resolve(
        rules,
        "pix-app-review-pr12-back",
        provider_name="scalingo-osc-fr1",
        provider_kind="scalingo",
        default_idle=timedelta(minutes=15),
    )
    assert on_scalingo.name == "pix-app-review-pr12-back"  # the rule is for clever-cloud in par only


@pytest.mark.parametrize(
    ("pattern", "template", "name", "expected"),
    [
        (r"pr(\d+)-(back|front)", "pr$1-$2", "pr12-front", "pr12-front"),
        (r"pr(\d+)", "pr$1-$1", "pr3", "pr3-3"),  # every $N, not only the first
        (r"pr(\d+)(-x)?", "a$2b", "pr3", "ab"),  # a group that did not take part: empty
        (r"pr(\d+)", "a$5b", "pr3", "ab"),  # a group that does not exist: empty
        (r"(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)", "$10", "abcdefghij", "a0"),  # $1 then a literal 0
        (r"x", "no groups", "x", "no groups"),
    ],
)
def test_interpolation(pattern: str, template: str, name: str, expected: str) -> None:
    import re

    assert interpolate(template, re.search(pattern, name)) == expected


@pytest.mark.parametrize("minutes", [60, 75, 90, 240])
def test_idle_times_of_an_hour_and_more_are_kept(minutes: int) -> None:
    rules = f"rules:\n  - pattern: 'x'\n    app_max_idle_time: {minutes}\n"
    assert resolved(rules, "x").idle_timeout == timedelta(minutes=minutes)


def test_new_keys() -> None:
    text = """
rules:
  - pattern: '^prod-'
    protect: true
    notify: '#prod-ops'
  - pattern: '^tmp-'
    ignore: true
  - pattern: '^demo-'
    idle_timeout: 2h
    schedule: office
"""
    assert resolved(text, "prod-api").protected
    assert resolved(text, "prod-api").notify == "#prod-ops"
    assert resolved(text, "tmp-1").ignored == "ignored by rule 2"
    demo = resolved(text, "demo-x")
    assert demo.idle_timeout == timedelta(hours=2)
    assert demo.schedule == "office"


def test_registry_ignored_apps_take_globs_and_the_self_app_is_never_managed() -> None:
    rules = "rules: []"
    assert "REGISTRY_IGNORED_APPS" in resolved(rules, "review-3", ignored_apps=["review-*"]).ignored
    assert resolved(rules, "reviewer", ignored_apps=["review-*"]).ignored is None
    assert "PAASTIS_SELF_APP" in resolved(rules, "paastis", self_app="paastis").ignored


@pytest.mark.parametrize(
    ("rules", "problem"),
    [
        ([{"app_name": "x"}], "has no pattern"),
        ([{"pattern": "("}], "not a valid regular expression"),
        ([{"pattern": "x", "app_max_idle_time": "soon"}], "not a duration"),
        ([{"pattern": "x", "app_max_idle_time": -5}], "not a duration"),
        ([{"pattern": "x", "idle_timout": "1h"}], "unknown key"),
        ([{"pattern": "x", "protect": "yes"}], "true or false"),
        ([{"pattern": "x", "linked_apps": [1, 2]}], "list of app names"),
        ([{"pattern": "x", "app_max_idle_time": 5, "idle_timeout": "5m"}], "keep one"),
        ("not a list", "must be a list"),
    ],
)
def test_bad_rules_are_named_with_the_fix(rules, problem: str) -> None:
    _, problems, _ = parse_rules(rules)
    assert problems
    assert problem in " ".join(p[2] for p in problems)


def test_manage_workers_is_validated_like_other_switches() -> None:
    rules, problems, _ = parse_rules([{"pattern": "^queue$", "manage_workers": "yes please"}])
    assert problems == [("rules[1].manage_workers", "'yes please'", "must be true or false")]
    rules, problems, _ = parse_rules([{"pattern": "^queue$", "manage_workers": True}])
    assert problems == []
    assert resolve(
        rules, "queue", provider_name="p", provider_kind="fake", default_idle=timedelta(minutes=15)
    ).manage_workers
