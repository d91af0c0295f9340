"""The facilitator's API tokens page: list, create (the key is shown once, on the
response to the POST) and revoke their own tokens, so a researcher needs no shell.
Only the token's prefix is ever shown again; the key itself is never stored."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from workbench.api.models import ApiToken
from workbench.api.selectors import api_token_list_for_user
from workbench.api.services import api_token_create, api_token_revoke_one
from workbench.core.errors import ApplicationError, NotAvailableError
from workbench.core.http import AuthenticatedHttpRequest

TEMPLATE = "api/tokens.html"
NAME_MAX_LENGTH = ApiToken._meta.get_field("name").max_length


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=NAME_MAX_LENGTH,
        help_text=gettext_lazy(
            "Where the token will be used, e.g. “laptop notebook”, to tell your "
            "tokens apart."
        ),
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: AuthenticatedHttpRequest) -> HttpResponse:
    """GET: the user's tokens and the form. POST: creates a token and answers with
    the same page showing its key, once (never_cache keeps it out of caches)."""
    form = ApiTokenForm(request.POST if request.method == "POST" else None)
    new_token, key = None, ""
    if form.is_bound and form.is_valid():
        try:
            new_token, key = api_token_create(
                user=request.user, name=form.cleaned_data["name"]
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            form = ApiTokenForm()
    context = {
        "tokens": api_token_list_for_user(user=request.user),
        "form": form,
        "new_token": new_token,
        "key": key,
        "api_workshops": request.build_absolute_uri(reverse("api:workshops")),
    }
    return render(request, TEMPLATE, context)


@login_required
@require_POST
def api_token_revoke(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    try:
        token = api_token_revoke_one(user=request.user, token_id=pk)
    except NotAvailableError:
        raise Http404(_("There is no such API token.")) from None
    messages.success(
        request,
        _("Token “%(name)s” (%(prefix)s…) revoked: scripts using it now get 401.")
        % {"name": token.name or "-", "prefix": token.prefix},
    )
    return redirect("api_tokens:list")
