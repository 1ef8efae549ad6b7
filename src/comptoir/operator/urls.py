from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from comptoir.operator import views

app_name = "operator"

urlpatterns = [
    path("", views.fraud_queue, name="home"),
    path("connexion/", views.OperatorLogin.as_view(), name="login"),
    path("deconnexion/", auth_views.LogoutView.as_view(next_page=reverse_lazy("operator:login")), name="logout"),
    path("commandes/", views.order_list, name="orders"),
    path("commandes/<str:order_id>/", views.order_detail, name="order"),
    path("commandes/<str:order_id>/<str:action>/", views.fraud_decision, name="fraud"),
    path("boutiques/", views.shop_list, name="shops"),
    path("boutiques/<int:shop_id>/", views.shop_detail, name="shop"),
    path("boutiques/<int:shop_id>/<str:action>/", views.shop_state, name="shop_state"),
]
