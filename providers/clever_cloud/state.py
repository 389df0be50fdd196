"""A Clever Cloud application as Paastis sees it: its state, its Open link, its formation.

Pure functions over the API's JSON (v2 Application, Instance and Deployment objects).

State, the way clever-client's `getStatus(app, deployments, instances)` computes it
(`esm/utils/app-status.ts`), then mapped onto `AppState`::

    app.state        last deployment   instances UP   getStatus                   AppState
    SHOULD_BE_DOWN   any               any            stopped                     sleeping
                                                      (undeploy WIP, or instances
                                                       still alive)               stopping  (*)
    WANTS_TO_BE_UP   WIP               any            starting                    waking
    WANTS_TO_BE_UP   FAIL              any            start-failed                crashed
    WANTS_TO_BE_UP   DEPLOY OK         none           unknown                     waking    (*)
    SHOULD_BE_UP     WIP               homogeneous    restarting-with-downtime    waking
    SHOULD_BE_UP     WIP               > 0            restarting                  waking
    SHOULD_BE_UP     FAIL              > 0            restart-failed              crashed
    SHOULD_BE_UP     OK / none         > 0            running                     running
    anything else                                     unknown                     unknown, or
                                                                                  waking while a
                                                                                  deployment is WIP (*)

(*) Paastis's refinements: getStatus has no "stopping", and calls "unknown" a deployment in
progress on an app with no instance UP, and an app that WANTS_TO_BE_UP after a deploy that
went OK while its instances boot (clever-client's own status tests); Paastis must not touch
them, so they are busy. While Paastis follows a wake it started, an app that WANTS_TO_BE_UP
(or SHOULD_BE_UP with no instance UP yet) is waking unless its deployment failed, even
before that deployment is listed.

Formation: Clever Cloud has no process types. An app runs N identical instances of one
flavor, and every instance also runs the commands of its `CC_WORKER_COMMAND*` variables.
Paastis shows it as `Process("web", N, flavor)` plus `Process("worker", W)`, W being the
number of worker commands (informative only: workers run inside the web instances, they
are not containers of their own). A redeploy restores Clever's own scaling settings.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from providers.base import AppState, Formation, Process

Json = Mapping[str, Any]

LIVE_INSTANCE_STATES = frozenset(
    {"BOOTING", "STARTING", "DEPLOYING", "BUILDING", "MIGRATION_IN_PROGRESS", "TASK_IN_PROGRESS", "READY", "UP"}
)
_DEFAULT_VHOST = re.compile(r"^app-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.cleverapps\.io$")
_WORKER_VARIABLE = re.compile(r"^CC_WORKER_COMMAND(_\w+)?$")

_COARSE = {
    "SHOULD_BE_UP": AppState.RUNNING,
    "SHOULD_BE_DOWN": AppState.SLEEPING,
    "WANTS_TO_BE_UP": AppState.WAKING,
}
_UNKNOWN_WHY = {
    "MODERATED": "Clever Cloud has moderated this app",
    "DEFAULT_OF_PAYMENT": "Clever Cloud suspended this app for an unpaid invoice",
}


@dataclass(frozen=True)
class Status:
    state: AppState
    problem: str | None = None
    clever: str = ""  # getStatus's own word, for details and logs


def clever_status(app: Json, last_deployment: Json | None, instances: Sequence[Json]) -> str:
    """getStatus, as clever-client computes it."""
    deployed = (last_deployment or {}).get("state")
    up = sum(1 for i in instances if i.get("state") == "UP")
    state = app.get("state")
    if state == "SHOULD_BE_DOWN":
        return "stopped"
    if state == "WANTS_TO_BE_UP":
        if deployed == "WIP":
            return "starting"
        if deployed == "FAIL":
            return "start-failed"
    if state == "SHOULD_BE_UP":
        if deployed == "WIP":
            if app.get("homogeneous") is True:
                return "restarting-with-downtime"
            if app.get("homogeneous") is False and up > 0:
                return "restarting"
        elif deployed == "FAIL":
            if up > 0:
                return "restart-failed"
        elif up > 0:
            return "running"
    return "unknown"


def app_status(
    app: Json, last_deployment: Json | None, instances: Sequence[Json], *, following: bool = False
) -> Status:
    """The full state (get_app): app.state + the last (or followed) deployment + instances UP.

    `following`: Paastis started a wake of this app and follows its deployment (which may not
    be listed yet: `last_deployment` None).
    """
    word = clever_status(app, last_deployment, instances)
    deployment = last_deployment or {}
    if following and deployment.get("state") == "FAIL":
        return Status(AppState.CRASHED, _failure(app, deployment, "start-failed"), clever=word)
    if word == "stopped":
        undeploying = deployment.get("action") == "UNDEPLOY" and deployment.get("state") == "WIP"
        alive = any(i.get("state") in LIVE_INSTANCE_STATES | {"STOPPING"} for i in instances)
        return Status(AppState.STOPPING if undeploying or alive else AppState.SLEEPING, clever=word)
    if word in ("starting", "restarting", "restarting-with-downtime"):
        return Status(AppState.WAKING, clever=word)
    if word == "running":
        return Status(AppState.RUNNING, clever=word)
    if word in ("start-failed", "restart-failed"):
        return Status(AppState.CRASHED, _failure(app, deployment, word), clever=word)
    if deployment.get("state") == "WIP" or _on_its_way(app, deployment, following=following):
        return Status(AppState.WAKING, clever=word)
    return Status(AppState.UNKNOWN, _unknown_why(app), clever=word)


def _on_its_way(app: Json, deployment: Json, *, following: bool) -> bool:
    """Clever Cloud is bringing the app up though getStatus says "unknown": it WANTS_TO_BE_UP
    after a deploy that went OK (its instances boot), or Paastis follows its wake and nothing
    failed (the deployment not listed yet, or instances not UP yet)."""
    state = app.get("state")
    deployed_ok = deployment.get("action", "DEPLOY") == "DEPLOY" and deployment.get("state") == "OK"
    if state == "WANTS_TO_BE_UP":
        return following or deployed_ok
    return following and state == "SHOULD_BE_UP"


def coarse_status(app: Json) -> Status:
    """The cheap state (list_apps): app.state alone. A failed start still reads as waking here."""
    state = str(app.get("state"))
    if state in _COARSE:
        return Status(_COARSE[state], clever=state)
    return Status(AppState.UNKNOWN, _unknown_why(app), clever=state)


def open_url(vhosts: Sequence[Json], favourite: str | None = None) -> str | None:
    """The "Open" link: the favourite vhost, else a custom domain, else a cleverapps.io name
    other than the default, else the default `app-<uuid>.cleverapps.io` (clever-tools' choice).

    Vhosts carry a trailing `/` and may carry a path: the slash is dropped, the path kept.
    None when the app has no vhost at all (the default one can be removed).
    """
    names = [_fqdn(str(v.get("fqdn") or "")) for v in vhosts if isinstance(v, Mapping)]
    names = [n for n in names if n]
    chosen = _fqdn(favourite or "") or next(
        (n for n in names if not _host(n).endswith(".cleverapps.io")),
        next((n for n in names if not _DEFAULT_VHOST.match(_host(n))), names[0] if names else None),
    )
    return f"https://{chosen}" if chosen else None


def running_instances(instances: Sequence[Json]) -> list[Json]:
    """The instances that serve (UP) or, when none does yet, those on their way up."""
    up = [i for i in instances if i.get("state") == "UP"]
    return up or [i for i in instances if i.get("state") in LIVE_INSTANCE_STATES]


def formation(instances: Sequence[Json], workers: int) -> Formation:
    """web × running instances (of their most common flavor), plus worker × worker commands."""
    running = running_instances(instances)
    if not running:
        return Formation((Process("web", 0),))
    flavors = Counter(_flavor(i.get("flavor")) for i in running)
    flavor = flavors.most_common(1)[0][0] or None
    processes = [Process("web", len(running), flavor)]
    if workers:
        processes.append(Process("worker", workers))
    return Formation(tuple(processes))


def worker_commands(environment: Sequence[Json]) -> int:
    """How many worker commands an app's variables declare. Only names are read: values are
    secrets and are dropped at once."""
    return sum(1 for variable in environment if _WORKER_VARIABLE.match(str(variable.get("name", ""))))


def _failure(app: Json, deployment: Json, word: str) -> str:
    uuid = deployment.get("uuid") or deployment.get("id") or "?"
    still = " The previous instances still serve." if word == "restart-failed" else ""
    return (
        f"the Clever Cloud deployment {uuid} failed ({word}).{still} Its logs: "
        f"clever logs --app {app.get('id')} --deployment-id {uuid}"
    )


def _unknown_why(app: Json) -> str:
    state = str(app.get("state"))
    if state in _UNKNOWN_WHY:
        return _UNKNOWN_WHY[state]
    if state == "SHOULD_BE_UP":
        return "Clever Cloud wants this app up, but none of its instances is UP"
    if state == "WANTS_TO_BE_UP":
        return "Clever Cloud wants this app up, but no deployment is running"
    return f"Clever Cloud reports an app state Paastis does not know ({state})"


def _fqdn(value: str) -> str:
    """`app_<uuid>.cleverapps.io/` → `app-<uuid>.cleverapps.io`: no trailing slash, and never
    the `app_` form, which the edge does not route (paastis diary 2022-09-11)."""
    value = value.strip().rstrip("/")
    host, slash, path = value.partition("/")
    if host.startswith("app_") and host.endswith(".cleverapps.io"):
        host = "app-" + host[len("app_") :]
    return host + slash + path


def _flavor(flavor: Any) -> str:
    """An instance's flavor name: `{"name": "S", "mem": …}` in v2 (a bare name is accepted)."""
    return str((flavor.get("name") if isinstance(flavor, Mapping) else flavor) or "")


def _host(name: str) -> str:
    return name.partition("/")[0]
