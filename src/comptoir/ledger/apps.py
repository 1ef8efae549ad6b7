from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "comptoir.ledger"
    label = "ledger"
