"""`paastis proxy` as its own app beside `paastis serve`: one database, notices posted once."""

from __future__ import annotations

from pathlib import Path

import psycopg

from bot.chat.messages import Message, Section, md
from bot.config.loading import load_settings
from bot.slack.app import slack_side
from bot.store.outbox import Outbox
from bot.visits.server import build_proxy
from tests.fakes.clock import FakeClock
from tests.fakes.slack_api import FakeSlack


def settings_for(tmp_path: Path, database: str, slack: FakeSlack):
    (tmp_path / "paastis.yml").write_text("proxy:\n  routes:\n    review-42.example.com: review-42\n")
    env = {
        "PROVIDER_NAME": "fake",
        "DATABASE_URL": database,
        "PAASTIS_DB": str(tmp_path / "unused.db"),
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "s" * 32,
        "SLACK_API_URL": slack.api_url,
        "PAASTIS_CHANNEL": "C0CHANNEL",
    }
    return load_settings(env, tmp_path), env


def test_the_proxy_uses_database_url_runs_no_schedule_and_leaves_its_notices_to_serve(postgres, tmp_path) -> None:
    clock = FakeClock()
    with FakeSlack() as slack:
        settings, env = settings_for(tmp_path, postgres.new_database(), slack)
        proxy = build_proxy(settings, env, clock)
        try:
            proxy.paastis.engine.discover()
            with psycopg.connect(settings.database_url) as conn:  # the apps are where `serve` reads them
                assert conn.execute('select count(*) from "apps"').fetchone()[0] > 0
            assert not (tmp_path / "unused.db").exists()
            assert not proxy.paastis.scheduler.running  # sweeps and reports are `serve`'s
            text = md("✅ *{}* woken by a visit", "review-42")
            proxy.visits.post(Message(text, (Section(text),)), None)
            assert not slack.wait_for(lambda: slack.calls_to("chat.postMessage"), timeout=1.0)
            assert [p.channel for p in Outbox(settings.database).pending()] == ["C0CHANNEL"]

            serve = slack_side(settings, clock)  # what `paastis serve` resumes, then its leader every 10 s
            try:  # while the proxy runs: its notices are nobody's, so serve takes them at once
                assert serve.outbound.resume() == 1
                assert slack.wait_for(lambda: slack.calls_to("chat.postMessage"))
                serve.outbound.flush(5)
                assert serve.outbound.resume() == 0  # taken once
            finally:
                serve.close()
        finally:
            proxy.close()
        assert len(slack.calls_to("chat.postMessage")) == 1  # not again when the proxy stops
        [posted] = slack.calls_to("chat.postMessage")
        assert "review-42" in str(posted.body)
        assert Outbox(settings.database).pending() == []
