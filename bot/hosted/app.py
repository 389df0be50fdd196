"""The hosted edition's one Bolt app (HTTP mode): "Add to Slack" and its OAuth redirect, and
every request routed by its team to that workspace's own Paastis.

    GET /slack/install          the Add to Slack page (a state issued, kept in the registry)
    GET /slack/oauth_redirect   state checked (once, within 10 minutes, same browser), the code
                                exchanged at oauth.v2.access (SLACK_API_URL), the installation sealed
    POST /slack/events          the Gate (signatures, replays), then Bolt's authorization, which
                                finds the team's installation (token rotation included), then
                                the routes (bot.hosted.routes):
        /paastis connect · connections · disconnect · settings · plan · monitor · unmonitor
                                → bot.hosted.admin; any other /paastis → that workspace's
                                Listeners (the same as a single-workspace Paastis)
        buttons                 hosted ones → admin; the others → that workspace's Listeners
        app_home_opened         the plan and connections, then that workspace's dashboard
        app_uninstalled, tokens_revoked   one handler (Bolt runs only the first that matches):
                                tokens and credentials deleted at once, the workspace closed,
                                its data kept PAASTIS_PURGE_AFTER_DAYS, then purged

A team without an installation never reaches a listener (Bolt answers it); a button's value
is looked up in the clicking team's Paastis only, so a value naming another workspace's app
or connection finds nothing.
"""

from __future__ import annotations

import html
import logging
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App, BoltResponse
from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.clock import Clock
from bot.hosted.admin import Admin
from bot.hosted.registry import Registry
from bot.hosted.routes import Routes
from bot.hosted.settings import SCOPES, HostedSettings
from bot.hosted.stores import RegistryInstallationStore, RegistryStateStore
from bot.hosted.tenants import Tenants
from bot.slack.app import BOLT_LOGGER, LISTENER_THREADS
from bot.slack.gate import Gate

log = logging.getLogger(__name__)

NOT_INSTALLED = (
    "⚠️ Paastis is not installed in this workspace (or was uninstalled): "
    "an admin can install it again with Add to Slack."
)
FAILURES = {
    "access_denied": "You cancelled the installation: nothing was installed.",
    "invalid_state": "This install link has expired or was already used.",
    "invalid_browser": "This install did not start in this browser (its cookie is missing).",
    "missing_code": "Slack did not send an authorization code.",
    "invalid_code": "Slack did not confirm this installation (the code was refused or already used).",
    "storage_error": "Paastis could not save the installation; it was logged.",
}


def _page(title: str, text: str, status: int) -> BoltResponse:
    body = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Paastis</title></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>"
    )
    return BoltResponse(status=status, body=body, headers={"Content-Type": "text/html; charset=utf-8"})


def _failure(args: FailureArgs) -> BoltResponse:
    why = FAILURES.get(args.reason, "Slack answered with an error.")
    log.warning("hosted.install_failed reason=%s", args.reason)
    status = 200 if args.reason == "access_denied" else args.suggested_status_code
    return _page("Paastis was not installed", f"{why} Start again from /slack/install.", status)


def _success(args: SuccessArgs) -> BoltResponse:
    team = args.installation.team_name or args.installation.team_id or "your workspace"
    text = f"Paastis is installed in {team}. In Slack, open Paastis's Home tab or type /paastis connect."
    return _page("Paastis is installed", text, 200)


def build_hosted_app(
    hosted: HostedSettings,
    registry: Registry,
    tenants: Tenants,
    admin: Admin,
    clock: Clock,
    *,
    threads: int = LISTENER_THREADS,
) -> App:
    bolt_log = logging.getLogger(BOLT_LOGGER)
    client = WebClient(base_url=hosted.api_url, timeout=10)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    store = RegistryInstallationStore(registry, admin.sealer, clock)
    oauth = OAuthSettings(
        client_id=hosted.client_id,
        client_secret=hosted.client_secret,
        scopes=list(SCOPES),
        user_scopes=[],
        installation_store=store,
        state_store=RegistryStateStore(registry, clock),
        callback_options=CallbackOptions(success=_success, failure=_failure),
        logger=bolt_log,
    )
    authorize = InstallationStoreAuthorize(  # its token rotation calls Slack through SLACK_API_URL
        logger=bolt_log,
        installation_store=store,
        client_id=hosted.client_id,
        client_secret=hosted.client_secret,
        cache_enabled=True,  # auth.test once per token, not once per request
        client=client,
    )
    bolt = App(
        name="paastis",
        client=client,
        signing_secret=hosted.signing_secret,
        request_verification_enabled=False,  # the Gate verifies
        before_authorize=Gate(hosted.signing_secret),
        authorize=authorize,
        oauth_settings=oauth,
        listener_executor=ThreadPoolExecutor(max_workers=threads, thread_name_prefix="slack-listener"),
        logger=bolt_log,
        user_facing_authorize_error_message=NOT_INSTALLED,
    )
    Routes(hosted, registry, tenants, admin, clock).register(bolt)
    return bolt
