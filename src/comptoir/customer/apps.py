from django.apps import AppConfig


class CustomerConfig(AppConfig):
    name = "comptoir.customer"
    label = "customer"
