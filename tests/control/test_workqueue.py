"""The work queue: de-duplication, re-queue while processing, delays on the clock, backoff."""

from __future__ import annotations

import asyncio

from nbcluster.control.workqueue import WorkQueue
from nbcluster.util.clock import ManualClock


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_duplicate_adds_are_processed_once() -> None:
    async def main() -> list[str]:
        queue = WorkQueue(ManualClock())
        queue.bind(asyncio.get_running_loop())
        for key in ("a", "b", "a", "a"):
            queue.add(key)
        got = [await queue.get(), await queue.get()]
        assert len(queue) == 0
        return got  # type: ignore[return-value]

    assert run(main()) == ["a", "b"]


def test_key_added_while_processing_comes_back_after_done() -> None:
    async def main() -> None:
        queue = WorkQueue(ManualClock())
        queue.bind(asyncio.get_running_loop())
        queue.add("a")
        key = await queue.get()
        queue.add("a")
        assert len(queue) == 0  # not handed to a second worker while being processed
        queue.done(key)  # type: ignore[arg-type]
        assert await queue.get() == "a"

    run(main())


def test_add_after_waits_for_the_clock() -> None:
    async def main() -> None:
        clock = ManualClock()
        queue = WorkQueue(clock)
        queue.bind(asyncio.get_running_loop())
        delays = asyncio.create_task(queue.run_delays())
        queue.add_after("later", 10)
        await asyncio.sleep(0.01)
        assert len(queue) == 0
        clock.advance(9)
        await asyncio.sleep(0.01)
        assert len(queue) == 0
        clock.advance(1)
        assert await asyncio.wait_for(queue.get(), 1) == "later"
        queue.close()
        await asyncio.wait_for(delays, 1)

    run(main())


def test_rate_limit_backs_off_exponentially_until_forgotten() -> None:
    async def main() -> None:
        clock = ManualClock()
        queue = WorkQueue(clock, base_delay=1.0)
        queue.bind(asyncio.get_running_loop())
        delays = asyncio.create_task(queue.run_delays())
        for expected in (1.0, 2.0, 4.0):
            queue.add_rate_limited("k")
            await asyncio.sleep(0.01)
            clock.advance(expected - 0.5)
            await asyncio.sleep(0.01)
            assert len(queue) == 0, expected
            clock.advance(0.5)
            assert await asyncio.wait_for(queue.get(), 1) == "k"
            queue.done("k")
        assert queue.failures("k") == 3
        queue.forget("k")
        assert queue.failures("k") == 0
        queue.close()
        await asyncio.wait_for(delays, 1)

    run(main())
