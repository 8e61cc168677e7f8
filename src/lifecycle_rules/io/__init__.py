"""Around the pure core: readers, writers, the batch runner, the calendar files and the CLI."""
