"""Conversations on an order (Mirakl's threads), their messages and attachments (files through Django's
storage, like order documents), and each participant's read state of each thread."""

from __future__ import annotations

from django.db import models

from comptoir.documents.storage import documents_storage
from comptoir.messaging.rules import PARTICIPANT_LABELS, Participant, TopicType
from comptoir.orders.models import Order
from comptoir.shops.models import Shop

PARTICIPANT_CHOICES = [(p.value, PARTICIPANT_LABELS[p]) for p in Participant]


class Thread(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="threads")
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")  # denormalised for the inbox
    topic_type = models.CharField(max_length=16, choices=[(t.value, t.value) for t in TopicType],
                                  default=TopicType.FREE_TEXT)
    topic_value = models.CharField(max_length=200)
    participants = models.JSONField(default=list)  # Participant values authorised in the thread
    created_date = models.DateTimeField()
    updated_date = models.DateTimeField()
    last_message_date = models.DateTimeField()
    last_sender_type = models.CharField(max_length=16, choices=PARTICIPANT_CHOICES)
    last_sender_name = models.CharField(max_length=200, blank=True)
    last_excerpt = models.CharField(max_length=200, blank=True)  # the inbox shows it without reading messages
    # Set by a customer's message the shop has not answered yet (Mirakl's shop_reply_needed_since): the
    # 48/72 business-hour rule of the guide starts here.
    shop_reply_needed_since = models.DateTimeField(null=True, blank=True)
    # The customer-service clock of the current wait (incidents.timers): reminder sent, claim escalated.
    reply_reminded_at = models.DateTimeField(null=True, blank=True)
    reply_escalated_at = models.DateTimeField(null=True, blank=True)
    message_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-last_message_date", "-id"]
        indexes = [
            models.Index(fields=["shop", "last_message_date", "id"], name="thread_shop_last"),
            models.Index(fields=["order", "id"], name="thread_order"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.topic_value}"

    @property
    def thread_id(self) -> str:
        return str(self.pk)


class Message(models.Model):
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="messages")
    author_type = models.CharField(max_length=16, choices=PARTICIPANT_CHOICES)
    author_name = models.CharField(max_length=200, blank=True)
    recipients = models.JSONField(default=list)  # Participant values
    body = models.TextField()
    language = models.CharField(max_length=8, blank=True)  # ISO 639-1 as detected, empty when undetermined
    created_date = models.DateTimeField()

    class Meta:
        ordering = ["created_date", "id"]
        indexes = [models.Index(fields=["thread", "created_date", "id"], name="message_thread_created")]

    @property
    def author_label(self) -> str:
        return PARTICIPANT_LABELS.get(Participant(self.author_type), self.author_type)


def attachment_path(instance: Attachment, filename: str) -> str:
    # Never the uploader's path: messages / shop / random token / sanitised name.
    return f"messages/{instance.shop_id}/{instance.storage_token}/{filename}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    shop_id = models.BigIntegerField(db_index=True)  # M13 looks attachments up per shop
    file = models.FileField(storage=documents_storage, upload_to=attachment_path, max_length=400)
    storage_token = models.CharField(max_length=32)
    name = models.CharField(max_length=200)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=50)

    class Meta:
        ordering = ["id"]


class ThreadRead(models.Model):
    """One participant's read state of one thread: messages for it since it last read, and when it read."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="reads")
    participant = models.CharField(max_length=16, choices=PARTICIPANT_CHOICES)
    unread_count = models.PositiveIntegerField(default=0)
    last_read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["thread", "participant"], name="thread_read_unique")]
        indexes = [models.Index(fields=["participant", "unread_count"], name="thread_read_unread",
                                condition=models.Q(unread_count__gt=0))]
