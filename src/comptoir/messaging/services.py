"""Conversation use cases: start a thread on an order (seller, customer, operator), reply, mark read. Each write
locks the order (shop, then order, then thread: the codebase's lock order), checks and stores the attachments,
moves every other participant's unread count, sets `Order.has_customer_message` with a targeted update, and
writes the outbox event in the same transaction. Messages are allowed in every order state, STAGING included."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F

from comptoir.core import clock
from comptoir.core.errors import ComptoirError
from comptoir.core.ids import parse_id
from comptoir.documents import rules as file_rules
from comptoir.documents.storage import discard
from comptoir.messaging import language, rules
from comptoir.messaging.errors import AttachmentRefused, AttachmentTooLarge, MessageInvalid, ThreadNotFound
from comptoir.messaging.models import Attachment, Message, Thread, ThreadRead
from comptoir.messaging.rules import Participant
from comptoir.notifications import services as notification_services
from comptoir.orders.events import OrderEvent
from comptoir.orders.models import Order
from comptoir.orders.services.lifecycle import calendar, lock_order
from comptoir.orders.states import FlagTimerKind
from comptoir.timers import services as timer_services

# Who hears of a new message, by author (the operator reads its board; it gets no mail per message).
_EVENTS = {Participant.CUSTOMER: "CustomerMessageReceived", Participant.SHOP: "SellerMessageReceived"}
_TOLD = {"CustomerMessageReceived": Participant.SHOP, "SellerMessageReceived": Participant.CUSTOMER}


@dataclass(frozen=True, slots=True)
class Author:
    type: Participant
    name: str = ""


@dataclass(frozen=True, slots=True)
class File:
    name: str
    data: bytes
    size: int | None = None  # as announced by the upload, checked before reading when known


@dataclass(frozen=True, slots=True)
class _Checked:
    name: str
    data: bytes
    content_type: str


def max_bytes() -> int:
    return int(settings.COMPTOIR.get("MESSAGE_ATTACHMENT_MAX_BYTES", rules.DEFAULT_ATTACHMENT_MAX_BYTES))


def check_files(files: Sequence[File]) -> list[_Checked]:
    """Every file checked (size, then type by content: PDF, JPEG, PNG) before anything is written."""
    if len(files) > rules.MAX_ATTACHMENTS:
        raise AttachmentRefused(f"{rules.MAX_ATTACHMENTS} pièces jointes au plus par message.", field="files")
    limit, checked = max_bytes(), []
    for item in files:
        try:
            file_rules.check_size(item.size if item.size is not None else len(item.data), limit, item.name)
            file_rules.check_size(len(item.data), limit, item.name)
        except ComptoirError as exc:
            raise AttachmentTooLarge(exc.message, field="files") from None
        try:
            kind = file_rules.check_content(item.data[:1024], item.name)
        except ComptoirError as exc:
            raise AttachmentRefused(exc.message, field="files") from None
        checked.append(_Checked(file_rules.sanitize_file_name(item.name, kind), item.data, kind.content_type))
    return checked


def _recipients(author: Author, to: Iterable[str] | None, participants: Iterable[str]) -> frozenset[Participant]:
    chosen = rules.default_recipients(author.type) if to is None else rules.check_recipients(author.type, to)
    allowed = set(participants)
    outside = [p for p in chosen if p not in allowed]
    if outside:
        raise MessageInvalid(f"Destinataire absent de la conversation : {', '.join(sorted(outside))}.", field="to")
    return chosen


def _default_to(author: Participant, participants: Iterable[str]) -> frozenset[Participant]:
    """Without `to`: the usual correspondent when in the thread (customer ↔ seller), else every other member."""
    members = {Participant(p) for p in participants}
    preferred = rules.default_recipients(author) & members
    return preferred or frozenset(members - {author})


def _post(order: Order, thread: Thread, author: Author, body: str, recipients: frozenset[Participant],
          files: list[_Checked], written: list[str]) -> Message:
    now = clock.now()
    message = Message.objects.create(
        thread=thread, author_type=author.type.value, author_name=author.name[:200],
        recipients=sorted(r.value for r in recipients), body=body, language=language.detect(body) or "",
        created_date=now)
    for item in files:
        attachment = Attachment(message=message, shop_id=order.shop_id, storage_token=uuid.uuid4().hex,
                                name=item.name, size=len(item.data), content_type=item.content_type)
        attachment.file.save(item.name, ContentFile(item.data), save=False)
        written.append(attachment.file.name)
        attachment.save()
    waiting_before = thread.shop_reply_needed_since
    reply_needed = waiting_before
    if author.type == Participant.CUSTOMER and Participant.SHOP in recipients:
        reply_needed = reply_needed or now
    elif author.type == Participant.SHOP:
        reply_needed = None
    clock_fields = {} if reply_needed else {"reply_reminded_at": None, "reply_escalated_at": None}
    Thread.objects.filter(pk=thread.pk).update(
        last_message_date=now, updated_date=now, last_sender_type=author.type.value,
        last_sender_name=author.name[:200], last_excerpt=body[:200], shop_reply_needed_since=reply_needed,
        message_count=F("message_count") + 1, **clock_fields)
    thread.last_message_date = thread.updated_date = now
    thread.shop_reply_needed_since = reply_needed
    if reply_needed != waiting_before:
        schedule_reply_timer(order.pk)
    ThreadRead.objects.filter(thread=thread, participant__in=[r.value for r in recipients]).update(
        unread_count=F("unread_count") + 1)
    ThreadRead.objects.filter(thread=thread, participant=author.type.value).update(unread_count=0,
                                                                                  last_read_at=now)
    if author.type == Participant.CUSTOMER and not order.has_customer_message:
        # A targeted update, never a save of the order (OR11's has_customer_message).
        Order.objects.filter(pk=order.pk).update(has_customer_message=True, last_updated_date=now)
        order.has_customer_message = True
    event = _EVENTS.get(author.type)
    if event and _TOLD[event] in recipients:
        notification_services.record_events([OrderEvent(event, order.order_id, order.shop_id, now, {
            "thread_id": thread.thread_id, "message_id": str(message.pk), "topic": thread.topic_value,
            "excerpt": body[:300]})])
    return message


def schedule_reply_timer(order_pk: int) -> None:
    """The order's CUSTOMER_REPLY timer at the next step of the customer-service clock over its threads (48
    business hours: reminder; 72: incident), or none when no customer waits for the seller."""
    cal = calendar()
    remind = int(settings.COMPTOIR.get("REPLY_REMINDER_BUSINESS_HOURS", rules.REMINDER_BUSINESS_HOURS))
    escalate = int(settings.COMPTOIR.get("REPLY_ESCALATION_BUSINESS_HOURS", rules.ESCALATION_BUSINESS_HOURS))
    steps = [rules.next_reply_step(since, reminded, escalated, cal.add_business_hours, remind_hours=remind,
                                   escalate_hours=escalate)
             for since, reminded, escalated in Thread.objects.filter(
                 order_id=order_pk, shop_reply_needed_since__isnull=False, reply_escalated_at__isnull=True)
             .values_list("shop_reply_needed_since", "reply_reminded_at", "reply_escalated_at")]
    due = min((step.due_at for step in steps if step is not None), default=None)
    if due is None:
        timer_services.cancel(order_pk=order_pk, kinds=[FlagTimerKind.CUSTOMER_REPLY])
    else:
        timer_services.schedule(order_pk=order_pk, kind=FlagTimerKind.CUSTOMER_REPLY, due_at=due)


def start_thread(*, order_id: str, author: Author, body: str, shop_id: int | None = None,
                 to: Iterable[str] | None = None, topic_type: str | None = None, topic_value: str | None = None,
                 files: Sequence[File] = ()) -> tuple[Thread, Message]:
    """A new conversation on the order (OR43, « Démarrer une conversation », the customer space). With
    `shop_id`, an order of another shop is not found. The thread's participants: its author and recipients."""
    text = rules.check_body(body)
    kind, subject = rules.check_topic(topic_type, topic_value)
    recipients = _recipients(author, to, [p.value for p in Participant])
    checked = check_files(files)
    written: list[str] = []
    try:
        with transaction.atomic():
            order = lock_order(order_id, shop_id=shop_id)
            now = clock.now()
            members = sorted({author.type.value, *(r.value for r in recipients), Participant.OPERATOR.value})
            thread = Thread.objects.create(
                order=order, shop_id=order.shop_id, topic_type=kind.value, topic_value=subject,
                participants=members, created_date=now, updated_date=now, last_message_date=now,
                last_sender_type=author.type.value, last_sender_name=author.name[:200])
            ThreadRead.objects.bulk_create([ThreadRead(thread=thread, participant=p) for p in members])
            message = _post(order, thread, author, text, recipients, checked, written)
    except BaseException:
        discard(written)
        raise
    return thread, message


def reply(*, thread_id: int | str, author: Author, body: str, shop_id: int | None = None,
          order_id: str | None = None, to: Iterable[str] | None = None,
          files: Sequence[File] = ()) -> Message:
    """A message in an existing thread (M12, the back office, the customer space). `shop_id` / `order_id` scope
    the lookup: a thread of another shop or order is not found. The author must be a participant."""
    text = rules.check_body(body)
    checked = check_files(files)
    found = _scoped(thread_id, shop_id=shop_id, order_id=order_id).values_list("order__order_id", flat=True).first()
    if found is None:
        raise ThreadNotFound(f"Conversation {thread_id} introuvable.")
    written: list[str] = []
    try:
        with transaction.atomic():
            order = lock_order(found)
            thread = Thread.objects.select_for_update().get(pk=int(thread_id))
            if author.type.value not in thread.participants:
                raise ThreadNotFound(f"Conversation {thread_id} introuvable.")
            recipients = (_recipients(author, to, thread.participants) if to is not None
                          else _default_to(author.type, thread.participants))
            message = _post(order, thread, author, text, recipients, checked, written)
    except BaseException:
        discard(written)
        raise
    return message


def _scoped(thread_id: int | str, *, shop_id: int | None, order_id: str | None):  # type: ignore[no-untyped-def]
    if parse_id(thread_id) is None:
        return Thread.objects.none()
    query = Thread.objects.filter(pk=int(thread_id))
    if shop_id is not None:
        query = query.filter(shop_id=shop_id)
    if order_id is not None:
        query = query.filter(order__order_id=order_id)
    return query


def mark_read(*, thread_id: int | str, participant: Participant, shop_id: int | None = None,
              order_id: str | None = None) -> bool:
    """The participant has read the thread; False when nothing was unread (nothing written then)."""
    thread = _scoped(thread_id, shop_id=shop_id, order_id=order_id).first()
    if thread is None:
        raise ThreadNotFound(f"Conversation {thread_id} introuvable.")
    return bool(ThreadRead.objects.filter(thread=thread, participant=participant.value, unread_count__gt=0)
                .update(unread_count=0, last_read_at=clock.now()))


def mark_order_read(*, order_pk: int, participant: Participant) -> int:
    """Every thread of the order read by the participant (opening the order's messages)."""
    return ThreadRead.objects.filter(thread__order_id=order_pk, participant=participant.value,
                                     unread_count__gt=0).update(unread_count=0, last_read_at=clock.now())
