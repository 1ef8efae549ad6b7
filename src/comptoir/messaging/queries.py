"""Every read of conversations the surfaces need: the seller's inbox (all, unread) and its home counters, one
order's threads as a participant sees them, the API's seek-paginated list, attachments, and the languages the
customer wrote in (for the language rule)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from comptoir.core.ids import parse_id
from comptoir.messaging.models import Attachment, Message, Thread, ThreadRead
from comptoir.messaging.rules import Participant, visible_to


def _unread_of(participant: Participant) -> Subquery:
    return Subquery(ThreadRead.objects.filter(thread_id=OuterRef("pk"), participant=participant.value)
                    .values("unread_count")[:1])


def _with_messages(query: QuerySet[Thread]) -> QuerySet[Thread]:
    return query.prefetch_related(Prefetch("messages", queryset=Message.objects.prefetch_related("attachments")
                                           .order_by("created_date", "id")))


def shop_inbox(shop_id: int, *, unread_only: bool = False) -> QuerySet[Thread]:
    """The seller's « Messages » page: threads newest first, each with `unread` (the shop's unread count)."""
    query = (Thread.objects.filter(shop_id=shop_id).select_related("order")
             .annotate(unread=Coalesce(_unread_of(Participant.SHOP), 0)).order_by("-last_message_date", "-id"))
    if unread_only:
        query = query.filter(unread__gt=0)
    return query


@dataclass(frozen=True, slots=True)
class UnreadCounts:
    threads: int
    messages: int


def shop_unread(shop_id: int) -> UnreadCounts:
    """The home indicator and the menu's badge: threads with unread messages for the shop, and those messages."""
    rows = ThreadRead.objects.filter(participant=Participant.SHOP.value, unread_count__gt=0, thread__shop_id=shop_id)
    total = rows.aggregate(threads=Count("id"), messages=Coalesce(Sum("unread_count"), 0))
    return UnreadCounts(int(total["threads"]), int(total["messages"]))


def order_threads(order_pk: int, viewer: Participant) -> list[Thread]:
    """The order's threads the viewer takes part in, oldest first, each with `visible` (its messages the viewer
    may read, attachments prefetched) and `unread` (the viewer's unread count)."""
    threads = list(_with_messages(Thread.objects.filter(order_id=order_pk)
                                  .annotate(unread=Coalesce(_unread_of(viewer), 0)).order_by("created_date", "id")))
    shown = []
    for thread in threads:
        if viewer.value not in thread.participants:
            continue
        thread.visible = [m for m in thread.messages.all()  # type: ignore[attr-defined]
                          if visible_to(viewer, m.author_type, m.recipients)]
        shown.append(thread)
    return shown


def shop_thread(shop_id: int, thread_id: str) -> Thread | None:
    """One thread of the shop with its messages (M10); None for an unknown thread or another shop's."""
    if parse_id(thread_id) is None:
        return None
    return _with_messages(Thread.objects.filter(pk=int(thread_id), shop_id=shop_id)
                          .select_related("order__shop")).first()


@dataclass(frozen=True, slots=True)
class Seek:
    """A page of threads after (or before) a (last_message_date, id) position, newest first."""

    after: tuple[datetime, int] | None = None
    before: tuple[datetime, int] | None = None


def shop_threads_page(shop_id: int, *, order_ids: Sequence[str] = (), updated_since: datetime | None = None,
                      seek: Seek = Seek(), limit: int = 50, with_messages: bool = True
                      ) -> tuple[list[Thread], bool, bool]:
    """M11: (threads, has_next, has_previous), newest first, seek-paginated on (last_message_date, id)."""
    query = Thread.objects.filter(shop_id=shop_id).select_related("order__shop")
    if order_ids:
        query = query.filter(order__order_id__in=list(order_ids))
    if updated_since is not None:
        query = query.filter(last_message_date__gte=updated_since)
    if with_messages:
        query = _with_messages(query)
    if seek.before is not None:
        instant, pk = seek.before
        older_first = query.filter(Q(last_message_date__gt=instant) | Q(last_message_date=instant, id__gt=pk))
        rows = list(older_first.order_by("last_message_date", "id")[: limit + 1])
        has_previous = len(rows) > limit
        return list(reversed(rows[:limit])), True, has_previous
    if seek.after is not None:
        instant, pk = seek.after
        query = query.filter(Q(last_message_date__lt=instant) | Q(last_message_date=instant, id__lt=pk))
    rows = list(query.order_by("-last_message_date", "-id")[: limit + 1])
    return rows[:limit], len(rows) > limit, seek.after is not None


def shop_attachment(shop_id: int, attachment_id: str) -> Attachment | None:
    if parse_id(attachment_id) is None:
        return None
    return Attachment.objects.filter(pk=int(attachment_id), shop_id=shop_id).select_related("message").first()


def order_attachment(order_pk: int, attachment_id: int) -> Attachment | None:
    return Attachment.objects.filter(pk=attachment_id, message__thread__order_id=order_pk).select_related(
        "message").first()


def read_bytes(attachment: Attachment) -> bytes:
    with attachment.file.open("rb") as handle:
        return handle.read()  # type: ignore[no-any-return]


def customer_languages(order_pk: int) -> set[str]:
    """The languages the customer wrote in on this order (the guide's exception: English to an English customer)."""
    return set(Message.objects.filter(thread__order_id=order_pk, author_type=Participant.CUSTOMER.value)
               .exclude(language="").order_by().values_list("language", flat=True).distinct())
