from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "comptoir.webhooks"
    label = "webhooks"
