"""The one "today" of every command and of the daemon: the day in `timezone:` of the
configuration, else in the system's zone. The CLI and the daemon must agree on it, or a birthday
follow-up planned by one is deleted by the other and created again, every round."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

# The days a command may act as today (`--today`): rules are at most 100 years long
# (`config_types.LONGEST_RULE`), so planning from these never leaves `datetime.date`'s range.
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(9000, 12, 31)


def zone(timezone: str | None) -> dt.tzinfo | None:
    return ZoneInfo(timezone) if timezone else None


def now_in(timezone: str | None) -> dt.datetime:
    """Now, aware, in `timezone` (the system's zone when None)."""
    return dt.datetime.now(zone(timezone)).astimezone(zone(timezone))


def today(timezone: str | None) -> dt.date:
    return now_in(timezone).date()
