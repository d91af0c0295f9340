"""Every write to the deliberation domain goes through these services."""
