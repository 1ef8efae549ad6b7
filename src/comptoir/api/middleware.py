"""Under /api/, every error answers with Mirakl's JSON body — also the 404 of an unknown path and the 405
of a wrong method, which Django and ninja render as HTML by default. API requests also skip the back offices'
middleware (sessions, CSRF, users, messages, static files, htmx): none of it applies to a keyed JSON call,
and running it cost a noticeable share of a small request (OR21). ApiResponseMiddleware does in one step what
Django's locale, common and clickjacking middleware did to an API answer."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpRequest, HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.module_loading import import_string

from comptoir.api.errors import error_body
from comptoir.api.render import json_response

_MESSAGES = {
    400: ("Requête invalide.", "BAD_REQUEST"),
    404: ("Ressource introuvable.", "NOT_FOUND"),
    405: ("Méthode HTTP non autorisée pour cette ressource.", "METHOD_NOT_ALLOWED"),
    413: ("Corps de requête trop volumineux.", "REQUEST_TOO_LARGE"),
    500: ("Erreur interne du serveur.", "INTERNAL_ERROR"),
}
# HTML pages under /api/ go through the whole stack like the back offices.
_FULL_STACK_PREFIXES = ("/api/docs",)


class _ApiHandler(BaseHandler):
    """Django's request handling (URL resolution, view, exception → response) with settings.API_MIDDLEWARE
    instead of settings.MIDDLEWARE: the middleware whose effect an API response shows (language, headers)."""

    def load_middleware(self, is_async: bool = False) -> None:
        self._view_middleware: list = []
        self._template_response_middleware: list = []
        self._exception_middleware: list = []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed(settings.API_MIDDLEWARE):
            middleware = import_string(path)(handler)
            if hasattr(middleware, "process_view"):
                self._view_middleware.insert(0, middleware.process_view)
            if hasattr(middleware, "process_template_response"):
                self._template_response_middleware.append(middleware.process_template_response)
            if hasattr(middleware, "process_exception"):
                self._exception_middleware.append(middleware.process_exception)
            handler = convert_exception_to_response(middleware)
        self._middleware_chain = handler


class ApiErrorBodyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.api = _ApiHandler()
        self.api.load_middleware()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        if not path.startswith("/api/"):
            return self.get_response(request)
        if "\x00" in path or "%00" in request.META.get("QUERY_STRING", ""):
            # No database stores a NUL character (PostgreSQL refuses it): an id or a filter holding one is bad input.
            return json_response(error_body(400, "Caractère nul (%00) interdit dans l'adresse.", "VALIDATION_ERROR"),
                                 400)
        if path.startswith(_FULL_STACK_PREFIXES):
            response = self.get_response(request)
        else:
            response = self.api._middleware_chain(request)
        if response.status_code in _MESSAGES and not response.get("Content-Type", "").startswith("application/json"):
            message, code = _MESSAGES[response.status_code]
            converted = json_response(error_body(response.status_code, message, code), response.status_code)
            if response.has_header("Allow"):
                converted["Allow"] = response["Allow"]
            return converted
        return response


# Accept-Language header → language, for requests without cookies (the language cookie comes first). Bounded: a
# client could send a new header each time.
_LANGUAGES: dict[str, str] = {}
_LANGUAGES_KEPT = 256


def api_language(request: HttpRequest) -> str:
    """LocaleMiddleware's choice for a path without a language prefix (none under /api/: urls.py uses no
    i18n_patterns): the language cookie, else Accept-Language, among settings.LANGUAGES, else LANGUAGE_CODE."""
    meta = request.META
    if "HTTP_COOKIE" in meta:
        return translation.get_language_from_request(request)
    accept = meta.get("HTTP_ACCEPT_LANGUAGE", "")
    language = _LANGUAGES.get(accept)
    if language is None:
        language = translation.get_language_from_request(request)
        if len(_LANGUAGES) >= _LANGUAGES_KEPT:
            _LANGUAGES.clear()
        _LANGUAGES[accept] = language
    return language


class ApiResponseMiddleware:
    """What LocaleMiddleware, CommonMiddleware and XFrameOptionsMiddleware do to an API request and its answer, in
    one step of API_MIDDLEWARE: the language (api_language; Vary and Content-Language), the host check (a 400 for a
    host outside ALLOWED_HOSTS), Content-Length, APPEND_SLASH's redirect of a 404, X-Frame-Options. Django's three
    ran path lookups (language prefixes) and three middleware layers per request for the same effect. With
    DISALLOWED_USER_AGENTS or PREPEND_WWW set (Comptoir sets neither), Django's three run instead."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.common = CommonMiddleware(get_response)
        self.django = LocaleMiddleware(convert_exception_to_response(
            CommonMiddleware(convert_exception_to_response(XFrameOptionsMiddleware(get_response)))))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.DISALLOWED_USER_AGENTS or settings.PREPEND_WWW:  # read per request, as Django's three do
            return self.django(request)
        translation.activate(api_language(request))
        request.LANGUAGE_CODE = translation.get_language()  # type: ignore[attr-defined]
        request.get_host()  # DisallowedHost → 400, as CommonMiddleware
        response = self.get_response(request)
        # In the order Django's three act on the way out: X-Frame-Options, Content-Length, Vary, Content-Language.
        if response.get("X-Frame-Options") is None and not getattr(response, "xframe_options_exempt", False):
            response.headers["X-Frame-Options"] = getattr(settings, "X_FRAME_OPTIONS", "DENY").upper()
        response = self.common.process_response(request, response)
        if response.has_header("Vary"):
            patch_vary_headers(response, ("Accept-Language",))
        else:
            response.headers["Vary"] = "Accept-Language"
        response.headers.setdefault("Content-Language", translation.get_language())
        return response
