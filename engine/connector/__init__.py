"""ibguard.engine.connector: the only code that imports the broker library."""
