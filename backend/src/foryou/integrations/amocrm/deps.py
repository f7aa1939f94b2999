"""Request dependencies of the amoCRM integration: its connection service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from foryou.integrations.amocrm.service import ConnectionService


async def get_connections(request: Request) -> ConnectionService:
    connections: ConnectionService = request.app.state.connections
    return connections


ConnectionsDep = Annotated[ConnectionService, Depends(get_connections)]
