from __future__ import annotations

from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """A facilitator or researcher. Participants never have accounts."""
