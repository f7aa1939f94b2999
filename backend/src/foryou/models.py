"""Every table, imported in one place so Alembic and the metadata see them all."""

from foryou.agency.models import AgencyConnection
from foryou.auth.models import User
from foryou.crm.models import CrmLeadSubmission
from foryou.db import Base
from foryou.integrations.amocrm.models import (
    AmoCrmConnection,
    AmoCrmConnectionEvent,
    AmoCrmOAuthFlow,
    AmoCrmReconnectRequest,
)
from foryou.live.models import AccountFeed

__all__ = [
    "AccountFeed",
    "AgencyConnection",
    "AmoCrmConnection",
    "AmoCrmConnectionEvent",
    "AmoCrmOAuthFlow",
    "AmoCrmReconnectRequest",
    "Base",
    "CrmLeadSubmission",
    "User",
]
