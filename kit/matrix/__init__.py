"""The execution matrix: catalog, cases, drivers, subjects, reports."""
