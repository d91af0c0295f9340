from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from workbench.accounts.models import User
from workbench.api.selectors import api_token_list_for_user
from workbench.api.services import api_token_create, api_token_revoke
from workbench.core.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Creates an API token for USER and prints it once (only its hash is kept); "
        "--list shows USER's tokens, --revoke PREFIX or --revoke-all removes them. "
        "Facilitators can do the same on the site's API tokens page."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user", help="The facilitator's username.")
        parser.add_argument("--name", default="", help="A label for the token.")
        parser.add_argument("--list", action="store_true")
        parser.add_argument("--revoke", metavar="PREFIX", default="")
        parser.add_argument("--revoke-all", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"There is no user “{options['user']}”.")
        if options["list"]:
            for token in api_token_list_for_user(user=user):
                used = token.last_used_at.isoformat() if token.last_used_at else "never"
                self.stdout.write(
                    f"{token.prefix}…  {token.name or '-'}  created "
                    f"{token.created_at.isoformat()}  last used {used}"
                )
            return
        if options["revoke"] or options["revoke_all"]:
            n = api_token_revoke(user=user, prefix=options["revoke"] or None)
            self.stdout.write(f"Revoked {n} token(s).")
            return
        try:
            _, key = api_token_create(user=user, name=options["name"])
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(key)
