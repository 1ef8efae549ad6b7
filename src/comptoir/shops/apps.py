from django.apps import AppConfig


class ShopsConfig(AppConfig):
    name = "comptoir.shops"
    label = "shops"
