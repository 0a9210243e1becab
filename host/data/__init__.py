"""Data: the database connection, units of work, and per-plugin migrations (apply and make)."""
