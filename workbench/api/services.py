"""API tokens: created and revoked here, looked up by the authentication class."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from workbench.accounts.models import User
from workbench.api.models import ApiToken

KEY_PREFIX = "wb_"
# last_used_at is written at most this often per token, so reads stay reads.
LAST_USED_RESOLUTION = timedelta(minutes=5)


def api_token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """A new token for ``user``; returns it with the key, which is never stored."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user, name=name, prefix=key[:10], key_hash=api_token_hash(key)
    )
    token.full_clean()
    token.save()
    return token, key


def api_token_revoke(*, user: User, prefix: str | None = None) -> int:
    """Deletes the user's tokens (those starting with ``prefix``, or all);
    returns how many."""
    tokens = ApiToken.objects.filter(user=user)
    if prefix:
        tokens = tokens.filter(prefix__startswith=prefix[:10])
    deleted, _ = tokens.delete()
    return deleted


def api_token_authenticate(*, key: str) -> ApiToken | None:
    """The active token with this key, or None; notes when it was used."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=api_token_hash(key), user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
