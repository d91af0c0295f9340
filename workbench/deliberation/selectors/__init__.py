"""Reads. Objects reachable from user input are fetched only through these."""
