"""What every PaaS provider speaks: domain values, the `Provider` protocol, the error tree.

Providers are thin adapters over one account in one region or zone. They know nothing of
Slack, SQLite or the scheduler; waiting for a wake, budgets shared with other callers,
linked apps and policy live in the bot's services.

Errors raised by providers (never raw httpx / requests exceptions)::

    ProviderError                 anything a provider could not do
    ├── AuthenticationFailed      credentials refused (401/403): fix the configuration
    ├── AppNotFound               no such app in this provider (region, zone)
    ├── ProviderUnavailable       timeouts, 5xx, 429, connection errors: retry later
    │   └── RateLimited           the provider's rate limit was hit (retry_after seconds)
    ├── ActivityUnavailable       the app's activity cannot be read now: never idleness
    └── OperationRejected         the provider refused the request (4xx), or an
                                  asynchronous operation (scale, redeploy) ended in error
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from providers.formation import Autoscaler, Formation, Process
from providers.options import Option

__all__ = [
    "Activity",
    "ActivityUnavailable",
    "AppNotFound",
    "AppState",
    "AuthenticationFailed",
    "Autoscaler",
    "BudgetSnapshot",
    "Clock",
    "EnvVariable",
    "Formation",
    "OperationRejected",
    "PaasApp",
    "Process",
    "Provider",
    "ProviderDeps",
    "ProviderError",
    "ProviderSpec",
    "ProviderType",
    "ProviderUnavailable",
    "RateLimited",
]


class AppState(enum.StrEnum):
    RUNNING = "running"
    SLEEPING = "sleeping"
    WAKING = "waking"
    STOPPING = "stopping"
    CRASHED = "crashed"
    UNKNOWN = "unknown"

    @property
    def busy(self) -> bool:
        """The provider is changing this app: it must not be touched now."""
        return self in (AppState.WAKING, AppState.STOPPING)


@dataclass(frozen=True)
class PaasApp:
    """An app as its provider reports it.

    `id` is the provider's stable identifier (Scalingo: the app name; Clever Cloud:
    `app_<uuid>`); `name` is what people call it. `formation` is None when listing did not
    fetch it (it costs one call per app on some providers). `problem` says why an app is
    crashed or unknown, in words.
    """

    provider: str
    id: str
    name: str
    state: AppState
    url: str | None = None
    formation: Formation | None = None
    last_deployed_at: datetime | None = None
    problem: str | None = None
    details: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Activity:
    """What a provider observed of one app's use between `since` and `until`.

    `last_request_at` is the newest request seen in that window, None when there was none:
    the app was then idle for at least `until - since`. A provider that samples (per-minute
    buckets, bounded log queries) may date it later than the true newest request (the end
    of its bucket, never past `until`), never earlier: an app must never look idler than it
    is. It may count fewer `requests` than there were, but never none when there was one.
    Deploys are use too. Activity that cannot be read is not an `Activity`:
    providers raise `ActivityUnavailable` instead.
    """

    since: datetime
    until: datetime
    requests: int = 0
    last_request_at: datetime | None = None
    last_deploy_at: datetime | None = None


@dataclass(frozen=True)
class BudgetSnapshot:
    """How much of a provider's API call budget is in use, for status messages."""

    limit_per_minute: int
    used_last_minute: int
    reserved_for_actions: int
    throttled_until: datetime | None = None

    @property
    def spare(self) -> int:
        """Calls optional work (polling) may still make this minute."""
        return max(0, self.limit_per_minute - self.reserved_for_actions - self.used_last_minute)


class Clock(Protocol):
    """The only reader of time. Always timezone-aware UTC."""

    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...


@runtime_checkable
class Provider(Protocol):
    """One account in one region or zone. No method takes a region argument."""

    name: str  # unique: "scalingo-osc-fr1", "clever-par", "fake"
    kind: str  # provider type: "scalingo", "clever-cloud", "fake"
    # seconds until the next state check while waking: an attribute, or a property that
    # paces checks to the provider's budget (providers.pacing), read before every check
    poll_interval: float
    wake_timeout: float  # seconds a wake may take before it is reported as failed

    def list_apps(self) -> list[PaasApp]: ...

    def get_app(self, app_id: str) -> PaasApp:
        """Fresh state, with the formation."""
        ...

    def activity(self, app: PaasApp, since: datetime) -> Activity: ...

    def sleep(self, app: PaasApp) -> Formation:
        """Stop every process; return the formation that was running."""
        ...

    def wake(self, app: PaasApp, formation: Formation | None) -> None:
        """Start the app again with `formation` (None: the provider's default, web × 1).

        Returns once the provider accepted the request; callers follow `get_app` until
        the app runs, crashes or `wake_timeout` passes.
        """
        ...

    def budget(self) -> BudgetSnapshot | None:
        """The API call budget in use, or None when the provider has no known limit."""
        ...


class ProviderError(Exception):
    """Base of every provider failure; `str()` is a sentence fit for a user."""

    def __init__(self, message: str, *, provider: str = "", app: str | None = None) -> None:
        super().__init__(message)
        self.provider = provider
        self.app = app


class AuthenticationFailed(ProviderError):
    pass


class AppNotFound(ProviderError):
    pass


class ProviderUnavailable(ProviderError):
    pass


class RateLimited(ProviderUnavailable):
    def __init__(self, message: str, *, retry_after: float = 60.0, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ActivityUnavailable(ProviderError):
    pass


class OperationRejected(ProviderError):
    pass


@dataclass(frozen=True)
class ProviderSpec:
    """A provider as configured: its type, its unique name and its options.

    Options are plain values already validated by the provider type's `parse`; secrets
    are kept out of `repr`.
    """

    kind: str
    name: str
    options: dict[str, Any] = field(default_factory=dict, repr=False)
    secrets: frozenset[str] = frozenset()

    def redacted(self) -> dict[str, Any]:
        shown = {k: ("<redacted>" if k in self.secrets and v else v) for k, v in self.options.items()}
        return {"type": self.kind, "name": self.name, **shown}


@dataclass(frozen=True)
class ProviderDeps:
    """What the composition root hands to a provider it builds.

    `transport` replaces the network for tests and the demo: an `httpx.BaseTransport` for
    httpx-based providers, a `requests` adapter for requests-based ones, the simulated PaaS
    itself for the `fake` type (`providers.fake.deployment`). `ca_bundle` is the
    CA file to trust instead of the default store (from SSL_CERT_FILE / REQUESTS_CA_BUNDLE).
    """

    clock: Clock
    transport: Any = None
    user_agent: str = "paastis"
    ca_bundle: str | None = None


@dataclass(frozen=True)
class EnvVariable:
    """An environment variable that sets one option of the provider configured by environment
    (the single provider `PROVIDER_NAME` names), documented in the README's table.

    `default` is written as the README shows it; `origin` is "paastis" for a variable of the
    original paastis (same meaning). `selects`: when PROVIDER_NAME is unset, this variable
    being set means this provider type (the original defaulted to scalingo; Paastis infers
    the type from the credentials given). Secret when its option is.
    """

    option: str
    description: str
    default: str = ""
    origin: str = "new"
    selects: bool = False


@dataclass(frozen=True, kw_only=True)
class ProviderType:
    """Everything Paastis knows of a provider type, declared in the type's own package.

    `options` and `build` make providers; `environment` maps the variables that configure one
    by environment (name → `EnvVariable`); `prices` estimates what a container-hour costs, by
    container size ("*": any other size), for the savings in reports; `fake` is the module
    path of the type's fake — a `start_fake(world, clock) -> FakeDeployment` function and the
    `DEMO_APPS` of the offline demo — imported only by the demo and the tests.
    """

    kind: str
    summary: str
    options: Mapping[str, Option]
    build: Callable[[ProviderSpec, ProviderDeps], Provider]
    fake: str
    default_name: Callable[[Mapping[str, Any]], str] = field(default=lambda values: "")
    # the region or zone of one provider's account, from its options, as status pages show it
    location: Callable[[Mapping[str, Any]], str] = field(default=lambda values: "")
    environment: Mapping[str, EnvVariable] = field(default_factory=dict)
    prices: Mapping[str, float] = field(default_factory=dict)

    @property
    def secrets(self) -> frozenset[str]:
        return frozenset(k for k, o in self.options.items() if o.secret)
