"""The test clock in a Python subprocess (a `liuhen serve`, a worker) that a test starts.

:func:`liuhen.core.testing.subprocess_clock_env` puts this folder first on ``PYTHONPATH`` and sets
``LIUHEN_CLOCK_OFFSET`` (seconds between the test's clock and the real one). Python imports
``sitecustomize`` at start-up, before any Liuhen code, so the whole process (and every process it
forks) reads the test's time, ticking, through time-machine. Monotonic clocks are left alone, so
every timed wait and sleep keeps its real length.

Replaces libfaketime, which shifted the monotonic clock by the same offset: glibc's
``sem_clockwait``/``pthread_cond_clockwait`` are not intercepted by libfaketime 0.9.10, so every
``threading`` wait with a timeout in such a process blocked until notified (RQ's worker hung at
exit in ``Thread.join(timeout=1)``), and its "don't fake monotonic" mode broke ``time.sleep``.

Test support only: never on the path of a deployed Liuhen.
"""

import os

_offset = os.environ.get("LIUHEN_CLOCK_OFFSET")
if _offset:
    import time

    import time_machine

    time_machine.travel(time.time() + float(_offset), tick=True).start()
