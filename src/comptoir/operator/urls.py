from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from comptoir.operator import views
from comptoir.operator.views import documents as document_views
from comptoir.operator.views import incidents as incident_views
from comptoir.operator.views import messages as message_views
from comptoir.operator.views import relay as relay_views
from comptoir.operator.views import scorecards as scorecard_views
from comptoir.operator.views import webhooks as webhook_views

app_name = "operator"

urlpatterns = [
    path("", views.fraud_queue, name="home"),
    path("connexion/", views.OperatorLogin.as_view(), name="login"),
    path("deconnexion/", auth_views.LogoutView.as_view(next_page=reverse_lazy("operator:login")), name="logout"),
    path("commandes/", views.order_list, name="orders"),
    path("commandes/factures-manquantes/", document_views.invoices_missing, name="invoices_missing"),
    path("commandes/<str:order_id>/", views.order_detail, name="order"),
    path("commandes/<str:order_id>/documents/<int:document_id>/", document_views.document_download,
         name="document_download"),
    path("commandes/<str:order_id>/rembourser/", views.refund, name="refund"),
    path("commandes/<str:order_id>/rembourser/proposition/", views.refund_proposal, name="refund_proposal"),
    path("commandes/<str:order_id>/annuler/", views.cancel_lines, name="cancel_lines"),
    path("commandes/<str:order_id>/annuler-commande/", views.cancel_order, name="cancel_order"),
    path("commandes/<str:order_id>/<str:action>/", views.fraud_decision, name="fraud"),
    path("boutiques/", views.shop_list, name="shops"),
    path("boutiques/indicateurs/seuils/", scorecard_views.scorecard_thresholds, name="scorecard_thresholds"),
    path("boutiques/<int:shop_id>/", views.shop_detail, name="shop"),
    path("boutiques/<int:shop_id>/commission/", views.shop_commission, name="shop_commission"),
    path("boutiques/<int:shop_id>/<str:action>/", views.shop_state, name="shop_state"),
    path("versements/", views.payout_list, name="payouts"),
    path("versements/lancer/", views.payout_run, name="payout_run"),
    path("versements/<int:payout_id>/", views.payout_detail, name="payout"),
    path("versements/<int:payout_id>/releve.csv", views.payout_csv, name="payout_csv"),
    path("versements/<int:payout_id>/factures/<int:document_id>/", views.payout_invoice, name="payout_invoice"),
    path("notifications/", views.outbox_list, name="outbox"),
    path("notifications/<int:event_id>/renvoyer/", views.outbox_replay, name="outbox_replay"),
    path("webhooks/", webhook_views.webhook_list, name="webhooks"),
    path("mails/", views.mail_list, name="mails"),
    path("mails/<str:name>/", views.mail_detail, name="mail"),
    path("relais/", relay_views.relay_list, name="relay"),
    path("relais/<int:message_id>/", relay_views.relay_detail, name="relay_message"),
    path("incidents/", incident_views.board, name="incidents"),
    path("incidents/ouvrir/<str:order_id>/", incident_views.open_incident, name="open_incident"),
    path("incidents/<int:incident_id>/", incident_views.incident_detail, name="incident"),
    path("incidents/<int:incident_id>/conversations/demarrer/", incident_views.incident_start, name="incident_start"),
    path("incidents/<int:incident_id>/conversations/<int:thread_id>/repondre/", incident_views.incident_reply,
         name="incident_reply"),
    path("incidents/<int:incident_id>/<str:action>/", incident_views.incident_action, name="incident_action"),
    path("messages/", message_views.awaiting, name="messages"),
    path("messages/<str:order_id>/", message_views.order_messages, name="order_messages"),
    path("messages/<str:order_id>/demarrer/", message_views.start, name="message_start"),
    path("messages/<str:order_id>/<int:thread_id>/repondre/", message_views.reply, name="message_reply"),
    path("messages/<str:order_id>/pieces-jointes/<int:attachment_id>/", message_views.attachment,
         name="message_attachment"),
]
