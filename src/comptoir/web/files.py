"""A stored file sent to the browser as a download (documents, invoices, message attachments)."""

from __future__ import annotations

from django.http import HttpResponse


def file_download(data: bytes, *, content_type: str, file_name: str) -> HttpResponse:
    """The file as a download, its type fixed (`nosniff`: never rendered as something else)."""
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
