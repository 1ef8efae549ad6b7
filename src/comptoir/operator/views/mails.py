"""The demo's mails (/operateur/mails/): what the filebased e-mail backend wrote, newest first.

With any other backend the page says where mail goes instead.
"""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from comptoir.operator import mailbox
from comptoir.operator.views.common import operator_view

PER_PAGE = 20


def _backend_context() -> dict[str, object]:
    backend = settings.EMAIL_BACKEND
    return {
        "nav": "mails", "filebased": mailbox.is_filebased(),
        "smtp": backend == "django.core.mail.backends.smtp.EmailBackend",
        "smtp_server": f"{settings.EMAIL_HOST}:{settings.EMAIL_PORT}", "backend": backend,
    }


@operator_view
def mail_list(request: HttpRequest) -> HttpResponse:
    context = _backend_context()
    if context["filebased"]:
        files = mailbox.list_files()
        page = Paginator(files, PER_PAGE).get_page(request.GET.get("page"))
        context.update(page=page, querystring_nopage="", max_files=mailbox.MAX_FILES, total=len(files),
                       rows=[(f, mailbox.first(f.name, files)) for f in page.object_list],
                       directory=str(mailbox.directory()))
    return render(request, "operator/mails.html", context)


@operator_view
def mail_detail(request: HttpRequest, name: str) -> HttpResponse:
    if not mailbox.is_filebased():
        raise Http404("Les mails ne sont pas conservés en fichiers")
    mails = mailbox.read(name)
    if mails is None:
        raise Http404("Mail introuvable")
    return render(request, "operator/mail_detail.html", {**_backend_context(), "name": name, "mails": mails})
