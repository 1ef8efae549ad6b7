"""The customer space's links are the order domain's (notifications need them too): re-exported here."""

from comptoir.orders.links import customer_link, customer_path, order_id_from_token, order_token

__all__ = ["customer_link", "customer_path", "order_id_from_token", "order_token"]
