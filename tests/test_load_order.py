"""Plugin load order: requirements first, ties by name; missing or cyclic requirements skip with why."""

from __future__ import annotations

from host.loader import PluginRecord, PluginRegistry, load_order
from host.plugin import Plugin


def record(name: str, *requires: str) -> PluginRecord:
    return PluginRecord(
        name=name,
        source=f"test:{name}",
        plugin=Plugin(name=name, version="1", requires=requires),
        version="1",
    )


def order(*records: PluginRecord) -> tuple[list[str], dict[str, str]]:
    """(loaded names in load order, skipped name -> reason)."""
    out = load_order(list(records))
    loaded = [r.name for r in out if r.status == "loaded"]
    skipped = {r.name: r.reason for r in out if r.status == "skipped"}
    assert {r.name for r in out} == {r.name for r in records}  # nothing lost, nothing invented
    return loaded, skipped


def test_every_plugin_loads_after_what_it_requires() -> None:
    loaded, skipped = order(
        record("loans", "clients", "mifos"),
        record("savings", "clients"),
        record("clients", "mifos"),
        record("mifos"),
    )
    assert skipped == {}
    assert loaded.index("mifos") < loaded.index("clients") < loaded.index("loans")
    assert loaded.index("clients") < loaded.index("savings")


def test_independent_plugins_load_by_name_whatever_the_discovery_order() -> None:
    assert order(record("c"), record("a"), record("b"))[0] == ["a", "b", "c"]
    assert order(record("b"), record("c"), record("a"))[0] == ["a", "b", "c"]


def test_a_missing_requirement_skips_the_plugin_and_its_dependents_only() -> None:
    loaded, skipped = order(
        record("reports", "loans"), record("loans", "ledger"), record("clients")
    )
    assert loaded == ["clients"]
    assert skipped["loans"].startswith("requires 'ledger'")
    assert skipped["reports"].startswith("requires 'loans'")


def test_a_requirement_that_was_already_skipped_skips_its_dependents() -> None:
    broken = PluginRecord(name="ledger", source="test:ledger")
    broken.skip("import failed: SyntaxError")
    loaded, skipped = order(broken, record("loans", "ledger"), record("clients"))
    assert loaded == ["clients"]
    assert skipped["ledger"] == "import failed: SyntaxError"  # its own reason is kept
    assert skipped["loans"].startswith("requires 'ledger'")


def test_a_cycle_skips_every_plugin_on_it_naming_the_cycle() -> None:
    loaded, skipped = order(record("a", "b"), record("b", "c"), record("c", "a"), record("d"))
    assert loaded == ["d"]
    assert set(skipped) == {"a", "b", "c"}
    assert "a -> b -> c -> a" in skipped["a"]
    assert "b -> c -> a -> b" in skipped["b"]
    assert all(reason.startswith("cyclic requirement") for reason in skipped.values())


def test_a_plugin_requiring_a_cycle_is_skipped_too() -> None:
    loaded, skipped = order(record("a", "b"), record("b", "a"), record("user", "a"), record("z"))
    assert loaded == ["z"]
    assert set(skipped) == {"a", "b", "user"}
    assert "a -> b -> a" in skipped["user"]  # the reason shows the cycle it hangs on


def test_loaded_plugins_come_first_in_load_order_then_the_skipped_ones() -> None:
    out = load_order([record("x", "nowhere"), record("b", "a"), record("a")])
    assert [(r.name, r.status) for r in out] == [
        ("a", "loaded"),
        ("b", "loaded"),
        ("x", "skipped"),
    ]


def test_a_late_failure_skips_the_plugin_and_everything_that_requires_it() -> None:
    registry = PluginRegistry(
        load_order(
            [record("mifos"), record("clients", "mifos"), record("loans", "clients"), record("z")]
        )
    )
    registry.skip_with_dependents("mifos", "set-up failed: RuntimeError()")
    assert [p.name for p in registry.loaded] == ["z"]
    reasons = {r.name: r.reason for r in registry.skipped}
    assert reasons["mifos"] == "set-up failed: RuntimeError()"
    assert set(reasons) == {"mifos", "clients", "loans"}
    assert reasons["clients"].startswith("requires 'mifos'")
    assert reasons["loans"].startswith("requires 'mifos'")
