from django.apps import AppConfig


class RelayConfig(AppConfig):
    name = "comptoir.relay"
    label = "relay"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Relais e-mail"
