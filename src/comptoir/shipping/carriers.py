"""The carriers Comptoir ships with (seeded by migration 0002): France's main parcel carriers and their
public tracking pages. The operator edits, adds or disables them afterwards (operator API, back office)."""

from __future__ import annotations

from typing import Final

from comptoir.shipping.rules import CarrierSpec

FRENCH_CARRIERS: Final[tuple[CarrierSpec, ...]] = (
    CarrierSpec("colissimo", "Colissimo", "COLISSIMO",
                "https://www.laposte.fr/outils/suivre-vos-envois?code={tracking_number}"),
    CarrierSpec("chronopost", "Chronopost", "CHRONOPOST",
                "https://www.chronopost.fr/tracking-no-cms/suivi-page?listeNumerosLT={tracking_number}"),
    CarrierSpec("lettre-suivie", "La Poste Lettre suivie", "LA_POSTE",
                "https://www.laposte.fr/outils/suivre-vos-envois?code={tracking_number}"),
    CarrierSpec("ups", "UPS", "UPS", "https://www.ups.com/track?loc=fr_FR&tracknum={tracking_number}"),
    CarrierSpec("dhl-express", "DHL Express", "DHL",
                "https://www.dhl.com/fr-fr/home/tracking/tracking-express.html?submit=1&tracking-id={tracking_number}"),
    CarrierSpec("gls", "GLS", "GLS", "https://gls-group.com/FR/fr/suivi-colis?match={tracking_number}"),
    CarrierSpec("dpd", "DPD", "DPD", "https://trace.dpd.fr/fr/trace/{tracking_number}"),
    CarrierSpec("mondial-relay", "Mondial Relay", "MONDIAL_RELAY",
                "https://www.mondialrelay.fr/suivi-de-colis/?numeroExpedition={tracking_number}&codePostal={postcode}"),
    CarrierSpec("relais-colis", "Relais Colis", "RELAIS_COLIS",
                "https://www.relaiscolis.com/suivi-de-colis/index/tracking/?valeur={tracking_number}&typeRecherche=EXP"),
    CarrierSpec("colis-prive", "Colis Privé", "COLIS_PRIVE",
                "https://www.colisprive.com/moncolis/pages/detailColis.aspx?numColis={tracking_number}"),
    CarrierSpec("tnt", "TNT", "TNT",
                "https://www.tnt.com/express/fr_fr/site/outils-expedition/suivi.html?searchType=con&cons={tracking_number}"),
    CarrierSpec("fedex", "FedEx", "FEDEX", "https://www.fedex.com/fedextrack/?trknbr={tracking_number}"),
)
