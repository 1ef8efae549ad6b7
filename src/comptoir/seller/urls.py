from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from comptoir.seller import accounting, imports, refunds, shipping, views
from comptoir.seller import documents as order_documents
from comptoir.seller import messages as order_messages

app_name = "seller"

urlpatterns = [
    path("", views.home, name="home"),
    path("connexion/", views.SellerLogin.as_view(), name="login"),
    path("deconnexion/", auth_views.LogoutView.as_view(next_page=reverse_lazy("seller:login")), name="logout"),
    path("mot-de-passe/", views.password_change, name="password"),
    path("commandes/", views.order_list, name="orders"),
    path("commandes/export.csv", views.order_export, name="orders_csv"),
    path("factures-manquantes/", order_documents.invoices_missing, name="invoices_missing"),
    path("commandes/<str:order_id>/", views.order_detail, name="order"),
    path("commandes/<str:order_id>/decision/", views.decide, name="decide"),
    path("commandes/<str:order_id>/documents/", order_documents.documents_tab, name="documents"),
    path("commandes/<str:order_id>/documents/envoyer/", order_documents.upload, name="document_upload"),
    path("commandes/<str:order_id>/documents/facture/", order_documents.generate_invoice, name="generate_invoice"),
    path("commandes/<str:order_id>/documents/avoir/", order_documents.generate_credit_note,
         name="generate_credit_note"),
    path("commandes/<str:order_id>/documents/<int:document_id>/", order_documents.download,
         name="document_download"),
    path("commandes/<str:order_id>/documents/<int:document_id>/supprimer/", order_documents.delete,
         name="document_delete"),
    path("commandes/<str:order_id>/expedition/", shipping.ship, name="ship"),
    path("commandes/<str:order_id>/expedition/apercu/", shipping.tracking_preview, name="tracking_preview"),
    path("commandes/<str:order_id>/expedition/<str:shipment_id>/suivi/", shipping.correct_tracking,
         name="correct_tracking"),
    path("commandes/<str:order_id>/rembourser/", refunds.refund, name="refund"),
    path("commandes/<str:order_id>/rembourser/proposition/", refunds.refund_proposal, name="refund_proposal"),
    path("commandes/<str:order_id>/annuler/", refunds.cancel_lines, name="cancel_lines"),
    path("commandes/<str:order_id>/annuler-commande/", refunds.cancel_order, name="cancel_order"),
    path("parametres/", views.shop_settings, name="settings"),
    path("parametres/cle-api/", views.rotate_key, name="rotate_key"),
    path("parametres/profil/", views.edit_profile, name="profile"),
    path("parametres/utilisateurs/", views.add_user, name="add_user"),
    path("parametres/utilisateurs/<int:user_id>/retirer/", views.remove_user, name="remove_user"),
    path("boutique/", views.switch_shop, name="switch_shop"),
    path("comptabilite/", accounting.accounting, name="accounting"),
    path("comptabilite/export.csv", accounting.accounting_export, name="accounting_csv"),
    path("comptabilite/factures/<int:document_id>/", accounting.commission_invoice, name="commission_invoice"),
    path("messages/", order_messages.inbox, name="messages"),
    path("commandes/<str:order_id>/messages/", order_messages.messages_tab, name="messages_tab"),
    path("commandes/<str:order_id>/messages/nouvelle/", order_messages.start, name="message_start"),
    path("commandes/<str:order_id>/messages/<int:thread_id>/repondre/", order_messages.reply, name="message_reply"),
    path("commandes/<str:order_id>/messages/pieces-jointes/<int:attachment_id>/", order_messages.attachment,
         name="message_attachment"),
    path("expeditions/import/", imports.upload, name="imports"),
    path("expeditions/import/<int:job_id>/", imports.detail, name="import_detail"),
    path("expeditions/import/<int:job_id>/appliquer/", imports.apply, name="import_apply"),
    path("expeditions/import/<int:job_id>/progression/", imports.progress, name="import_progress"),
    path("expeditions/import/<int:job_id>/erreurs.csv", imports.errors_csv, name="import_errors"),
]
