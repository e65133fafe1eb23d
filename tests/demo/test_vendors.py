import random
from datetime import UTC, datetime

from touchline.demo.vendors import LOS_ANGELES, NEW_YORK, Clock, us_stamp, utc_offset


def test_clock_reads_what_strftime_writes_across_daylight_saving_changes():
    rng = random.Random(1)
    start = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    changes = [datetime(2026, 3, 8, 7, tzinfo=UTC).timestamp(), datetime(2026, 11, 1, 6, tzinfo=UTC).timestamp(),
               datetime(2026, 3, 8, 10, tzinfo=UTC).timestamp(), datetime(2026, 11, 1, 9, tzinfo=UTC).timestamp()]
    times = [start + rng.uniform(0, 365 * 86400) for _ in range(3000)]
    times += [c + d for c in changes for d in (-3600.5, -0.25, 0.0, 0.75, 3599.9, 3600.0)]
    for zone in (UTC, NEW_YORK, LOS_ANGELES):
        clock = Clock(zone)
        for at in times:
            local = datetime.fromtimestamp(int(at), zone)
            day, iso, clock_time, offset = clock.read(at)
            assert (day, iso) == (local.date(), local.strftime("%Y-%m-%d"))
            assert clock_time == local.strftime("%H:%M:%S")
            assert utc_offset(offset) == local.strftime("%z")
            assert us_stamp(day, clock_time) == local.strftime("%m/%d/%Y %I:%M:%S %p")
