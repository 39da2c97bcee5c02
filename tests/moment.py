"""The moment the whole suite runs at.

    SUITE_MOMENT=2028-02-29T23:59:00+07:00 make test

runs every test as if it were that moment: each test process (pytest, its xdist workers and every
`broadcaster` process a test starts through `broadcaster_command`) travels there with time-machine and the
clock ticks on from it, so the processes of one run agree on the time. Nothing outside the tests reads
these variables. Unset, the suite runs at the real time.

`python -m tests.moment ARGS…` is the `broadcaster` command run at the suite's moment.
"""

from __future__ import annotations

import os
import sys
import time as system_time
from datetime import datetime, time, timedelta, tzinfo
from pathlib import Path

MOMENT = "SUITE_MOMENT"
# Seconds from the real time to the suite's moment, fixed once by the first process so that the others agree.
SHIFT = "SUITE_SHIFT_SECONDS"
ROOT = Path(__file__).resolve().parents[1]


def travel_if_asked() -> None:
    """Move this process to the suite's moment, when one is asked for; the clock keeps ticking from it."""
    shift = os.environ.get(SHIFT)
    if shift is None:
        asked = os.environ.get(MOMENT, "").strip()
        if not asked:
            return
        moment = datetime.fromisoformat(asked)
        if moment.tzinfo is None:
            raise SystemExit(f"{MOMENT}={asked} needs its time zone, for example {asked}+07:00")
        shift = str(moment.timestamp() - system_time.time())
        os.environ[SHIFT] = shift  # inherited by the xdist workers and the processes tests start
    import time_machine

    time_machine.travel(system_time.time() + float(shift), tick=True).start()


WEDNESDAY = 2


def coming(weekday: int, at: time, zone: tzinfo) -> datetime:
    """The next `weekday` (0 = Monday) at `at` in `zone`, from the suite's now: a moment whose weekday and
    hour are fixed, for tests whose answers depend on them, while its date stays near the run's own."""
    now = datetime.now(zone)
    day = now.date() + timedelta(days=(weekday - now.weekday()) % 7 or 7)
    return datetime.combine(day, at, zone)


def broadcaster_command(*args: str) -> list[str]:
    """The `broadcaster` command as a test starts it in a process of its own, at the suite's moment."""
    return [sys.executable, "-m", "tests.moment", *args]


def subprocess_environment(env: dict[str, str]) -> dict[str, str]:
    """`env` with what `broadcaster_command` needs: the project on the path, and the suite's moment."""
    path = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    inherited = {name: os.environ[name] for name in (MOMENT, SHIFT) if name in os.environ}
    return {**env, **inherited, "PYTHONPATH": path}


if __name__ == "__main__":
    travel_if_asked()
    from broadcaster.cli import main

    sys.argv[0] = "broadcaster"
    main()
