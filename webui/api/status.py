"""``GET /status``: the modems as the daemon last saw them, and the depth of the queue."""

from __future__ import annotations

from peewee import fn

from modemd.states import OutboundState
from modemd.store.models import ModemStatus, OutboundMessage

from . import spec
from .schemas import ModemState, Status, utc


@spec.operation("GET", "/status", scope="status", summary="Modems and queue depth", ok=(200, Status))
def status() -> Status:
    """Every modem the daemon reported, and how many SMS wait in the queue or are being sent."""
    counts = dict(
        OutboundMessage.select(OutboundMessage.state, fn.COUNT(OutboundMessage.id))
        .where(OutboundMessage.state.in_([OutboundState.PENDING, OutboundState.SENDING]))
        .group_by(OutboundMessage.state)
        .tuples()
    )
    modems = [
        ModemState(
            name=row.name,
            driver=row.driver,
            state=row.state,
            operator=row.operator,
            signal_dbm=row.signal_dbm,
            registration=row.registration,
            last_contact=utc(row.last_contact),
            queue_depth=row.queue_depth,
        )
        for row in ModemStatus.select().order_by(ModemStatus.name)
    ]
    return Status(
        modems=modems,
        pending=counts.get(OutboundState.PENDING, 0),
        sending=counts.get(OutboundState.SENDING, 0),
    )
