"""API tokens: created and revoked here, looked up by the authentication class."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from workbench.accounts.models import User
from workbench.api.models import ApiToken
from workbench.core.errors import ApplicationError, NotAvailableError

KEY_PREFIX = "wb_"
# Enough for every laptop, server and notebook a researcher runs; a cap keeps a
# stuck script (or a stolen session) from minting tokens without end.
MAX_TOKENS_PER_USER = 50
# last_used_at is written at most this often per token, so reads stay reads.
LAST_USED_RESOLUTION = timedelta(minutes=5)


def api_token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """A new token for ``user``; returns it with the key, which is never stored.
    Raises ApplicationError when the user already has MAX_TOKENS_PER_USER."""
    # Serialises concurrent creations by one user, so the cap holds.
    User.objects.select_for_update().filter(pk=user.pk).first()
    if ApiToken.objects.filter(user=user).count() >= MAX_TOKENS_PER_USER:
        raise ApplicationError(
            _(
                "You already have %(n)d API tokens: revoke one you no longer use "
                "before creating another."
            )
            % {"n": MAX_TOKENS_PER_USER}
        )
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
    deleted, _by_model = tokens.delete()
    return deleted


def api_token_revoke_one(*, user: User, token_id: int) -> ApiToken:
    """Deletes one of the user's tokens and returns it (unsaved); another user's
    token, or none, raises NotAvailableError, so its existence is not revealed."""
    token = ApiToken.objects.filter(user=user, pk=token_id).first()
    if token is None:
        raise NotAvailableError(_("There is no such API token."))
    ApiToken.objects.filter(pk=token.pk).delete()
    return token


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
