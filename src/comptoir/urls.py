"""URL map: the API under /api/; the back offices (/vendeur/, /operateur/, /client/) come with their apps."""

from django.http import HttpResponse
from django.urls import include, path

from comptoir.api.urls import api


def home(request):  # type: ignore[no-untyped-def]
    return HttpResponse(
        "<!doctype html><meta charset=utf-8><title>Comptoir</title>"
        "<h1>Comptoir</h1><ul><li><a href='/api/docs'>API (OpenAPI)</a></li>"
        "<li><a href='/vendeur/'>Espace vendeur</a></li><li><a href='/operateur/'>Espace opérateur</a></li></ul>",
    )


# A database down or restarting is a 503 with Retry-After, not a bare 500 (README « Reliability »).
handler500 = "comptoir.observability.unavailable.server_error"

urlpatterns = [
    path("", home),
    path("api/", api.urls),
    path("vendeur/", include("comptoir.seller.urls")),
    path("operateur/", include("comptoir.operator.urls")),
    path("client/", include("comptoir.customer.urls")),
    # /healthz, /readyz, /metrics (README « Exploitation »).
    path("", include("comptoir.observability.urls")),
]
