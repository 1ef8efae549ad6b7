"""Realistic French (and a few English) mails a seller sends a customer: allowed ones, and forbidden ones with
the rule each must trip. Shared by the unit tests of the rules and the SMTP tests of the relay."""

from __future__ import annotations

from typing import NamedTuple


class Example(NamedTuple):
    name: str
    subject: str
    body: str


class Forbidden(NamedTuple):
    name: str
    subject: str
    body: str
    rule_id: str
    excerpt_contains: str


SHOP_NAME = "Atelier Lumière"
SHOP_SENDER = "contact@atelier-lumiere.fr"

ALLOWED: tuple[Example, ...] = (
    Example("adresse incomplète", "Votre adresse de livraison",
            "Bonjour Madame Martin,\n\nIl semble manquer le numéro de rue dans votre adresse de livraison "
            "(« rue des Lilas, 69003 Lyon »). Pourriez-vous nous confirmer l'adresse complète, avec le code "
            "d'accès de l'immeuble s'il y en a un, avant que nous préparions le colis ?\n\n"
            "Cordialement,\nL'équipe Atelier Lumière"),
    Example("avis de retard", "Retard de votre lampe Orion",
            "Bonjour,\n\nMerci pour votre commande. Malheureusement, la lampe Orion est en réapprovisionnement "
            "chez notre fournisseur : elle partira avec trois jours de retard, au plus tard le jeudi 14 mai. "
            "Nous vous prions de nous excuser pour ce contretemps.\n\nBien à vous,\nCamille, Atelier Lumière"),
    Example("photo d'un article abîmé", "Votre lampe est arrivée abîmée",
            "Bonjour Madame,\n\nNous sommes navrés d'apprendre que l'abat-jour est arrivé cabossé. Pourriez-vous "
            "nous envoyer une photo de l'article et une photo du carton, côté étiquette ? Nous ouvrirons "
            "aussitôt un dossier auprès du transporteur et vous proposerons un remplacement.\n\nCamille"),
    Example("réponse sur la garantie", "Garantie de votre bouilloire",
            "Bonjour Monsieur,\n\nVotre bouilloire est couverte par la garantie légale de conformité de deux ans "
            "et par notre garantie constructeur d'un an supplémentaire. Le thermostat en fait partie : la "
            "facture se trouve dans votre espace client ; renvoyez-nous l'appareil avec une copie, nous le "
            "réparerons ou le remplacerons à nos frais.\n\nService après-vente"),
    Example("avis de passage du transporteur", "Votre colis vous attend",
            "Bonjour,\n\nLe transporteur nous indique avoir laissé un avis de passage le 3 mai : le colis vous "
            "attend au bureau de poste de la rue Garibaldi pendant 15 jours, muni de votre pièce d'identité.\n"
            "Bonne journée"),
    Example("geste commercial", "Votre article rayé",
            "Bonjour,\n\nPour l'article rayé, nous pouvons vous proposer de le garder avec un remboursement "
            "partiel de 20 % de son prix, versé par la marketplace, ou un échange. Dites-nous ce que vous "
            "préférez.\n\nCordialement"),
    Example("créneau de livraison (anglais)", "Delivery slot",
            "Hello,\n\nThe courier would like to schedule the delivery of your sofa. Could you tell us which "
            "mornings suit you next week, and whether there is a lift in your building?\n\nKind regards"),
    Example("question sur la couleur", "Couleur du coussin",
            "Bonjour,\n\nLe coussin bleu canard n'est plus disponible. Le bleu nuit vous conviendrait-il, ou "
            "préférez-vous que nous annulions cette ligne (vous seriez alors remboursée) ?\n\nBien cordialement"),
)

FORBIDDEN: tuple[Forbidden, ...] = (
    Forbidden("laissez-nous un avis", "Tout s'est bien passé ?",
              "Bonjour,\n\nVous avez bien reçu votre lampe ? Si vous êtes satisfaite, laissez-nous un petit avis "
              "sur la marketplace, cela nous aide beaucoup !\n\nL'équipe", "review.request", "laissez-nous un petit avis"),
    Forbidden("notez votre achat", "Notez votre achat",
              "Bonjour,\n\nNotez votre achat en un clic et donnez-nous 5 étoiles si tout s'est bien passé.",
              "review.request", "Notez votre achat"),
    Forbidden("lien Trustpilot", "Une minute pour nous ?",
              "Bonjour,\n\nRendez-vous sur https://fr.trustpilot.com/evaluate/atelierlumiere.example pour "
              "partager votre expérience.", "review.platform", "trustpilot.com"),
    Forbidden("Avis Vérifiés", "Votre expérience",
              "Bonjour,\n\nVotre expérience compte : https://www.avis-verifies.com/index.php?page=mod_write",
              "review.platform", "avis-verifies.com"),
    Forbidden("review en anglais", "Quick question",
              "Hi,\n\nWe hope you love your lamp. Would you mind leaving us a review?", "review.request", "review"),
    Forbidden("code promo", "Un cadeau pour vous",
              "Bonjour,\n\nPour vous remercier, profitez de -20 % sur toute la boutique avec le code PRINTEMPS20.",
              "ad.promo_code", "le code PRINTEMPS20"),
    Forbidden("moins vingt pour cent", "Offre",
              "Bonjour,\n\nCette semaine seulement : −20 % sur les lampadaires.", "ad.discount", "−20 %"),
    Forbidden("soldes", "C'est parti",
              "Bonjour,\n\nLes SOLDES d'été commencent chez nous demain matin.", "ad.discount", "SOLDES"),
    Forbidden("nouveautés", "Du nouveau",
              "Bonjour,\n\nDécouvrez nos nouveautés : suspensions en rotin et appliques en laiton.",
              "ad.shop", "Découvrez nos nouveautés"),
    Forbidden("newsletter", "Restons en contact",
              "Bonjour,\n\nInscrivez-vous à notre newsletter pour ne rien manquer.\n\nSe désabonner",
              "ad.newsletter", "newsletter"),
    Forbidden("lien vers le site du vendeur", "Notice de montage",
              "Bonjour,\n\nVous trouverez toutes nos lampes sur https://www.atelier-lumiere.fr/lampes/ .",
              "ad.own_site", "https://www.atelier-lumiere.fr/lampes/"),
    Forbidden("confirmation de commande", "Confirmation de commande n° 1042",
              "Bonjour Madame Martin,\n\nNous avons bien reçu votre commande n° 1042 : lampe Orion, 89,00 €.\n"
              "Elle sera préparée sous 48 heures.", "transactional.order_confirmation", "Confirmation de commande"),
    Forbidden("merci pour votre commande", "Merci !",
              "Bonjour,\n\nMerci pour votre commande ! Elle est entre de bonnes mains et sera préparée avec soin.",
              "transactional.order_confirmation", "Merci pour votre commande"),
    Forbidden("commande expédiée avec suivi", "Votre commande est en route",
              "Bonjour,\n\nVotre commande a été expédiée ce matin. Suivez votre colis : "
              "https://www.laposte.fr/outils/suivre-vos-envois?code=6A12345678901",
              "transactional.shipping_confirmation", "Votre commande est en route"),
)
