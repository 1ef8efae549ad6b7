"""Shipping: carriers with tracking-link templates, and shipments (split parcels) of orders."""
