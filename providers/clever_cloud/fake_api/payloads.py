"""The JSON the fake Clever Cloud API answers, computed from a `SimulatedPaas` app.

Shapes follow PROVIDERS.md §2.3 (v2 Application, Instance, Deployment) and ACTIVITY.md §2.2
(v4 ACCESS_LOG). What a simulated app lacks and Clever Cloud keeps (scaling settings to
restore, vhosts, creation date) lives in `CleverSide`. World state → Clever state::

    world        app.state                          instances          last deployment
    running      SHOULD_BE_UP                       web × UP           DEPLOY OK
    waking       WANTS_TO_BE_UP                     web × DEPLOYING    DEPLOY WIP, OK for the
                                                                       last OK_BEFORE_UP (3 s)
                                                                       of the boot (getStatus:
                                                                       "unknown"), unlisted for
                                                                       its first VISIBLE_AFTER
    crashed      WANTS_TO_BE_UP (failed redeploy)   none               DEPLOY FAIL
                 SHOULD_BE_UP (crashed while up)
    stopping     SHOULD_BE_DOWN                     web × STOPPING     UNDEPLOY WIP
    sleeping     SHOULD_BE_DOWN                     none               UNDEPLOY OK
    unknown      MODERATED                          none
    never deployed: deployments and env answer 404 (read as empty by clever-client)

Departures, where the world has less than Clever Cloud: worker processes become
`CC_WORKER_COMMAND_<n>` variables, one per container of each non-web process type; the
world keeps only the last human deploy (`world.deploy`), so only that one is listed; causes
of deployments are made up (the real strings are not documented).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from providers.base import AppState, Formation, Process
from providers.fake import SimApp, SimOperation

VISIBLE_AFTER = timedelta(seconds=2)  # a fresh deployment is not listed (nor found by id) at once
OK_BEFORE_UP = timedelta(seconds=3)  # a redeploy reads OK this long before the instances are UP
HUMAN = {"id": "user_5c1e0a2e-7d4b-4c5e-9f1a-developer01", "name": "A. Developer"}
FLAVORS = {"pico": (256, 1), "nano": (512, 1), "XS": (1024, 1), "S": (2048, 2), "M": (4096, 4), "L": (8192, 6)}
_LIVE_STATE = {AppState.WAKING: "DEPLOYING", AppState.STOPPING: "STOPPING", AppState.RUNNING: "UP"}


@dataclass
class CleverSide:
    """What Clever Cloud keeps about an app that the simulated world does not."""

    created_at: datetime
    scaling: Formation  # what a redeploy brings back: the formation at the last undeploy
    vhosts: list[str] = field(default_factory=list)
    favourite: str | None = None


def clever_app_id(name: str) -> str:
    """A stable `app_<uuid>` id for a simulated app named `name`."""
    return f"app_{uuid.uuid5(uuid.NAMESPACE_URL, f'clever-cloud/{name}')}"


def default_vhost(app_id: str) -> str:
    return f"{app_id.replace('_', '-')}.cleverapps.io/"


def ms(when: datetime) -> int:
    """Epoch milliseconds, rounded up: the fake never dates anything before it happened."""
    return math.ceil(when.timestamp() * 1000)


def iso(when: datetime) -> str:
    return datetime.fromtimestamp(ms(when) / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def clever_state(app: SimApp) -> str:
    if app.state is AppState.RUNNING:
        return "SHOULD_BE_UP"
    if app.state is AppState.WAKING:
        return "WANTS_TO_BE_UP"
    if app.state is AppState.CRASHED:
        failed_wake = bool(app.operations and app.operations[-1].failure)
        return "WANTS_TO_BE_UP" if failed_wake else "SHOULD_BE_UP"
    if app.state in (AppState.SLEEPING, AppState.STOPPING):
        return "SHOULD_BE_DOWN"
    return "MODERATED"


def app_json(app: SimApp, side: CleverSide, *, owner_id: str, zone: str) -> dict[str, Any]:
    flavor = _flavor(side.scaling)
    web = max(side.scaling.amount("web"), 1)
    git = f"push-n3-{zone}-clevercloud-customers.services.clever-cloud.com/{app.id}.git"
    return {
        "id": app.id,
        "name": app.name,
        "description": app.name,
        "zone": zone,
        "zoneId": f"zone_{zone}",
        "ownerId": owner_id,
        "state": clever_state(app),
        "homogeneous": False,
        "instance": {
            "type": "node",
            "version": "20260101",
            "variant": {"slug": "node", "name": "Node"},
            "minInstances": web,
            "maxInstances": web,
            "minFlavor": {"name": flavor},
            "maxFlavor": {"name": flavor},
            "lifetime": "REGULAR",
            "defaultEnv": {},
        },
        "deployment": {
            "shutdownable": True,
            "type": "GIT",
            "repoState": "CREATED",
            "url": f"git+ssh://git@{git}",
            "httpUrl": f"https://{git}",
        },
        "vhosts": [{"fqdn": v} for v in side.vhosts],
        "creationDate": ms(side.created_at),
        "last_deploy": len(app.operations),
        "archived": False,
        "stickySessions": False,
        "favourite": False,
        "cancelOnPush": False,
        "separateBuild": False,
        "buildFlavor": None,
        "commitId": _commit(app.id),
        "branch": "master",
        "forceHttps": "ENABLED",
        "deployUrl": f"https://{git}",
    }


def instances_json(app: SimApp, side: CleverSide) -> list[dict[str, Any]]:
    state = _LIVE_STATE.get(app.state)
    if state is None:
        return []
    operation = app.operations[-1] if app.operations else None
    shown = app.formation
    if app.state is AppState.STOPPING and operation:
        shown = operation.before
    flavor = _flavor(shown)
    mem, cpus = FLAVORS.get(flavor, (512, 1))
    deploy = deployment_uuid(app, operation) if operation else None
    return [
        {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{app.id}/{deploy}/{n}")),
            "appId": app.id,
            "ip": f"10.2.0.{n + 1}",
            "appPort": 8080,
            "state": state,
            "flavor": {"name": flavor, "mem": mem, "cpus": cpus, "price": 0.0},
            "commit": _commit(app.id),
            "deployNumber": len(app.operations),
            "deployId": deploy,
            "instanceNumber": n,
            "displayName": f"{app.name}-{n}",
            "creationDate": ms(side.created_at),
        }
        for n in range(shown.amount("web"))
    ]


def deployments_json(app: SimApp, *, paastis_user: dict[str, str], now: datetime) -> list[dict[str, Any]]:
    """Every deployment of the app, newest first: none in its first VISIBLE_AFTER, and a
    redeploy reads OK up to OK_BEFORE_UP before the app is up (see the module's table)."""
    listed = []
    for index, operation in enumerate(app.operations, start=1):
        if now < operation.started_at + VISIBLE_AFTER:
            continue
        status = {"running": "WIP", "done": "OK", "error": "FAIL"}[operation.status(now)]
        action = "DEPLOY" if operation.after.running else "UNDEPLOY"
        if status == "WIP" and action == "DEPLOY" and not operation.failure:
            gap = min(OK_BEFORE_UP, (operation.ends_at - operation.started_at) / 4)
            status = "OK" if now >= operation.ends_at - gap else status
        listed.append(
            {
                "id": index,
                "uuid": deployment_uuid(app, operation),
                "date": ms(operation.started_at),
                "state": status,
                "action": action,
                "commit": _commit(app.id),
                "cause": "redeploy" if action == "DEPLOY" else "undeploy",
                "instances": operation.after.amount("web"),
                "author": dict(paastis_user),
            }
        )
    if app.deployed_at:
        listed.append(
            {
                "id": len(listed) + 1,
                "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{app.id}/human")),
                "date": ms(app.deployed_at),
                "state": "OK",
                "action": "DEPLOY",
                "commit": _commit(app.name),
                "cause": "git push",
                "instances": max(app.formation.amount("web"), 1),
                "author": dict(HUMAN),
            }
        )
    return sorted(listed, key=lambda d: d["date"], reverse=True)


def deployment_uuid(app: SimApp, operation: SimOperation) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{app.id}/{operation.id}"))


def environment_json(side: CleverSide) -> list[dict[str, str]]:
    """Variables, with a secret among them: worker processes become CC_WORKER_COMMAND_<n>."""
    workers = [f"./bin/{p.name}" for p in side.scaling.processes if p.name != "web" for _ in range(p.amount)]
    return [
        {"name": "PORT", "value": "8080"},
        {"name": "DATABASE_URL", "value": "postgresql://app:fake-db-password@db.internal/app"},
        *({"name": f"CC_WORKER_COMMAND_{n}", "value": command} for n, command in enumerate(workers)),
    ]


def access_log_json(app: SimApp, when: datetime, event_id: str, zone: str) -> dict[str, Any]:
    place = {"city": "Nantes", "countryCode": "FR", "geoLocation": {"latitude": 47.2, "longitude": -1.5}}
    return {
        "id": event_id,
        "date": iso(when),
        "applicationId": app.id,
        "instanceId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{app.id}/instance")),
        "requestId": str(uuid.uuid4()),
        "zone": zone,
        "region": zone,
        "bytesIn": 658,
        "bytesOut": 562,
        "tls": None,
        "source": {"ip": "192.0.2.10", "port": 58477, **place},
        "destination": {"ip": "198.51.100.7", "port": 14001, **place},
        "http": {
            "request": {"host": default_vhost(app.id).rstrip("/"), "method": "GET", "path": "/", "scheme": "HTTPS"},
            "response": {"statusCode": 200, "time": 31, "serviceTime": None},
        },
    }


def scaling_to_restore(side: CleverSide) -> Formation:
    """A redeploy restores the last scaling; an app never seen running gets web × 1."""
    if side.scaling.running:
        return side.scaling
    others = tuple(Process(p.name, 0, p.size) for p in side.scaling.processes if p.name != "web")
    return Formation((Process("web", 1, _size(side.scaling)), *others))


def _flavor(shape: Formation) -> str:
    return _size(shape) or "nano"


def _size(shape: Formation) -> str | None:
    return next((p.size for p in shape.processes if p.name == "web"), None)


def _commit(seed: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, seed).hex + "deadbeef"
