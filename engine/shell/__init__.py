"""The engine's imperative shell: asyncio service, health server, log files, settings."""
