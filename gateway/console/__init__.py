"""The staff console (/console): moderation, newsletter editing, staff accounts."""
