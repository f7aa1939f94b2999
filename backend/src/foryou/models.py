"""Every table, imported in one place so Alembic and the metadata see them all."""

from foryou.auth.models import User
from foryou.crm.models import CrmLeadSubmission
from foryou.db import Base
from foryou.integrations.amocrm.models import (
    AmoCrmConnection,
    AmoCrmConnectionEvent,
    AmoCrmOAuthFlow,
)
from foryou.live.models import AccountFeed

__all__ = [
    "AccountFeed",
    "AmoCrmConnection",
    "AmoCrmConnectionEvent",
    "AmoCrmOAuthFlow",
    "Base",
    "CrmLeadSubmission",
    "User",
]
