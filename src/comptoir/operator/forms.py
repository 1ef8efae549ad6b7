"""Operator back-office forms: staff login, the fraud decisions' reasons, the all-shops order filter."""

from __future__ import annotations

from django import forms
from django.contrib.auth.models import AbstractBaseUser

from comptoir.web.forms import EmailLoginForm, ReasonForm
from comptoir.web.orderlist import OrderFilterForm


class OperatorLoginForm(EmailLoginForm):
    def has_access(self, user: AbstractBaseUser) -> bool:
        return bool(getattr(user, "is_staff", False))


class OperatorOrderFilterForm(OrderFilterForm):
    boutique = forms.IntegerField(label="N° de boutique", required=False, min_value=1,
                                  error_messages={"invalid": "Saisissez un numéro de boutique."})


class NoteForm(forms.Form):
    note = forms.CharField(label="Justificatifs demandés", max_length=300, widget=forms.Textarea(attrs={"rows": 3}),
                           error_messages={"required": "Précisez les justificatifs demandés au client."})


__all__ = ["NoteForm", "OperatorLoginForm", "OperatorOrderFilterForm", "ReasonForm"]
