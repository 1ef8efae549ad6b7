"""The probes and the metrics, at the root (where load balancers and Prometheus look for them)."""

from django.urls import path

from comptoir.observability import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.metrics_view, name="metrics"),
]
