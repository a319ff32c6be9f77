"""Helpers shared by tests in several folders (fakes of ports live in tests/fakes)."""
