"""What every operator page shares: the staff-only decorator, the base template, the acting operator."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import user_passes_test
from django.http import HttpRequest, HttpResponse
from django.urls import reverse, reverse_lazy

from comptoir.operator.forms import OperatorLoginForm
from comptoir.orders import services
from comptoir.orders.states import Actor
from comptoir.web.views import SurfaceLoginView

BASE = "operator/base.html"
LOGIN_URL = reverse_lazy("operator:login")
FORM_ERROR = "Le formulaire contient des erreurs : corrigez-les ci-dessous."


def operator_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Staff only: anyone else is sent to the operator login page."""
    decorated = user_passes_test(lambda u: u.is_authenticated and u.is_staff, login_url=LOGIN_URL)(view)
    return wraps(view)(decorated)


def who(request: HttpRequest) -> services.Who:
    return services.Who(Actor.OPERATOR, request.user.get_username())


def operator_email(request: HttpRequest) -> str:
    user = request.user
    return getattr(user, "email", "") or user.get_username()


class OperatorLogin(SurfaceLoginView):
    authentication_form = OperatorLoginForm
    surface_base = BASE
    heading = "Connexion à l'espace opérateur"

    def get_default_redirect_url(self) -> str:
        return reverse("operator:home")
