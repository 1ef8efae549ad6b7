"""View helpers shared by the back offices: the login view and the reusable confirmation step."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

PARTIAL = "web/_partial.html"


def base_for(request: HttpRequest, surface_base: str) -> str:
    """htmx asks for a fragment (swapped into the dialog); a plain request gets the whole page."""
    return PARTIAL if getattr(request, "htmx", False) else surface_base


def confirmation(
    request: HttpRequest,
    *,
    surface_base: str,
    title: str,
    summary: Sequence[str],
    action: str,
    cancel_url: str,
    confirm_label: str = "Confirmer",
    danger: bool = False,
    warning: str = "",
) -> HttpResponse:
    """Step 1 of every action: show what will happen and post the same fields again with `confirme=1`."""
    hidden = [(name, request.POST.getlist(name)) for name in request.POST
              if name not in ("csrfmiddlewaretoken", "confirme")]
    return render(request, "web/confirm.html", {
        "base_template": base_for(request, surface_base), "title": title, "summary": summary,
        "action": action, "hidden": hidden, "confirm_label": confirm_label, "danger": danger,
        "warning": warning, "cancel_url": cancel_url,
    })


def is_confirmed(request: HttpRequest) -> bool:
    return request.POST.get("confirme") == "1"


class SurfaceLoginView(LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True
    surface_base = ""
    heading = "Connexion"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(surface_base=self.surface_base, heading=self.heading)
        return context


def invalid_form_dialog(request: HttpRequest, form: Any) -> HttpResponse:
    """htmx only swaps 2xx answers: bad input shown in the dialog (the page itself answers 400 without JS)."""
    return render(request, "web/form_errors_dialog.html", {"errors": list(form.errors.items())})
