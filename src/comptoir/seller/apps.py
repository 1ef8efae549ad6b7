from django.apps import AppConfig


class SellerConfig(AppConfig):
    name = "comptoir.seller"
    label = "seller"
