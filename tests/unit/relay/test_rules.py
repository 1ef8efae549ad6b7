"""The relay's rules, pure: realistic French mails allowed, forbidden ones blocked by the rule the guide names,
the excerpt cut from the text as written; folding, HTML, quotes, links, replies, expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from comptoir.relay import rules
from comptoir.relay.rules import Context, Verdict, classify, fold, html_to_text, strip_known_quotes
from tests.unit.relay.examples import ALLOWED, FORBIDDEN, SHOP_NAME, SHOP_SENDER

SELLER = Context(sender=SHOP_SENDER, shop_name=SHOP_NAME, allowed_hosts=frozenset({"marche-demo.test"}))


@pytest.mark.parametrize("example", ALLOWED, ids=[e.name for e in ALLOWED])
def test_an_ordinary_mail_to_the_customer_is_allowed(example) -> None:  # type: ignore[no-untyped-def]
    result = classify(example.subject, example.body, SELLER)

    assert result.verdict == Verdict.ALLOWED, result.match
    assert result.match is None


@pytest.mark.parametrize("example", FORBIDDEN, ids=[e.name for e in FORBIDDEN])
def test_a_forbidden_mail_is_blocked_by_its_rule_with_the_excerpt(example) -> None:  # type: ignore[no-untyped-def]
    result = classify(example.subject, example.body, SELLER)

    assert result.verdict == Verdict.BLOCKED
    assert result.match is not None
    assert result.match.rule_id == example.rule_id, result.match
    assert result.match.label == rules.RULES_BY_ID[example.rule_id].label
    assert example.excerpt_contains in result.match.excerpt  # as written: accents and case kept


def test_every_rule_of_the_table_is_exercised_by_an_example() -> None:
    tested = {e.rule_id for e in FORBIDDEN} | {"ad.bulk"}  # the bulk rule has its own test below

    assert tested == set(rules.RULES_BY_ID)


def test_the_rules_table_has_unique_ids_and_french_labels() -> None:
    assert len(rules.RULES_BY_ID) == len(rules.RULES)
    assert all(rule.label and rule.label[0].isupper() for rule in rules.RULES)


def test_folding_drops_case_accents_and_typography_and_keeps_the_way_back() -> None:
    folded = fold("Laissez\u00a0NOUS un « avis » – Cœur, été\u202f!")

    assert folded.text == 'laissez nous un " avis " - coeur, ete !'
    start = folded.text.index("coeur")
    assert folded.excerpt(start, start + 5, width=0) == "…Cœur,…"


def test_an_excerpt_is_cut_around_the_match_on_word_boundaries() -> None:
    text = "Bonjour, " + "nous avons bien expédié votre table. " * 5 + "Laissez-nous un avis ! " + "Merci. " * 20
    result = classify("Objet", text, SELLER)

    assert result.match is not None and result.match.rule_id == "review.request"
    excerpt = result.match.excerpt
    assert "Laissez-nous un avis" in excerpt
    assert excerpt.startswith("…") and excerpt.endswith("…") and len(excerpt) < 250


def test_html_mail_is_judged_on_its_text_and_its_hidden_links() -> None:
    html = ('<html><head><style>p{color:red}</style></head><body><p>Bonjour,</p>'
            '<p>Pour la notice, <a href="https://atelier-lumiere.fr/notices/orion.pdf">cliquez ici</a>.</p>'
            '<script>var avis = "laissez-nous un avis";</script></body></html>')

    text = html_to_text(html)
    result = classify("Notice", text, SELLER)

    assert "color" not in text and "laissez" not in text
    assert text.splitlines()[0] == "Bonjour,"
    assert result.match is not None and result.match.rule_id == "ad.own_site"
    assert "atelier-lumiere.fr/notices" in result.match.excerpt


def test_html_entities_and_blockquotes_become_text_and_quoted_lines() -> None:
    text = html_to_text("<p>Merci&nbsp;!</p><blockquote><p>O&ugrave; est mon colis ?</p></blockquote>")

    assert text.splitlines() == ["Merci !", "> Où est mon colis ?"]


def test_links_to_the_marketplace_carriers_and_webmail_domains_are_not_the_sellers_site() -> None:
    body = ("Le suivi : https://www.laposte.fr/outils/suivre-vos-envois?code=6A1 ; votre espace : "
            "https://marche-demo.test/client/abc ; mon adresse perso est sur www.gmail.com")
    webmail = Context(sender="atelier.lumiere@gmail.com", shop_name=SHOP_NAME,
                      allowed_hosts=frozenset({"marche-demo.test"}))

    assert classify("Suivi", body, SELLER).verdict == Verdict.ALLOWED
    assert classify("Suivi", body, webmail).verdict == Verdict.ALLOWED


def test_a_host_spelling_the_shop_name_is_the_sellers_site_even_from_a_webmail() -> None:
    webmail = Context(sender="atelier.lumiere@gmail.com", shop_name=SHOP_NAME)

    result = classify("Info", "Toute la gamme est sur www.atelierlumiere-boutique.com", webmail)

    assert result.match is not None and result.match.rule_id == "ad.own_site"


def test_a_reply_to_the_customer_may_confirm_shipping_but_never_ask_for_a_review() -> None:
    body = ("Bonjour,\n\nVotre colis a été expédié le 12 mai, voici le numéro de suivi : 6A12345678901. "
            "Il devrait arriver demain.")
    reply = Context(sender=SHOP_SENDER, shop_name=SHOP_NAME, is_reply=True)

    assert classify("Re: Où est mon colis ?", body, SELLER).verdict == Verdict.BLOCKED
    assert classify("Re: Où est mon colis ?", body, reply).verdict == Verdict.ALLOWED
    blocked = classify("Re: Où est mon colis ?", body + " Laissez-nous un avis !", reply)
    assert blocked.match is not None and blocked.match.rule_id == "review.request"


def test_a_mass_mailing_is_advertising_whatever_its_words() -> None:
    bulk = Context(sender=SHOP_SENDER, shop_name=SHOP_NAME, bulk=True)

    result = classify("Nouvelles de l'atelier", "Bonjour, quelques nouvelles de l'atelier ce mois-ci.", bulk)

    assert result.match is not None and result.match.rule_id == "ad.bulk"


def test_every_rule_that_matched_is_reported_the_first_one_decides() -> None:
    result = classify("Merci pour votre commande", "Laissez-nous un avis et profitez de -10 % avec le code MERCI10.",
                      SELLER)

    assert result.match is not None and result.match.rule_id == "review.request"
    assert [m.rule_id for m in result.others] == ["ad.promo_code", "ad.discount",
                                                  "transactional.order_confirmation"]


def test_quoted_lines_of_the_customers_own_message_are_not_judged() -> None:
    customer = "Bonjour, j'ai reçu la confirmation de commande mais pas de numéro de suivi. Merci pour votre aide."
    answer = ("Bonjour, le colis part demain, le suivi suivra.\n\n"
              "Le 3 mai, Jeanne a écrit :\n> Bonjour, j'ai reçu la confirmation de commande mais pas de numéro\n"
              "> de suivi. Merci pour votre aide.")

    kept = strip_known_quotes(answer, [customer])

    assert "confirmation de commande" not in kept
    assert classify("Re: suivi", kept, SELLER).verdict == Verdict.ALLOWED
    assert classify("Re: suivi", answer, SELLER).verdict == Verdict.BLOCKED


def test_a_quoted_line_the_customer_never_wrote_is_judged() -> None:
    answer = "Bonjour, voir ci-dessous.\n> Profitez de -30 % avec le code ETE30"

    kept = strip_known_quotes(answer, ["Bonjour, où en est ma commande ?"])

    assert classify("Re: commande", kept, SELLER).verdict == Verdict.BLOCKED


def test_an_address_works_until_the_expiry_delay_after_the_order_ended() -> None:
    ended = datetime(2026, 1, 10, 12, tzinfo=UTC)

    assert not rules.address_expired(ended_at=None, now=ended + timedelta(days=900), expiry_days=90)
    assert not rules.address_expired(ended_at=ended, now=ended + timedelta(days=90), expiry_days=90)
    assert rules.address_expired(ended_at=ended, now=ended + timedelta(days=90, seconds=1), expiry_days=90)


def test_smtp_answers_are_ascii() -> None:
    assert rules.smtp_text("Doublon de la confirmation d'expédition — « règle »") == \
        "Doublon de la confirmation d'expedition - \" regle \""
