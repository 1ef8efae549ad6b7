from django.apps import AppConfig


class OperatorConfig(AppConfig):
    name = "comptoir.operator"
    label = "operator"
