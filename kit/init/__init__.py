"""`ibguard init`: propose the boundary from a repository's broker imports and write the kit's
config, contracts, pre-commit entry, CI workflow and subject skeleton into it."""

__all__: list[str] = []
