from django.urls import path

from comptoir.customer import views

app_name = "customer"

urlpatterns = [
    path("commande/<str:token>/", views.order_page, name="order"),
]
