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

from host.data.db import CONNECTION, close_db, init_db, tortoise_config, unit_of_work


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
