"""The pure rules of conversations: the guide's language rule, message contents, recipients, visibility."""

from __future__ import annotations

import pytest

from comptoir.messaging import language
from comptoir.messaging.errors import MessageEmpty, MessageInvalid, MessageTooLong
from comptoir.messaging.rules import (
    MAX_BODY_LENGTH,
    Participant,
    TopicType,
    check_body,
    check_recipients,
    check_topic,
    default_recipients,
    needs_language_warning,
    visible_to,
)

FRENCH = "Bonjour, votre colis est parti ce matin avec Colissimo, vous le recevrez demain."
ENGLISH = "Hello, your parcel left this morning and should arrive tomorrow."
SPANISH = "Hola, su paquete salió esta mañana y llegará mañana por la tarde."
GERMAN = "Hallo, Ihr Paket ist heute Morgen verschickt worden und kommt morgen an."


@pytest.mark.parametrize(("text", "expected"), [(FRENCH, "fr"), (ENGLISH, "en"), (SPANISH, "es"), (GERMAN, "de")])
def test_detects_the_language_of_a_real_sentence(text: str, expected: str) -> None:
    assert language.detect(text) == expected


@pytest.mark.parametrize("text", ["OK", "Merci", "Ok merci", "Hello", "SKU-123 ABC", "👍", "", "   "])
def test_a_text_too_short_to_tell_is_undetermined(text: str) -> None:
    assert language.detect(text) is None


def test_a_french_answer_never_warns() -> None:
    assert needs_language_warning(FRENCH, set()) is False
    assert needs_language_warning(FRENCH, {"en"}) is False


def test_an_english_answer_to_a_french_customer_warns() -> None:
    assert needs_language_warning(ENGLISH, {"fr"}) is True


def test_an_english_answer_without_any_customer_message_warns() -> None:
    assert needs_language_warning(ENGLISH, set()) is True


def test_an_english_answer_to_a_customer_who_wrote_english_does_not_warn() -> None:
    assert needs_language_warning(ENGLISH, {"en"}) is False
    assert needs_language_warning(ENGLISH, {"fr", "en"}) is False


@pytest.mark.parametrize("text", [SPANISH, GERMAN])
def test_another_language_warns_even_to_an_english_customer(text: str) -> None:
    assert needs_language_warning(text, {"en"}) is True


def test_a_spanish_answer_to_a_spanish_customer_still_warns_the_guide_allows_only_english() -> None:
    assert needs_language_warning(SPANISH, {"es"}) is True


@pytest.mark.parametrize("text", ["OK", "Merci !", "Thanks", "Colis 6A123456789"])
def test_a_short_ambiguous_answer_does_not_warn(text: str) -> None:
    assert needs_language_warning(text, {"fr"}) is False


def test_customer_languages_may_contain_undetermined_entries() -> None:
    assert needs_language_warning(ENGLISH, [None, "en"]) is False


def test_body_is_stripped_and_must_not_be_empty() -> None:
    assert check_body("  Bonjour  ") == "Bonjour"
    with pytest.raises(MessageEmpty):
        check_body("   \n ")
    with pytest.raises(MessageEmpty):
        check_body(None)
    with pytest.raises(MessageTooLong):
        check_body("a" * (MAX_BODY_LENGTH + 1))


def test_topic_defaults_to_free_text_with_a_subject() -> None:
    assert check_topic(None, None) == (TopicType.FREE_TEXT, "Question sur la commande")
    assert check_topic("reason_code", " 12 ") == (TopicType.REASON_CODE, "12")
    with pytest.raises(MessageInvalid):
        check_topic("EMAIL", "x")


def test_recipients_exclude_the_author_and_reject_unknown_types() -> None:
    assert check_recipients(Participant.SHOP, ["customer", "OPERATOR", "SHOP"]) == {Participant.CUSTOMER,
                                                                                  Participant.OPERATOR}
    with pytest.raises(MessageInvalid):
        check_recipients(Participant.SHOP, ["SHOP"])
    with pytest.raises(MessageInvalid):
        check_recipients(Participant.SHOP, ["SUPPLIER"])


def test_default_recipients_pair_the_customer_and_the_seller() -> None:
    assert default_recipients(Participant.CUSTOMER) == {Participant.SHOP}
    assert default_recipients(Participant.SHOP) == {Participant.CUSTOMER}


def test_the_operator_reads_everything_the_others_their_own_messages() -> None:
    assert visible_to(Participant.OPERATOR, "SHOP", ["CUSTOMER"])
    assert visible_to(Participant.SHOP, "SHOP", ["OPERATOR"])
    assert visible_to(Participant.CUSTOMER, "SHOP", ["CUSTOMER"])
    assert not visible_to(Participant.CUSTOMER, "SHOP", ["OPERATOR"])
