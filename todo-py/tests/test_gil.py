"""The engine runs without the GIL on large inputs: another Python thread runs meanwhile."""

from __future__ import annotations

import sys
import threading
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterator

import pytest

import todo_core


@pytest.fixture()
def no_forced_switches() -> Iterator[None]:
    """With a 30 s switch interval a thread only lets go of the GIL by itself (blocking, or C code
    that releases it), so who runs next is decided by the code under test, not by a timer."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(30)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def other_thread_ran_during(call: Callable[[], object]) -> bool:
    started, done = threading.Event(), threading.Event()

    def worker() -> None:
        started.set()
        call()
        done.set()

    thread = threading.Thread(target=worker)
    thread.start()
    started.wait()  # resumes once the worker lets go of the GIL: inside `call`, or at its end
    ran_during = not done.is_set()
    thread.join()
    return ran_during


def rows(n: int) -> list[dict[str, object]]:
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    return [{"id": i, "title": f"{(i * 7919) % 100_003:06d} task", "created_at": base + timedelta(seconds=i)} for i in range(1, n + 1)]


def test_a_large_query_lets_other_threads_run(no_forced_switches: None) -> None:
    tasks = todo_core.TaskSet(rows(100_000))
    assert other_thread_ran_during(lambda: tasks.query({"search": "task", "sort_by": "title"}))


def test_the_check_sees_a_call_that_keeps_the_gil(no_forced_switches: None) -> None:
    # Reading Python objects needs the GIL throughout: the check must say so.
    data = rows(20_000)
    assert not other_thread_ran_during(lambda: todo_core.TaskSet(data))


def test_long_recurrence_computations_let_other_threads_run(no_forced_switches: None) -> None:
    s = todo_core.Series(rrule="FREQ=HOURLY;BYMINUTE=0,30", start=datetime(2026, 1, 1, tzinfo=timezone.utc), timezone="Europe/Berlin")
    afters = [datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(hours=h) for h in range(20_000)]
    assert other_thread_ran_during(lambda: s.next_after_each(afters))
