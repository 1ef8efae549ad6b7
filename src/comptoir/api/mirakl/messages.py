"""Mirakl seller API for order conversations: OR43 (open a thread on an order), M11 (list threads, seek
pagination), M10 (one thread), M12 (reply), M13 (download an attachment). Multipart as real clients send it:
the JSON part (`thread_input` / `message_input`) as a form field or a file part, with or without a content type.
The guide's language rule is the back office's warning: the API never blocks a message for its language.
Thin: messaging services and queries."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from pydantic import Field

from comptoir.api.openapi import DATE_TIME, integer, omitted, one_of, parameters, values
from comptoir.api.render import (
    check_text,
    iso,
    json_response,
    parse_bool,
    parse_instant,
    parse_int,
    parse_list,
)
from comptoir.core.errors import ValidationError
from comptoir.documents.rules import KINDS
from comptoir.messaging import queries, services
from comptoir.messaging.errors import AttachmentNotFound, ThreadNotFound
from comptoir.messaging.models import Message, Thread
from comptoir.messaging.rules import Participant, visible_to

router = Router(tags=["Messages"])

MAX_JSON_BYTES = 256 * 1024
MAX_LIMIT = 100
DEFAULT_LIMIT = 50
MESSAGES_IN_LIST = 100
_LANGUAGE_NOTE = ("The seller guide wants messages to customers in French (English if the customer wrote "
                  "English): the seller back office warns before sending; the API does not block, the "
                  "connector decides.")


def _shop(request: HttpRequest) -> Any:
    return request.shop  # type: ignore[attr-defined]


_RECIPIENT = {"type": "string", "enum": [Participant.CUSTOMER.value, Participant.OPERATOR.value]}
_THREAD_INPUT = {"body": {"type": "string", "minLength": 1}, "to": {"type": "array", "items": _RECIPIENT},
                 "topic": {"type": "object", "properties": {"type": {"type": "string", "enum": ["FREE_TEXT"]},
                                                            "value": {"type": "string", "minLength": 1}}}}
_MESSAGE_INPUT = {"body": {"type": "string", "minLength": 1}, "to": {"type": "array", "items": {
    "type": "object", "required": ["type"], "properties": {"type": _RECIPIENT}}}}


def _multipart(part: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The request body OpenAPI shows for OR43 and M12 (the views read the parts themselves): the JSON part
    (a form field or a file part) and the files."""
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {
        "schema": {"type": "object", "required": [part], "properties": {
            part: {"type": "object", "required": ["body"], "properties": fields},
            "files": {"type": "array", "items": {"type": "string", "format": "binary"}}}},
        "encoding": {part: {"contentType": "application/json"}}}}}}


# --- response schemas (documentation: the views render their JSON themselves) -------------------------------


class ParticipantOut(Schema):
    id: str = omitted("The customer's or the shop's id; absent for the operator")
    type: str
    display_name: str


class OrganizationDetails(Schema):
    id: str | None
    type: str
    display_name: str


class SenderOut(Schema):
    type: str
    display_name: str
    organization_details: OrganizationDetails


class AttachmentOut(Schema):
    id: str
    name: str
    size: int


class MessageOut(Schema):
    id: str
    body: str
    date_created: str
    from_: SenderOut = Field(alias="from")
    to: list[ParticipantOut]
    attachments: list[AttachmentOut]


class TopicOut(Schema):
    type: str
    value: str


class EntityOut(Schema):
    id: str
    type: str
    label: str


class ThreadMetadata(Schema):
    last_message_date: str | None
    last_sender: SenderOut
    shop_reply_needed_since: str | None
    total_count: int


class ThreadOut(Schema):
    id: str
    topic: TopicOut
    entities: list[EntityOut]
    authorized_participants: list[ParticipantOut]
    current_participants: list[ParticipantOut]
    customer_organization: None
    date_created: str
    date_updated: str
    metadata: ThreadMetadata
    no_store_reply_needed: list[Any]
    messages: list[MessageOut] = omitted("The messages the shop may read (M11: only with `with_messages`)")


class ThreadPage(Schema):
    data: list[ThreadOut]
    next_page_token: str = omitted("Absent on the last page.")
    previous_page_token: str = omitted("Absent on the first page.")


class MessageCreated(Schema):
    thread_id: str
    message_id: str


ATTACHMENT_RESPONSES = {"responses": {200: {"description": "The attachment's file.", "content": {
    kind.content_type: {"schema": {"type": "string", "format": "binary"}} for kind in KINDS}}}}


def _participant(thread: Thread, kind: str) -> dict[str, Any]:
    order = thread.order
    if kind == Participant.CUSTOMER:
        name = f"{order.customer_firstname} {order.customer_lastname}".strip()
        return {"id": order.customer_id, "type": kind, "display_name": name}
    if kind == Participant.SHOP:
        return {"id": str(thread.shop_id), "type": kind, "display_name": _shop_name(thread)}
    return {"type": kind, "display_name": settings.COMPTOIR["OPERATOR_NAME"]}  # no id for the operator


def _shop_name(thread: Thread) -> str:
    return str(thread.order.shop.name)


def _sender(thread: Thread, kind: str, name: str) -> dict[str, Any]:
    who = _participant(thread, kind)
    details = {"id": who.get("id"), "type": kind, "display_name": who["display_name"]}
    return {"type": kind, "display_name": name or who["display_name"], "organization_details": details}


def message_json(thread: Thread, message: Message) -> dict[str, Any]:
    return {
        "id": str(message.pk), "body": message.body, "date_created": iso(message.created_date),
        "from": _sender(thread, message.author_type, message.author_name),
        "to": [_participant(thread, kind) for kind in message.recipients],
        "attachments": [{"id": str(a.pk), "name": a.name, "size": a.size} for a in message.attachments.all()],
    }


def thread_json(thread: Thread, *, with_messages: bool = True, last: int | None = None) -> dict[str, Any]:
    visible = [m for m in thread.messages.all() if visible_to(Participant.SHOP, m.author_type, m.recipients)] \
        if with_messages else []
    if last is not None:
        visible = visible[-last:]
    writers = sorted({m.author_type for m in thread.messages.all()}) if with_messages else [thread.last_sender_type]
    body: dict[str, Any] = {
        "id": thread.thread_id,
        "topic": {"type": thread.topic_type, "value": thread.topic_value},
        "entities": [{"id": thread.order.order_id, "type": "MMP_ORDER", "label": thread.order.order_id}],
        "authorized_participants": [_participant(thread, kind) for kind in thread.participants],
        "current_participants": [_participant(thread, kind) for kind in writers],
        "customer_organization": None,
        "date_created": iso(thread.created_date), "date_updated": iso(thread.updated_date),
        "metadata": {
            "last_message_date": iso(thread.last_message_date),
            "last_sender": _sender(thread, thread.last_sender_type, thread.last_sender_name),
            "shop_reply_needed_since": iso(thread.shop_reply_needed_since),
            "total_count": thread.message_count,
        },
        "no_store_reply_needed": [],
    }
    if with_messages:
        body["messages"] = [message_json(thread, m) for m in visible]
    return body


def _json_part(request: HttpRequest, name: str) -> dict[str, Any]:
    """The JSON part as a form field or a file part; its content type is never trusted (clients differ)."""
    raw: bytes | str | None = request.POST.get(name)
    if raw is None and name in request.FILES:
        raw = request.FILES[name].read(MAX_JSON_BYTES + 1)
    if raw is None or not str(raw).strip():
        raise ValidationError(f"Partie {name} manquante (JSON du message).", field=name)
    data = raw.encode() if isinstance(raw, str) else raw
    if len(data) > MAX_JSON_BYTES:
        raise ValidationError(f"Partie {name} trop volumineuse.", field=name)
    try:
        parsed = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise ValidationError(f"{name} : JSON invalide.", field=name) from None
    if not isinstance(parsed, dict):
        raise ValidationError(f"{name} : objet JSON attendu.", field=name)
    check_text(parsed, f"Partie {name}")
    return parsed


def _recipients(raw: Any) -> list[str] | None:
    """`to`: ["CUSTOMER", "OPERATOR"] (OR43) or [{"type": "CUSTOMER", "id"?}] (M12); absent → the default."""
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise ValidationError("to : liste de destinataires attendue.", field="to")
    types = []
    for item in raw:
        value = item.get("type") if isinstance(item, dict) else item
        if not isinstance(value, str):
            raise ValidationError("to : destinataire invalide.", field="to")
        types.append(value)
    return types


def _topic(raw: Any) -> tuple[str | None, str | None]:
    if raw is None:
        return None, None
    if not isinstance(raw, dict):
        raise ValidationError("topic : objet {type, value} attendu.", field="topic")
    return (str(raw["type"]) if raw.get("type") is not None else None,
            str(raw["value"]) if raw.get("value") is not None else None)


def _body(payload: dict[str, Any]) -> str:
    body = payload.get("body")
    if body is not None and not isinstance(body, str):
        raise ValidationError("body : texte attendu.", field="body")
    return body or ""


def _files(request: HttpRequest) -> list[services.File]:
    """Each `files` part; never more than the limit plus one byte is read (the size check refuses the rest)."""
    limit = services.max_bytes()
    found = []
    for upload in [*request.FILES.getlist("files"), *request.FILES.getlist("files[]")]:
        data = upload.read(limit + 1) if (upload.size or 0) <= limit else b""
        found.append(services.File(upload.name or "", data, size=upload.size))
    return found


def _author(request: HttpRequest) -> services.Author:
    return services.Author(Participant.SHOP, _shop(request).name)


@router.post("/orders/{order_id}/threads", response={201: MessageCreated}, summary="OR43 - Create a thread on an order",
             operation_id="OR43", openapi_extra=_multipart("thread_input", _THREAD_INPUT),
             description="Multipart: `thread_input` (JSON `{\"body\", \"to\": [\"CUSTOMER\"|\"OPERATOR\"], "
                         "\"topic\": {\"type\": \"FREE_TEXT\", \"value\": \"<subject>\"}}`) and optional `files` "
                         "(PDF, JPEG or PNG checked by content, 5 MB each by default, 10 per message). Allowed in "
                         "every order state, STAGING included. " + _LANGUAGE_NOTE)
def create_thread(request: HttpRequest, order_id: str) -> HttpResponse:
    payload = _json_part(request, "thread_input")
    topic_type, topic_value = _topic(payload.get("topic"))
    thread, message = services.start_thread(
        order_id=order_id, shop_id=_shop(request).id, author=_author(request), body=_body(payload),
        to=_recipients(payload.get("to")), topic_type=topic_type, topic_value=topic_value, files=_files(request))
    return json_response({"thread_id": thread.thread_id, "message_id": str(message.pk)}, 201)


@router.post("/inbox/threads/{thread_id}/message", response={201: MessageCreated}, summary="M12 - Reply to a thread",
             operation_id="M12", openapi_extra=_multipart("message_input", _MESSAGE_INPUT),
             description="Multipart: `message_input` (JSON `{\"body\", \"to\": [{\"type\": \"CUSTOMER\"|"
                         "\"OPERATOR\"}]}`; `to` defaults to the customer when in the thread) and optional "
                         "`files`. A thread of another shop is a 404. " + _LANGUAGE_NOTE)
def reply(request: HttpRequest, thread_id: str) -> HttpResponse:
    payload = _json_part(request, "message_input")
    message = services.reply(thread_id=thread_id, shop_id=_shop(request).id, author=_author(request),
                             body=_body(payload), to=_recipients(payload.get("to")), files=_files(request))
    return json_response({"thread_id": str(message.thread_id), "message_id": str(message.pk)}, 201)


def _encode(kind: str, thread: Thread) -> str:
    raw = json.dumps({"k": kind, "d": thread.last_message_date.isoformat(), "i": thread.pk}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(token: str) -> queries.Seek:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        position = (datetime.fromisoformat(data["d"]), int(data["i"]))
        kind = data["k"]
    except (ValueError, KeyError, TypeError):
        raise ValidationError("Paramètre page_token invalide.", field="page_token") from None
    if kind not in ("n", "p"):
        raise ValidationError("Paramètre page_token invalide.", field="page_token")
    return queries.Seek(after=position) if kind == "n" else queries.Seek(before=position)


@router.get("/inbox/threads", response=ThreadPage, summary="M11 - List threads", operation_id="M11", by_alias=True,
            openapi_extra=parameters(entity_type=one_of("MMP_ORDER"), entity_id=values(max_items=MAX_LIMIT),
                                     updated_since=DATE_TIME, with_messages={"type": "boolean"},
                                     limit=integer(1, MAX_LIMIT), page_token={"type": "string"}),
            description="Filters `entity_type` (MMP_ORDER) and `entity_id` (order ids, csv or repeated; needs "
                        "entity_type), `updated_since`, `with_messages` (the last 100 messages of each thread). "
                        "Seek pagination: `limit` (default 50, at most 100), `page_token`; newest first.")
def list_threads(request: HttpRequest) -> HttpResponse:
    entity_type = (request.GET.get("entity_type") or "").strip().upper()
    entity_ids = parse_list(request, "entity_id")
    if entity_ids and not entity_type:
        raise ValidationError("Paramètre entity_id : indiquez aussi entity_type.", field="entity_type")
    if len(entity_ids) > MAX_LIMIT:
        raise ValidationError(f"Paramètre entity_id : {MAX_LIMIT} valeurs au plus.", field="entity_id")
    limit = parse_int(request.GET.get("limit"), "limit", default=DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
    with_messages = bool(parse_bool(request.GET.get("with_messages"), "with_messages"))
    updated_since = parse_instant(request.GET.get("updated_since"), "updated_since")
    token = request.GET.get("page_token")
    if entity_type and entity_type != "MMP_ORDER":
        return json_response({"data": []})  # only order threads exist here
    threads, has_next, has_previous = queries.shop_threads_page(
        _shop(request).id, order_ids=entity_ids, updated_since=updated_since,
        seek=_decode(token) if token else queries.Seek(), limit=limit, with_messages=with_messages)
    body: dict[str, Any] = {"data": [thread_json(t, with_messages=with_messages, last=MESSAGES_IN_LIST)
                                     for t in threads]}
    if has_next and threads:
        body["next_page_token"] = _encode("n", threads[-1])
    if has_previous and threads:
        body["previous_page_token"] = _encode("p", threads[0])
    return json_response(body)


@router.get("/inbox/threads/{thread_id}", response=ThreadOut, summary="M10 - Get a thread", operation_id="M10",
            by_alias=True)
def get_thread(request: HttpRequest, thread_id: str) -> HttpResponse:
    thread = queries.shop_thread(_shop(request).id, thread_id)
    if thread is None:
        raise ThreadNotFound(f"Conversation {thread_id} introuvable.")
    return json_response(thread_json(thread))


@router.get("/inbox/threads/{attachment_id}/download", summary="M13 - Download an attachment",
            operation_id="M13", openapi_extra=ATTACHMENT_RESPONSES)
def download(request: HttpRequest, attachment_id: str) -> HttpResponse:
    attachment = queries.shop_attachment(_shop(request).id, attachment_id)
    if attachment is None or not visible_to(Participant.SHOP, attachment.message.author_type,
                                            attachment.message.recipients):
        raise AttachmentNotFound(f"Pièce jointe {attachment_id} introuvable.")
    response = HttpResponse(queries.read_bytes(attachment), content_type=attachment.content_type)
    response["Content-Disposition"] = f'attachment; filename="{attachment.name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
