from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    """Probes, metrics, request ids in logs and in the outbox, API rate limits."""

    name = "comptoir.observability"
    label = "observability"
