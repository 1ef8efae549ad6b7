"""Forms shared by the back offices: e-mail login with lockout, and a reason field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from comptoir.messaging import services as messaging_services
from comptoir.web import lockout


class EmailLoginForm(AuthenticationForm):
    """Django's login form with the e-mail as username and a lock after repeated failures."""

    username = forms.EmailField(label="Adresse e-mail", widget=forms.EmailInput(attrs={"autofocus": True,
                                                                                       "autocomplete": "email"}))
    password = forms.CharField(label="Mot de passe", strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    error_messages = {
        "invalid_login": "Adresse e-mail ou mot de passe incorrect.",
        "inactive": "Ce compte est désactivé.",
        "locked": "Trop de tentatives de connexion échouées. Réessayez après %(until)s.",
        "no_access": "Ce compte n'a pas accès à cet espace.",
    }

    def clean(self) -> dict[str, Any]:
        username = (self.cleaned_data.get("username") or "").strip().lower()
        password = self.cleaned_data.get("password")
        if not username or not password:
            return self.cleaned_data
        self.cleaned_data["username"] = username
        ip = lockout.client_ip(self.request)
        until = lockout.locked_until(username, ip)
        if until is not None:
            raise forms.ValidationError(
                self.error_messages["locked"],
                code="locked",
                params={"until": timezone.localtime(until).strftime("%H:%M")},
            )
        self.user_cache = authenticate(self.request, username=username, password=password)
        if self.user_cache is None:
            lockout.record_failure(username, ip)
            raise self.get_invalid_login_error()
        self.confirm_login_allowed(self.user_cache)
        lockout.clear(username, ip)
        return self.cleaned_data

    def confirm_login_allowed(self, user: AbstractBaseUser) -> None:
        super().confirm_login_allowed(user)
        if not self.has_access(user):
            raise forms.ValidationError(self.error_messages["no_access"], code="no_access")

    def has_access(self, user: AbstractBaseUser) -> bool:
        return True


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Motif", max_length=300, widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Le motif est obligatoire."},
    )

    def clean_reason(self) -> str:
        value = self.cleaned_data["reason"].strip()
        if not value:
            raise forms.ValidationError("Le motif est obligatoire.")
        return value


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class FilesField(forms.FileField):
    """Several files in one field (message attachments); an empty field is an empty list."""

    def clean(self, data: Any, initial: Any = None) -> Any:
        if isinstance(data, list | tuple):
            return [super(FilesField, self).clean(d, initial) for d in data]
        return [super().clean(data, initial)] if data else []


def message_files(form: forms.Form) -> list[messaging_services.File]:
    """The files of a message form (its FilesField `files`), read up to the attachment limit: a larger one is
    passed empty with its announced size, for the messaging service to refuse it with its own message."""
    limit = messaging_services.max_bytes()
    return [messaging_services.File(upload.name or "", upload.read(limit + 1) if (upload.size or 0) <= limit
                                    else b"", size=upload.size)
            for upload in form.cleaned_data.get("files") or []]
