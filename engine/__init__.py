"""ibguard.engine: the reference execution engine.

The core (`Engine`) is a deterministic state machine with no I/O: `handle(event)` updates
the book and returns the commands to send through the connector's port.
"""
