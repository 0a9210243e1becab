"""The in-process event bus on its own: patterns, ordering, isolation, after-commit delivery."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from host.bus import Bus, Event
from host.data.db import close_db, init_db, tortoise_config, unit_of_work


@pytest.fixture
async def bus() -> AsyncIterator[Bus]:
    b = Bus()
    yield b
    await asyncio.wait_for(b.close(), 5)


async def settle(bus: Bus) -> None:
    """Every event published so far handled; a bounded wait, so a stuck delivery fails the test."""
    await asyncio.wait_for(bus.join(), 5)


def recorder(seen: list[tuple[str, str]], label: str) -> Callable[[Event], None]:
    def handle(event: Event) -> None:
        seen.append((label, event.topic))

    return handle


async def test_patterns_pick_the_topics_a_handler_gets(bus: Bus) -> None:
    seen: list[tuple[str, str]] = []
    bus.subscribe("clients.*", recorder(seen, "clients"))
    bus.subscribe("*.created", recorder(seen, "created"))
    bus.subscribe("loans.approved", recorder(seen, "exact"))
    for topic in ("clients.created", "clients.closed", "loans.created", "loans.approved", "x"):
        await bus.publish(topic, {})
    await settle(bus)
    assert sorted(seen) == sorted(
        [
            ("clients", "clients.created"),
            ("created", "clients.created"),
            ("clients", "clients.closed"),
            ("created", "loans.created"),
            ("exact", "loans.approved"),
        ]
    )


async def test_matching_is_case_sensitive_and_whole_topic(bus: Bus) -> None:
    seen: list[tuple[str, str]] = []
    bus.subscribe("clients.created", recorder(seen, "h"))
    for topic in ("Clients.created", "clients.created.extra", "xclients.created"):
        await bus.publish(topic, {})
    await settle(bus)
    assert seen == []


async def test_one_topic_is_started_in_publish_order_with_its_payload(bus: Bus) -> None:
    """A topic's deliveries start in publish order (a few may be in flight at once, so a slow
    handler does not hold up the topic: docs/design.md, "Durable events")."""
    started: list[int] = []
    got: list[int] = []

    async def slow(event: Event) -> None:
        started.append(event.payload["n"])
        await asyncio.sleep(0.001 * (5 - event.payload["n"]))  # earlier events take longer
        got.append(event.payload["n"])

    bus.subscribe("t", slow)
    for n in range(5):
        await bus.publish("t", {"n": n})
    await settle(bus)
    assert started == [0, 1, 2, 3, 4]
    assert sorted(got) == [0, 1, 2, 3, 4]


async def test_a_slow_topic_does_not_hold_up_another(bus: Bus) -> None:
    release = asyncio.Event()
    fast_done = asyncio.Event()

    async def blocked(event: Event) -> None:
        await release.wait()

    async def fast(event: Event) -> None:
        fast_done.set()

    bus.subscribe("slow", blocked)
    bus.subscribe("fast", fast)
    await bus.publish("slow", {})
    await bus.publish("fast", {})
    await asyncio.wait_for(fast_done.wait(), 2)  # delivered while "slow" is still stuck
    release.set()
    await settle(bus)


async def test_a_failing_handler_is_isolated_and_recorded(
    bus: Bus, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[tuple[str, str]] = []

    def broken(event: Event) -> None:
        raise RuntimeError(f"boom on {event.payload['n']}")

    bus.subscribe("t", recorder(seen, "before"), owner="one")
    bus.subscribe("t", broken, owner="two")
    bus.subscribe("t", recorder(seen, "after"), owner="three")
    await bus.publish("t", {"n": 1})
    await bus.publish("t", {"n": 2})
    await settle(bus)
    assert seen == [("before", "t"), ("after", "t")] * 2  # the others and later events still run
    assert bus.delivered == 4
    assert [(f.topic, f.error) for f in bus.failures] == [
        ("t", "RuntimeError('boom on 1')"),
        ("t", "RuntimeError('boom on 2')"),
    ]
    assert all(f.handler.startswith("two:") for f in bus.failures)
    assert any("bus handler failed" in r.message for r in caplog.records)


async def test_listeners_see_every_event_even_without_subscribers(bus: Bus) -> None:
    heard: list[str] = []
    stop = bus.add_listener(lambda event: heard.append(event.topic))
    await bus.publish("nobody.listens", {"a": 1})
    stop()
    await bus.publish("after.unsubscribe", {})
    assert heard == ["nobody.listens"]
    assert [e.topic for e in bus.recent] == ["nobody.listens", "after.unsubscribe"]
    ids = [e.id for e in bus.recent]
    assert ids == sorted(ids) and len(set(ids)) == 2


async def test_close_delivers_what_was_published_first(bus: Bus) -> None:
    got: list[int] = []

    def collect(event: Event) -> None:
        got.append(event.payload["n"])

    bus.subscribe("t", collect)
    for n in range(3):
        await bus.publish("t", {"n": n})
    await asyncio.wait_for(bus.close(), 5)
    assert got == [0, 1, 2]


# after commit ------------------------------------------------------------------------------------
@pytest.fixture
async def database() -> AsyncIterator[None]:
    """An in-memory SQLite with no tables: enough for real transactions around publish."""
    db = await init_db(tortoise_config("sqlite://:memory:", []))
    try:
        yield
    finally:
        await close_db(db)


async def test_inside_a_unit_of_work_events_wait_for_the_commit(database: None, bus: Bus) -> None:
    seen: list[tuple[str, str]] = []
    bus.subscribe("t.*", recorder(seen, "h"))
    async with unit_of_work():
        await bus.publish("t.one", {})
        await asyncio.sleep(0.01)  # room for a delivery that should not happen
        assert seen == [] and list(bus.recent) == []
    await settle(bus)
    assert seen == [("h", "t.one")]


async def test_a_rolled_back_unit_of_work_emits_nothing(database: None, bus: Bus) -> None:
    seen: list[tuple[str, str]] = []
    bus.subscribe("t.*", recorder(seen, "h"))
    with pytest.raises(ValueError):
        async with unit_of_work():
            await bus.publish("t.one", {})
            raise ValueError("roll back")
    await settle(bus)
    assert seen == [] and list(bus.recent) == []


async def test_a_failed_nested_unit_drops_only_its_own_events(database: None, bus: Bus) -> None:
    seen: list[tuple[str, str]] = []
    bus.subscribe("t.*", recorder(seen, "h"))
    async with unit_of_work():
        await bus.publish("t.outer", {})
        with pytest.raises(ValueError):
            async with unit_of_work():
                await bus.publish("t.inner-failed", {})
                raise ValueError("savepoint rolled back")
        async with unit_of_work():
            await bus.publish("t.inner-ok", {})
        assert seen == []  # the nested commit releases nothing: only the outermost does
    await settle(bus)
    assert seen == [("h", "t.outer"), ("h", "t.inner-ok")]
