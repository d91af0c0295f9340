from __future__ import annotations

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A facilitator's personal API token. Only a SHA-256 of the key is stored: the
    key is shown once, at creation, so a leaked database does not leak access. The
    key has 256 random bits, so a plain (unsalted, fast) hash is enough."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(
        max_length=12, help_text="The key's first characters, to tell tokens apart."
    )
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user_id})"
