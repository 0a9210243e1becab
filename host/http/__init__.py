"""The HTTP edge: aiohttp glue, request context headers, health, metrics and logs."""
