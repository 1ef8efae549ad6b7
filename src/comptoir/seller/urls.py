from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from comptoir.seller import accounting, imports, shipping, views

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
    path("commandes/<str:order_id>/expedition/", shipping.ship, name="ship"),
    path("commandes/<str:order_id>/expedition/apercu/", shipping.tracking_preview, name="tracking_preview"),
    path("commandes/<str:order_id>/expedition/<str:shipment_id>/suivi/", shipping.correct_tracking,
         name="correct_tracking"),
    path("parametres/", views.shop_settings, name="settings"),
    path("parametres/cle-api/", views.rotate_key, name="rotate_key"),
    path("parametres/profil/", views.edit_profile, name="profile"),
    path("parametres/utilisateurs/", views.add_user, name="add_user"),
    path("parametres/utilisateurs/<int:user_id>/retirer/", views.remove_user, name="remove_user"),
    path("boutique/", views.switch_shop, name="switch_shop"),
    path("comptabilite/", accounting.accounting, name="accounting"),
    path("comptabilite/export.csv", accounting.accounting_export, name="accounting_csv"),
    path("expeditions/import/", imports.upload, name="imports"),
    path("expeditions/import/<int:job_id>/", imports.detail, name="import_detail"),
    path("expeditions/import/<int:job_id>/appliquer/", imports.apply, name="import_apply"),
    path("expeditions/import/<int:job_id>/progression/", imports.progress, name="import_progress"),
    path("expeditions/import/<int:job_id>/erreurs.csv", imports.errors_csv, name="import_errors"),
]
