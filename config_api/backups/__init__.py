"""Backups of all application data and their restore (contract §5): archive format, table discovery,
restore and the catalog services."""
