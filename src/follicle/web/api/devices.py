"""Devices and cartridge lots: the registry, a recall lookup (JSON or CSV), safety by lot."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from follicle.services import devices
from follicle.services.authz import Permission
from follicle.services.commands import NewDevice, NewLot
from follicle.web.api import schemas
from follicle.web.api.deps import ApiActor, needs
from follicle.web.deps import state

router = APIRouter(tags=["devices"])


@router.get("/devices", **needs(Permission.DEVICE_LIST), response_model=list[schemas.Device])
def list_devices(request: Request, actor: ApiActor) -> list[dict[str, Any]]:
    """Every device with its lots, whether each lot has expired and how many sessions used it."""
    return devices.list_devices(state(request).db, actor)


@router.post(
    "/devices", status_code=201, **needs(Permission.DEVICE_MANAGE), response_model=schemas.Device
)
def register_device(request: Request, actor: ApiActor, body: NewDevice) -> dict[str, Any]:
    return devices.register_device(state(request).db, actor, body)


@router.post(
    "/devices/{device_id}/lots",
    status_code=201,
    **needs(Permission.DEVICE_MANAGE),
    response_model=schemas.Lot,
)
def receive_lot(request: Request, actor: ApiActor, device_id: str, body: NewLot) -> dict[str, Any]:
    """Register a cartridge lot as received; an expired lot is refused."""
    return devices.receive_lot(state(request).db, actor, device_id, body)


@router.get(
    "/lots/{lot_id}/recall",
    **needs(Permission.LOT_RECALL),
    response_model=schemas.Recall,
    responses={200: {"content": {"text/csv": {}}}},
)
def recall(
    request: Request,
    actor: ApiActor,
    lot_id: str,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> Any:
    """Every session that used the lot, with the patient and how to reach them (audited)."""
    result = devices.recall(state(request).db, actor, lot_id)
    if format == "csv":
        name = "recall-" + result["lot"]["lot_number"].replace("/", "-") + ".csv"
        return Response(
            devices.recall_csv(result),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return result


@router.get(
    "/lots/safety", **needs(Permission.SAFETY_REPORT), response_model=list[schemas.LotSafety]
)
def safety_by_lot(request: Request, actor: ApiActor) -> list[dict[str, Any]]:
    """Adverse events linked to sessions, per device and lot, per 100 sessions."""
    return devices.safety_by_lot(state(request).db, actor)
