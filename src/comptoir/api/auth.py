"""API keys in the `Authorization` header, raw (Mirakl style) or with `Bearer `; one shop per key."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import APIKeyHeader

from comptoir.core.errors import NotFound
from comptoir.shops import services as shop_services
from comptoir.shops.models import ApiKeyKind, Shop


def raw_key(value: str | None) -> str:
    """The key of an `Authorization` header: raw (Mirakl) or after `Bearer `."""
    value = (value or "").strip()
    if value.lower().startswith("bearer "):
        value = value[7:].strip()
    return value


class LazyShop:
    """The key's shop: its id at once (what most endpoints need), the row loaded on first use of anything else
    (A01 reads the shop's fields). Keeps the hot path at one narrow query."""

    __slots__ = ("id", "pk", "_shop")

    def __init__(self, shop_id: int) -> None:
        self.id = self.pk = shop_id
        self._shop: Shop | None = None

    def __getattr__(self, name: str) -> Any:
        if self._shop is None:
            self._shop = Shop.objects.get(pk=self.id)
        return getattr(self._shop, name)


class _AuthorizationHeader(APIKeyHeader):
    param_name = "Authorization"

    def _get_key(self, request: HttpRequest) -> str | None:
        # From META: request.headers would build a dict of every header on each request.
        return request.META.get("HTTP_AUTHORIZATION")


class ShopKey(_AuthorizationHeader):

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        owner = shop_services.key_owner(raw_key(key))
        if owner is None or owner.kind != ApiKeyKind.SHOP or owner.shop_id is None:
            return None
        shop_param = request.GET.get("shop_id")
        if shop_param not in (None, "") and shop_param != str(owner.shop_id):
            # A key belongs to one shop; naming another one reveals nothing about it.
            raise NotFound("Boutique introuvable pour cette clé.", code="SHOP_NOT_FOUND")
        shop = LazyShop(owner.shop_id)
        request.shop = shop  # type: ignore[attr-defined]
        return shop


class OperatorKey(_AuthorizationHeader):

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        api_key = shop_services.authenticate_key(raw_key(key))
        if api_key is None or api_key.kind != ApiKeyKind.OPERATOR:
            return None
        return api_key
