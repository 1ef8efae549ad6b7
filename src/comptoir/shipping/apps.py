from django.apps import AppConfig


class ShippingConfig(AppConfig):
    name = "comptoir.shipping"
    label = "shipping"
    default_auto_field = "django.db.models.BigAutoField"
