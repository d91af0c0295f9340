"""Value cards, assembled from a workshop's stored records (build.py)."""
