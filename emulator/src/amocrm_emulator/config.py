"""Start-up options and the run-time switches that model what is uncertain in amoCRM."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

RefreshReuse = Literal["strict", "grace"]
REFRESH_REUSE_MODES: tuple[RefreshReuse, ...] = ("strict", "grace")
RightsRefusal = Literal["400", "403"]
RIGHTS_REFUSALS: tuple[RightsRefusal, ...] = ("400", "403")

CODE_TTL_SECONDS = 20 * 60
ACCESS_TTL_SECONDS = 86_400
REFRESH_TTL_SECONDS = 90 * 86_400
DEFAULT_PAGE_LIMIT = 50
MAX_PAGE_LIMIT = 250


@dataclass
class IntegrationSpec:
    """An integration as registered in amoCRM: its keys, Redirect URI and disable hook."""

    client_id: str
    client_secret: str
    redirect_uri: str
    disable_hook_url: str | None = None
    name: str = "ForYou CRM Connect"


@dataclass
class Switches:
    """Behaviour where the real amoCRM is undocumented or documented two ways.

    Defaults follow the amoCRM.ru documentation; every value can be changed at run time
    through `POST /_emulator/settings`.
    """

    # "strict": a refresh token works once (amoCRM.ru docs). "grace": the old one keeps
    # working until the new one is used (Kommo docs).
    refresh_reuse: RefreshReuse = "strict"
    # League's refresh grant revokes the access token issued with the spent refresh token;
    # amoCRM appears to be built on League, so by default the old access token dies.
    revoke_old_access_on_refresh: bool = True
    # Requests per second per account on the API; 0 turns the limit off.
    rate_limit: float = 7.0
    # Rejections (429) within `block_window` seconds after which the account is blocked.
    block_after: int = 20
    block_window: float = 60.0
    # How long a block (403 with an HTML body) lasts, in seconds.
    block_seconds: float = 60.0
    # Whether a non-admin may read their own `GET /api/v4/users/{id}`; amoCRM documents the
    # users methods as admin-only, so by default they get 403 like for anyone else's record.
    users_self_read: bool = False
    # How a write the user's rights do not allow is refused. Undocumented for PATCH; on POST
    # amoCRM was seen answering 400 with legacy code 244 ("no rights"), so that is the default;
    # "403" answers `Не хватает прав` like the admin-only methods.
    rights_refusal: RightsRefusal = "400"
    # `filter[complete_till]` on tasks is undocumented and its effect unverified: by default it
    # is ignored like any unknown filter, so a client that relies on it finds out in tests.
    task_complete_till_filter: bool = False
    # Webhook delivery (amoCRM docs): wait 2 s for an answer; retries 5 min, then 15 min after
    # any invalid answer, then 15 min and 1 h more only after a 499 or 5xx.
    webhook_timeout: float = 2.0
    webhook_retry_delays: tuple[float, ...] = (300.0, 900.0, 900.0, 3600.0)
    # A webhook is disabled after more than this many invalid answers within the window
    # (amoCRM: more than 100 in the last 2 hours) when the latest answer is invalid too.
    webhook_disable_after: int = 100
    webhook_disable_window: float = 7200.0


@dataclass
class EmulatorOptions:
    """Everything the command line decides."""

    host: str = "127.0.0.1"
    port: int = 8020
    seed: int = 1
    # More brokers in reforyou than the seeded nine (load tests: one app user per amoCRM user).
    extra_brokers: int = 0
    state_file: str | None = None
    control: bool = False
    integrations: list[IntegrationSpec] = field(default_factory=list)
    switches: Switches = field(default_factory=Switches)
