"""The fake TWS gateway: sans-IO codec and the asyncio server fronting SimBroker."""
