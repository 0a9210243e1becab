"""A test-only plugin whose requirement is absent: the admin UI lists it as skipped, with why."""

from host import Plugin

plugin = Plugin(name="needs_missing", version="0.1", requires=["no_such_plugin"])
