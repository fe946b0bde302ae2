"""Scripts for the project's own upkeep (the docs' generated tables)."""
