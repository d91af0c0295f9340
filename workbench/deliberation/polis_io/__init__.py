"""Polis exports in the openData layout: read, store (import) and write (export)."""
