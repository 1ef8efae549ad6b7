"""What a seller may send a customer through the relay address (seller guide, « Communiquer avec le client »):
no review solicitation, no advertising, no duplicate of the operator's transactional mails. Pure: no Django.

The rules are a table of data; text is folded (lower case, no accents, typographic signs made plain, HTML made
text) before matching, and the excerpt shown to the operator is cut from the unfolded text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from html.parser import HTMLParser
from typing import Final
from urllib.parse import urlsplit


class Verdict(StrEnum):
    ALLOWED = "ALLOWED"
    BLOCKED = "BLOCKED"
    BOUNCED = "BOUNCED"  # refused at RCPT time (expired address, sender not registered): nothing forwarded


class Category(StrEnum):
    REVIEW = "REVIEW"
    ADVERTISING = "ADVERTISING"
    TRANSACTIONAL = "TRANSACTIONAL"


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    label: str  # French, shown to the operator and the seller, and in the SMTP answer
    category: Category
    patterns: tuple[str, ...] = ()  # any of them, on folded text
    unless: tuple[str, ...] = ()  # and none of these (the mail is about a problem, not a notification)
    # Duplicates of transactional mails are unsolicited notifications: a reply to the customer may say
    # « votre colis a été expédié, voici le suivi » when the customer asked where it is.
    applies_to_replies: bool = True
    kind: str = "text"  # "text": the patterns; "own_site": `own_shop_link`; "bulk": the mail's bulk headers


# Words of a mail about a problem: a delay notice or an apology is not a duplicate of a confirmation.
PROBLEM_WORDS: Final = (
    r"\b(retard\w*|rupture|reappro\w*|bloque\w*|enquete|perdu\w*|egare\w*|endommage\w*|abime\w*|casse\w*"
    r"|defectueu\w*|probleme\w*|incident\w*|malheureusement|desole\w*|navre\w*|excuse\w*|impossible|delay\w*"
    r"|damaged|sorry)\b",
)

RULES: Final[tuple[Rule, ...]] = (
    Rule("review.request", "Sollicitation d'avis client", Category.REVIEW, patterns=(
        # Imperatives and infinitives only: « le livreur a laissé un avis de passage » is not a request.
        r"\b(laisse[rz]|deposer|deposez|donne[rz]|partage[rz]|ecrire|ecrivez|publie[rz]|redige[rz])(-nous| nous)?"
        r" (un|une|votre|vos|des|quelques|nous un|nous votre)( \w+){0,3} (avis(?! de passage)|commentaires?"
        r"|evaluations?|temoignages?)\b",
        r"\bvotre avis (compte|nous interesse|nous est precieux|est (tres )?important|nous aide)",
        r"\bavis clients?\b", r"\bavis verifies\b", r"\bcommentaires? positifs?\b",
        r"\bnotez[- ]nous\b",
        r"\bnote[rz]? (votre|notre|cet|cette|l') ?(achat|commande|experience|boutique|vendeur|produit|article)",
        r"\bevalue[rz]? (votre (achat|commande|experience)|notre (boutique|service)|nos services|le vendeur)",
        r"\b(\d|cinq) etoiles\b", r"\b(\d|five)[- ]stars?\b",
        r"\b(leave|write|post|give)\b[^.!?\n]{0,30}\breviews?\b", r"\breviews?\b", r"\bfeedback\b",
        r"\brate (us|your (purchase|order|experience))\b",
    )),
    Rule("review.platform", "Lien vers une plateforme d'avis", Category.REVIEW, patterns=(
        r"\b(trustpilot|avis-verifies|verified-reviews|netreviews|ekomi|trustedshops|trusted shops|judge\.me"
        r"|yotpo|feefo|g\.page)\b",
        r"google\.[a-z.]+/maps", r"\bgoogle (reviews|avis)\b",
    )),
    Rule("ad.promo_code", "Publicité : code promotionnel", Category.ADVERTISING, patterns=(
        r"\bcodes? (promo|promotionnels?|de reduction|reduc|remise|avantage|privilege)\b",
        r"\b(avec|grace au|utilisez|utilisant|saisissez|entrez|en indiquant) (le |votre )?code\b(?! ?(d'|de |du |des |postal|porte|pin|secret|client|a barres))",
        r"\bbons? de reduction\b", r"\bcoupons?\b", r"\b(promo|discount|coupon) ?codes?\b", r"\bvouchers?\b",
    )),
    Rule("ad.discount", "Publicité : réduction ou soldes", Category.ADVERTISING, patterns=(
        r"(?<![\w-])-\s?\d{1,2}\s?%", r"\bjusqu'a -?\s?\d{1,2}\s?%",
        r"\b\d{1,2}\s?% (de (reduction|remise|rabais) |offerts? )?(sur|pour) (votre prochaine|vos prochain|toute la"
        r"|tout le|tous nos|toutes nos|nos |l'ensemble|notre)",
        r"\bsoldes\b", r"\bventes? (privees?|flash)\b", r"\bblack friday\b", r"\bcyber monday\b",
        r"\bdestockage\b", r"\bprix casses\b", r"\boffres? (speciales?|exclusives?|limitees?)\b",
        r"\bprofitez(-en| en| de (nos|notre|cette offre|l'offre|\d))\b",
        r"\b(sur|pour) (votre prochaine commande|vos prochains achats)\b",
        r"\blivraison (offerte|gratuite) (des|a partir de|pour toute)\b",
        r"\b(\d{1,2}\s?% off|on sale|special offer)\b",
    )),
    Rule("ad.shop", "Publicité pour la boutique du vendeur", Category.ADVERTISING, patterns=(
        r"\bdecouvre[rz]? (nos|notre|toute notre|toutes nos|tous nos|la nouvelle|les nouveautes)\b",
        r"\bnouveautes\b", r"\bnouvelle collection\b", r"\bsuivez[- ]nous\b",
        r"\b(sur|via|depuis) notre (site|boutique en ligne|e-?shop|page (facebook|instagram))\b",
        r"\b(retrouvez|rejoignez)[- ]nous sur\b", r"\bcheck out our (new|latest)\b",
    )),
    Rule("ad.newsletter", "Publicité : lettre d'information ou désinscription", Category.ADVERTISING, patterns=(
        r"\bnewsletters?\b", r"\blettres? d'information\b", r"\bdesabonne\w*\b", r"\bdesinscri\w*\b",
        r"\bunsubscribe\b", r"\bopt[- ]out\b",
    )),
    Rule("ad.own_site", "Lien vers le site du vendeur hors de la marketplace", Category.ADVERTISING,
         kind="own_site"),
    Rule("ad.bulk", "Publicité : envoi en nombre (liste de diffusion)", Category.ADVERTISING, kind="bulk"),
    Rule("transactional.order_confirmation", "Doublon de la confirmation de commande", Category.TRANSACTIONAL,
         patterns=(
             r"\bconfirmation de (votre |la )?commande\b",
             r"\bvotre commande (n\S* ?\S+ )?(a bien ete|a ete|est bien|est) (confirmee|enregistree|validee"
             r"|prise en compte|acceptee|recue)\b",
             r"\bnous avons bien (recu|enregistre|pris en compte) votre commande\b",
             r"\bmerci (pour|de) votre (commande|achat)\b",
             r"\b(thank you|thanks) for your (order|purchase)\b", r"\border confirmation\b",
         ), unless=PROBLEM_WORDS, applies_to_replies=False),
    Rule("transactional.shipping_confirmation", "Doublon de la confirmation d'expédition", Category.TRANSACTIONAL,
         patterns=(
             r"\b(commande|colis|article|produit|paquet|envoi)s? (vient d'etre|viennent d'etre|a ete|ont ete|est|sont)"
             r" (bien )?(expedie|envoye|remise? au transporteur|pris en charge par le transporteur|en route"
             r"|en cours de (livraison|acheminement)|en chemin)",
             r"\bconfirmation d'expedition\b", r"\bavis d'expedition\b",
             r"\b(order|parcel|package) (has been|was) (shipped|dispatched)\b", r"\bhas shipped\b",
         ), unless=PROBLEM_WORDS, applies_to_replies=False),
)

RULES_BY_ID: Final[dict[str, Rule]] = {rule.id: rule for rule in RULES}

# Addresses at these domains say nothing about a shop's website.
FREE_MAIL_DOMAINS: Final = frozenset({
    "gmail.com", "googlemail.com", "yahoo.fr", "yahoo.com", "hotmail.fr", "hotmail.com", "outlook.fr",
    "outlook.com", "live.fr", "live.com", "msn.com", "orange.fr", "wanadoo.fr", "free.fr", "sfr.fr", "neuf.fr",
    "laposte.net", "icloud.com", "me.com", "gmx.fr", "gmx.com", "protonmail.com", "proton.me", "aol.com",
})


@dataclass(frozen=True, slots=True)
class Context:
    """What the rules know of the mail besides its text."""

    sender: str = ""  # the seller's address: its domain is the shop's own website, unless a webmail's
    shop_name: str = ""
    allowed_hosts: frozenset[str] = frozenset()  # the marketplace's own hosts
    is_reply: bool = False  # answers a message the customer sent through the relay
    bulk: bool = False  # List-Unsubscribe or Precedence: bulk: a mass mailing


@dataclass(frozen=True, slots=True)
class Match:
    rule_id: str
    label: str
    excerpt: str


@dataclass(frozen=True, slots=True)
class Classification:
    verdict: Verdict
    match: Match | None = None
    others: tuple[Match, ...] = field(default=())  # further rules that matched too


# --- folding ---------------------------------------------------------------------------------------------
_SPECIAL: Final = {
    "\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'", "\u00ab": '"', "\u00bb": '"',
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2010": "-",
    "\u2011": "-", "\u0153": "oe", "\u0152": "oe", "\u00e6": "ae", "\u00c6": "ae", "\u00df": "ss",
}


@dataclass(frozen=True, slots=True)
class Folded:
    """`text` folded; `origin[i]` is the index in the original of folded character i."""

    original: str
    text: str
    origin: tuple[int, ...]

    def excerpt(self, start: int, end: int, *, width: int = 70) -> str:
        if not self.origin:
            return ""
        first = self.origin[start]
        last = self.origin[max(end - 1, start)] + 1
        left, right = max(first - width, 0), min(last + width, len(self.original))
        while left > 0 and not self.original[left - 1].isspace() and first - left < width + 20:
            left -= 1
        while right < len(self.original) and not self.original[right].isspace() and right - last < width + 20:
            right += 1
        text = " ".join(self.original[left:right].split())
        return ("…" if left > 0 else "") + text + ("…" if right < len(self.original) else "")


def fold(text: str) -> Folded:
    """Lower case, accents off, typographic quotes/dashes/spaces made plain, whitespace runs made one space."""
    out: list[str] = []
    origin: list[int] = []
    space = True
    for index, char in enumerate(text):
        if char.isspace():
            if not space:
                out.append(" ")
                origin.append(index)
            space = True
            continue
        plain = _SPECIAL.get(char)
        if plain is None:
            plain = "".join(c for c in unicodedata.normalize("NFKD", char.lower()) if not unicodedata.combining(c))
        for c in plain:
            out.append(c)
            origin.append(index)
        space = False
    return Folded(text, "".join(out), tuple(origin))


# --- HTML to text ----------------------------------------------------------------------------------------
_BLOCK_TAGS: Final = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table",
                                "ul", "ol", "blockquote", "section", "article", "header", "footer", "hr"})


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, list[str]]] = [(0, [])]
        self.depth = 0  # blockquote nesting: quoted lines get "> "
        self.skip = 0  # inside <script>/<style>/<head>

    def _newline(self) -> None:
        self.lines.append((self.depth, []))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head", "title"):
            self.skip += 1
        if tag == "blockquote":
            self.depth += 1
        if tag in _BLOCK_TAGS:
            self._newline()
        if tag == "a":
            # A link hides its address behind its words: the rules must see it.
            href = dict(attrs).get("href") or ""
            if href.startswith(("http://", "https://", "www.")):
                self.lines[-1][1].append(f" <{href}> ")
        if tag == "img":
            alt = dict(attrs).get("alt") or ""
            if alt:
                self.lines[-1][1].append(f" {alt} ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head", "title"):
            self.skip = max(self.skip - 1, 0)
        if tag == "blockquote":
            self.depth = max(self.depth - 1, 0)
        if tag in _BLOCK_TAGS:
            self._newline()

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.lines[-1][1].append(data)


def html_to_text(html: str) -> str:
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    lines = []
    for depth, parts in parser.lines:
        text = " ".join("".join(parts).split())
        if text:
            lines.append("> " * depth + text)
    return "\n".join(lines)


# --- quotes ----------------------------------------------------------------------------------------------
_QUOTE = re.compile(r"^\s*(>\s?)+")


def strip_known_quotes(text: str, known: Iterable[str]) -> str:
    """Drop quoted lines ("> ...") that quote what the customer wrote through the relay: a seller's answer
    is judged on what the seller wrote. A quoted line found nowhere in `known` stays and is judged too."""
    known_folded = " ".join(fold(k.replace(">", " ")).text for k in known)
    kept = []
    for line in text.splitlines():
        prefix = _QUOTE.match(line)
        if prefix:
            content = fold(line[prefix.end():]).text.strip()
            if not content or content in known_folded:
                continue
        kept.append(line)
    return "\n".join(kept)


# --- links -----------------------------------------------------------------------------------------------
_URL = re.compile(r"\b(?:https?://[^\s<>\"')\]]+|www\.[^\s<>\"')\]]+)", re.IGNORECASE)


def _host(url: str) -> str:
    if not url.lower().startswith("http"):
        url = "http://" + url
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.lower().removeprefix("www.").rstrip(".")


def _same_site(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain) or domain.endswith("." + host)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold(text).text)


def own_shop_link(folded: Folded, context: Context) -> tuple[int, int] | None:
    """The span of the first link to the seller's own website: the domain of the seller's address (not a
    webmail) or a host spelling the shop's name. Links to the marketplace's hosts are fine."""
    domain = context.sender.rpartition("@")[2].lower().strip().rstrip(".")
    if domain in FREE_MAIL_DOMAINS:
        domain = ""
    name = _slug(context.shop_name)
    for match in _URL.finditer(folded.text):
        host = _host(match.group(0))
        if not host or any(_same_site(host, allowed) for allowed in context.allowed_hosts):
            continue
        if (domain and _same_site(host, domain)) or (len(name) >= 5 and name in re.sub(r"[^a-z0-9]", "", host)):
            return match.start(), match.end()
    return None


# --- classification --------------------------------------------------------------------------------------
_COMPILED: Final[dict[str, tuple[tuple[re.Pattern[str], ...], ...]]] = {
    rule.id: tuple(tuple(re.compile(p) for p in group) for group in (rule.patterns, rule.unless))
    for rule in RULES
}


def _first(patterns: tuple[re.Pattern[str], ...], text: str) -> re.Match[str] | None:
    found = [m for m in (p.search(text) for p in patterns) if m]
    return min(found, key=lambda m: m.start()) if found else None


def _match(rule: Rule, folded: Folded, context: Context) -> tuple[int, int] | None:
    if context.is_reply and not rule.applies_to_replies:
        return None
    if rule.kind == "own_site":
        return own_shop_link(folded, context)
    if rule.kind == "bulk":
        return (0, min(len(folded.text), 1)) if context.bulk else None
    patterns, unless = _COMPILED[rule.id]
    found = _first(patterns, folded.text)
    if found is None:
        return None
    if unless and _first(unless, folded.text) is not None:
        return None
    return found.start(), found.end()


def classify(subject: str, body: str, context: Context = Context()) -> Classification:
    """ALLOWED, or BLOCKED with the first rule of the table that matched (and the others that did too).
    `body` is plain text (see `html_to_text`); the subject is judged with it."""
    folded = fold(f"{subject}\n{body}")
    matches = []
    for rule in RULES:
        span = _match(rule, folded, context)
        if span is not None:
            matches.append(Match(rule.id, rule.label, folded.excerpt(*span)))
    if not matches:
        return Classification(Verdict.ALLOWED)
    return Classification(Verdict.BLOCKED, matches[0], tuple(matches[1:]))


def address_expired(*, ended_at: datetime | None, now: datetime, expiry_days: int) -> bool:
    """A relay address works until `expiry_days` after its order ended (closed, refused or canceled)."""
    return ended_at is not None and now - ended_at > timedelta(days=expiry_days)


def smtp_text(text: str) -> str:
    """SMTP answers are ASCII: the French label without its accents."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return "".join(_SPECIAL.get(c, c) for c in plain).encode("ascii", "replace").decode("ascii")
