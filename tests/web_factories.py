"""Back-office users for the web and e2e tests: shop members and staff, logging in with their e-mail."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser

from comptoir.shops.models import Shop, ShopMember

PASSWORD = "Mot-de-passe-solide-42"


def make_user(email: str, *, staff: bool = False, password: str = PASSWORD) -> AbstractUser:
    user = get_user_model().objects.create_user(username=email, email=email, password=password, is_staff=staff)
    return user


def make_seller(shop: Shop, email: str | None = None, *, password: str = PASSWORD) -> AbstractUser:
    user = make_user(email or f"vendeur-{shop.id}@boutique.test", password=password)
    ShopMember.objects.create(shop=shop, user=user)
    return user


def make_operator(email: str = "operateur@marche.test", *, password: str = PASSWORD) -> AbstractUser:
    return make_user(email, staff=True, password=password)
