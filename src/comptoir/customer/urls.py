from django.urls import path

from comptoir.customer import incidents, messages, views

app_name = "customer"

urlpatterns = [
    path("commande/<str:token>/", views.order_page, name="order"),
    path("commande/<str:token>/documents/<int:document_id>/", views.invoice_download, name="invoice"),
    path("commande/<str:token>/messages/", messages.write, name="message_write"),
    path("commande/<str:token>/messages/<int:thread_id>/", messages.reply, name="message_reply"),
    path("commande/<str:token>/pieces-jointes/<int:attachment_id>/", messages.attachment, name="message_attachment"),
    path("commande/<str:token>/incidents/", incidents.report, name="incident_report"),
    path("commande/<str:token>/incidents/<int:incident_id>/regle/", incidents.settle, name="incident_settle"),
]
