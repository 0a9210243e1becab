"""Nested units of work (what a batch lane's items are): each one is undone alone when it fails,
in a real database. On SQLite their savepoints are sent with their first statement and left on
the stack (host/data/folding.py, host.data.db._stacked_savepoint), so the cases that path has to
get right are here: a unit that fails before any statement, one that fails after writing, an
enclosing unit (an atomicity group) that fails after its children succeeded, and more children
than the stack holds before it is released."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

from host.data import folding as folding_module
from host.data.db import CONNECTION, close_db, init_db, tortoise_config, unit_of_work
from host.data.folding import FoldingConnection
from host.data.sqlite import LoopSafeSqliteClient


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.pg)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("pg_url"))
    return f"sqlite://{tmp_path / 'uow.sqlite3'}"


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[None]:
    db = await init_db(tortoise_config(database_url, []))
    try:
        await connections.get(CONNECTION).execute_script("CREATE TABLE item (n INTEGER)")
        yield
    finally:
        await close_db(db)


async def insert(n: int) -> None:
    conn = connections.get(CONNECTION)
    await conn.execute_query(f"INSERT INTO item (n) VALUES ({int(n)})")


async def kept() -> list[int]:
    rows = await connections.get(CONNECTION).execute_query_dict("SELECT n FROM item ORDER BY n")
    return [int(r["n"]) for r in rows]


class Fail(Exception):
    pass


async def test_each_failed_nested_unit_is_undone_alone(database: None) -> None:
    expected = []
    async with unit_of_work():  # a lane's transaction
        for n in range(200):  # more than the 64 savepoints kept before a RELEASE
            kind = n % 4
            try:
                async with unit_of_work():  # an item
                    if kind == 1:
                        raise Fail  # before any statement: its savepoint was never sent
                    await insert(n)
                    if kind == 2:
                        await insert(n + 1000)
                        raise Fail  # after writing twice
            except Fail:
                continue
            expected.append(n)
    assert await kept() == expected


async def test_a_failed_enclosing_unit_undoes_its_successful_children(database: None) -> None:
    async with unit_of_work():
        async with unit_of_work():
            await insert(1)
        with pytest.raises(Fail):
            async with unit_of_work():  # an atomicity group
                async with unit_of_work():
                    await insert(2)
                async with unit_of_work():
                    pass  # no statement
                async with unit_of_work():
                    await insert(3)
                raise Fail
        async with unit_of_work():
            pass
        with pytest.raises(Fail):
            async with unit_of_work():  # fails with an unsent child savepoint
                async with unit_of_work():
                    pass
                raise Fail
        async with unit_of_work():
            await insert(4)
    assert await kept() == [1, 4]


async def test_a_failed_outermost_unit_keeps_nothing(database: None) -> None:
    with pytest.raises(Fail):
        async with unit_of_work():
            async with unit_of_work():
                await insert(1)
            raise Fail
    assert await kept() == []


async def test_units_inside_a_tortoise_transaction_are_undone_alone(database: None) -> None:
    """Plugin code may open Tortoise's own in_transaction around a unit of work."""
    async with in_transaction(CONNECTION):
        await insert(1)
        async with unit_of_work():
            async with unit_of_work():
                await insert(2)
            with pytest.raises(Fail):
                async with unit_of_work():
                    await insert(3)
                    raise Fail
    assert await kept() == [1, 2]


# one-row INSERTs on the loop's thread (host.data.folding `inline`, SQLite only) ------------------
@pytest.fixture
async def sqlite_database(tmp_path: Path) -> AsyncIterator[None]:
    db = await init_db(tortoise_config(f"sqlite://{tmp_path / 'inline.sqlite3'}", []))
    try:
        await connections.get(CONNECTION).execute_script("CREATE TABLE item (n INTEGER)")
        yield
    finally:
        await close_db(db)


async def insert_row(n: int) -> None:
    """Through Tortoise's one-row insert (what Model.save() of a new row uses)."""
    await connections.get(CONNECTION).execute_insert("INSERT INTO item (n) VALUES (?)", [n])


def folding() -> FoldingConnection:
    connection = connections.get(CONNECTION)._connection
    assert isinstance(connection, FoldingConnection)
    return connection


async def test_plughost_sqlite_engine_keeps_tortoises_pragmas(sqlite_database: None) -> None:
    conn = connections.get(CONNECTION)
    assert isinstance(conn, LoopSafeSqliteClient)
    _, rows = await conn.execute_query("PRAGMA journal_mode")
    assert next(iter(dict(rows[0]).values())) == "wal"
    _, rows = await conn.execute_query("PRAGMA foreign_keys")
    assert next(iter(dict(rows[0]).values())) == 1


async def test_inline_inserts_are_still_undone_alone(
    sqlite_database: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(folding_module, "INLINE_LIMIT", 60.0)  # a busy machine's pause is not
    # what this test is about (one makes the rest of the transaction go through the thread)
    expected = []
    async with unit_of_work():
        for n in range(150):
            try:
                async with unit_of_work():
                    await insert_row(n)
                    if n % 3 == 1:
                        await insert_row(n + 1000)
                        raise Fail
            except Fail:
                continue
            expected.append(n)
        # BEGIN IMMEDIATE took the write lock: every one-row insert ran on the loop's thread
        assert folding().inlined == 150 + 50
    assert await kept() == expected


async def test_what_is_not_a_one_row_insert_goes_through_the_thread(
    sqlite_database: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(folding_module, "INLINE_LIMIT", 60.0)
    async with unit_of_work():
        async with unit_of_work():
            await insert_row(1)
        async with unit_of_work():
            conn = connections.get(CONNECTION)  # the transaction's client
            await conn.execute_insert("INSERT INTO item (n) VALUES (?), (?)", [2, 3])
            await conn.execute_insert("INSERT INTO item (n) SELECT n + 10 FROM item", [])
        assert folding().inlined == 1  # insert_row(1) only
        async with unit_of_work():
            await insert_row(4)
        assert folding().inlined == 2
    assert await kept() == [1, 2, 3, 4, 11, 12, 13]


async def test_a_slow_inline_insert_sends_the_rest_through_the_thread(
    sqlite_database: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(folding_module, "INLINE_LIMIT", 0.0)  # every insert is "slow"
    async with unit_of_work():
        for n in range(5):
            async with unit_of_work():
                await insert_row(n)
        assert folding().inlined == 1  # the first insert ran inline, took too long: no more
    assert await kept() == [0, 1, 2, 3, 4]
