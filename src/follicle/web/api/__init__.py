"""The JSON API under /api/v1 (contracts §6). Each route parses, calls one service, answers."""

from __future__ import annotations

from fastapi import APIRouter

from follicle.web.api import (
    appointments,
    auth,
    care,
    clinic,
    consents,
    devices,
    exports,
    patients,
    plans,
    records,
)

router = APIRouter(prefix="/api/v1")
for module in (
    auth,
    patients,
    records,
    consents,
    plans,
    appointments,
    care,
    clinic,
    devices,
    exports,
):
    router.include_router(module.router)
