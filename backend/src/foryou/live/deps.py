"""Request dependencies of the live-updates feature: its service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from foryou.live.service import LiveService


async def get_live(request: Request) -> LiveService:
    live: LiveService = request.app.state.live
    return live


LiveDep = Annotated[LiveService, Depends(get_live)]
