from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: the commands behind `comptoir` (serve, worker, demo, clock, apikey)."""

    name = "comptoir.ops"
    label = "ops"
