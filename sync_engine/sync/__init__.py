"""The sync pipeline: read changes, match, merge field by field, write in batches, commit."""
