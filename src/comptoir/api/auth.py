"""API keys in the `Authorization` header, raw (Mirakl style) or with `Bearer `; one shop per key."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import APIKeyHeader

from comptoir.core.errors import NotFound
from comptoir.shops import services as shop_services
from comptoir.shops.models import ApiKeyKind


def _raw_key(value: str | None) -> str:
    value = (value or "").strip()
    if value.lower().startswith("bearer "):
        value = value[7:].strip()
    return value


class ShopKey(APIKeyHeader):
    param_name = "Authorization"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        api_key = shop_services.authenticate_key(_raw_key(key))
        if api_key is None or api_key.kind != ApiKeyKind.SHOP:
            return None
        shop_param = request.GET.get("shop_id")
        if shop_param not in (None, "") and shop_param != str(api_key.shop_id):
            # A key belongs to one shop; naming another one reveals nothing about it.
            raise NotFound("Boutique introuvable pour cette clé.", code="SHOP_NOT_FOUND")
        request.shop = api_key.shop  # type: ignore[attr-defined]
        return api_key.shop


class OperatorKey(APIKeyHeader):
    param_name = "Authorization"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        api_key = shop_services.authenticate_key(_raw_key(key))
        if api_key is None or api_key.kind != ApiKeyKind.OPERATOR:
            return None
        return api_key
