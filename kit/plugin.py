"""pytest11 entry point `ibguard` (the matrix plugin lands with the matrix work)."""
