"""Request dependencies of the amoCRM integration: its connection and disable-hook services."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from foryou.integrations.amocrm.hook import DisableHookService
from foryou.integrations.amocrm.service import ConnectionService


async def get_connections(request: Request) -> ConnectionService:
    connections: ConnectionService = request.app.state.connections
    return connections


ConnectionsDep = Annotated[ConnectionService, Depends(get_connections)]


async def get_disable_hook(request: Request) -> DisableHookService:
    disable_hook: DisableHookService = request.app.state.disable_hook
    return disable_hook


DisableHookDep = Annotated[DisableHookService, Depends(get_disable_hook)]
