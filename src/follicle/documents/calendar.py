"""iCalendar (RFC 5545) files for appointments, in the clinic's time zone.

Times are written as local times with a TZID and the VTIMEZONE that defines it, so a calendar
shows 09:30 on the day after a daylight-saving change as 09:30, as the clinic booked it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event

PRODUCT_ID = "-//Follicle//Scalp microneedling clinic//EN"


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    starts_at: datetime  # aware
    ends_at: datetime
    summary: str
    location: str
    description: str
    cancelled: bool = False
    sequence: int = 0
    reminder_hours_before: tuple[int, ...] = (24,)


def render_ics(events: list[CalendarEvent], time_zone: str, name: str) -> bytes:
    """One calendar holding ``events``, with VALARM reminders for booked ones."""
    zone = ZoneInfo(time_zone)
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", time_zone)
    for item in events:
        event = Event()
        event.add("uid", item.uid)
        event.add("dtstamp", datetime.now(ZoneInfo("UTC")))
        event.add("dtstart", item.starts_at.astimezone(zone))
        event.add("dtend", item.ends_at.astimezone(zone))
        event.add("summary", item.summary)
        event.add("location", item.location)
        event.add("description", item.description)
        event.add("sequence", item.sequence)
        event.add("status", "CANCELLED" if item.cancelled else "CONFIRMED")
        if not item.cancelled:
            for hours in item.reminder_hours_before:
                alarm = Alarm()
                alarm.add("action", "DISPLAY")
                alarm.add("description", item.summary)
                alarm.add("trigger", -timedelta(hours=hours))
                event.add_component(alarm)
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())
