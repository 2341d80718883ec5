"""Moves this process's clock by the offset the test suite chose (`pytest --clock-at`); see tests/clock.py.

Only on PYTHONPATH for processes started by a suite run with --clock-at.
"""

import os
import time

_offset = os.environ.get("SUPPLY_TESTS_CLOCK_OFFSET")
if _offset:
    import time_machine

    time_machine.travel(time.time() + float(_offset), tick=True).start()
