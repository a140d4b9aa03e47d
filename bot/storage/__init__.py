"""Storage: tables, database access and migrations."""
