from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from comptoir.seller import views

app_name = "seller"

urlpatterns = [
    path("", views.home, name="home"),
    path("connexion/", views.SellerLogin.as_view(), name="login"),
    path("deconnexion/", auth_views.LogoutView.as_view(next_page=reverse_lazy("seller:login")), name="logout"),
    path("mot-de-passe/", views.password_change, name="password"),
    path("commandes/", views.order_list, name="orders"),
    path("commandes/export.csv", views.order_export, name="orders_csv"),
    path("commandes/<str:order_id>/", views.order_detail, name="order"),
    path("commandes/<str:order_id>/decision/", views.decide, name="decide"),
    path("parametres/", views.shop_settings, name="settings"),
    path("parametres/cle-api/", views.rotate_key, name="rotate_key"),
]
