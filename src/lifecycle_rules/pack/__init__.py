"""The pack format: its schema, its compiled form, and loading packs from files and plugins."""
