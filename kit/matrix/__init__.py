"""The 30-case matrix: catalog, cases, drivers, subjects, reports."""
