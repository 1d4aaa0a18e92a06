"""The words around catalogue texts in replies that follow the reader's language (EN and FR).

Placeholders are filled with already escaped mrkdwn. The request message in the channel stays
English; the outcome in its thread follows the requester, private replies their reader.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from bot.i18n.catalogue import Language

# Outcome notes recorded by bot/service.py (stored in English, shown in the reader's language).
NOTE_ALREADY_CANCELLED = "MouvONE says it was already cancelled before this request"
NOTE_EARLIER_ATTEMPT = (
    "MouvONE says it was already cancelled: an earlier attempt, whose answer was lost or an "
    "error, probably went through"
)
NOTE_CONFIRMED_BY_READING = (
    "confirmed by reading the order: the first attempt, whose answer was lost or an error, "
    "probably went through"
)
NOTE_INTERRUPTED = "the bot stopped while the cancel was on its way to MouvONE"


@dataclass(frozen=True, slots=True)
class Phrases:
    cancelled: str  # {order}
    requested_and_approved: str  # {requester} {approver}
    an_approver: str
    note: str  # {note}
    not_cancelled: str  # {order}
    outcome_unknown: str  # {order}
    unavailable: str  # {order}: MouvONE unavailable, the approval stands, Retry offered
    unavailable_fallback: str  # {order} {title} {code}
    what_to_do: str
    api_said: str  # {message}
    api_said_at: str  # {timestamp}
    retry_may_help: str
    retry_will_not_help: str
    cancelled_fallback: str  # {order}
    not_cancelled_fallback: str  # {order} {title} {code}
    unknown_fallback: str  # {order} {title} {code}
    not_requested: str  # {order}: the preview stopped the request before any approver saw it
    not_requested_footer: str
    not_requested_fallback: str  # {order} {title} {code}
    # Known outcome notes (bot/service.py), shown in the reader's language.
    notes: Mapping[str, str]


_EN = Phrases(
    cancelled=":white_check_mark: *Order `{order}` is cancelled in MouvONE.*",
    requested_and_approved="Requested by {requester}, approved by {approver}.",
    an_approver="an approver",
    note="Note: {note}",
    not_cancelled=":x: *Order `{order}` was not cancelled.*",
    outcome_unknown=(
        ":warning: *Order `{order}`: outcome unknown.* The bot reads the order in MouvONE "
        "shortly to verify it."
    ),
    unavailable=(
        ":double_vertical_bar: *Order `{order}` is not cancelled yet: MouvONE is unavailable.* "
        "The approval stands; an approver can press Retry."
    ),
    unavailable_fallback="Order {order} not cancelled yet: {title} ({code})",
    what_to_do="*What to do:*",
    api_said="MouvONE said: “{message}”",
    api_said_at="at {timestamp}",
    retry_may_help="trying again later may help",
    retry_will_not_help="trying again later will not help",
    cancelled_fallback="Order {order} is cancelled in MouvONE.",
    not_cancelled_fallback="Order {order} was not cancelled: {title} ({code})",
    unknown_fallback="Order {order}: outcome unknown, {title} ({code})",
    not_requested=":no_entry_sign: *No approval request was posted for `{order}`.*",
    not_requested_footer="Nothing was cancelled and no approver was asked.",
    not_requested_fallback="No approval request for {order}: {title} ({code})",
    notes=MappingProxyType(
        {
            NOTE_ALREADY_CANCELLED: NOTE_ALREADY_CANCELLED,
            NOTE_EARLIER_ATTEMPT: NOTE_EARLIER_ATTEMPT,
            NOTE_CONFIRMED_BY_READING: NOTE_CONFIRMED_BY_READING,
            NOTE_INTERRUPTED: NOTE_INTERRUPTED,
        }
    ),
)

_FR = Phrases(
    cancelled=":white_check_mark: *La commande `{order}` est annulée dans MouvONE.*",
    requested_and_approved="Demandée par {requester}, approuvée par {approver}.",
    an_approver="un approbateur",
    note="Remarque : {note}",
    not_cancelled=":x: *La commande `{order}` n'a pas été annulée.*",
    outcome_unknown=(
        ":warning: *Commande `{order}` : résultat inconnu.* Le bot relit la commande dans "
        "MouvONE d'ici peu pour le vérifier."
    ),
    unavailable=(
        ":double_vertical_bar: *La commande `{order}` n'est pas encore annulée : MouvONE est "
        "indisponible.* L'approbation reste valable ; un approbateur peut cliquer sur Retry."
    ),
    unavailable_fallback="La commande {order} n'est pas encore annulée : {title} ({code})",
    what_to_do="*Que faire :*",
    api_said="Message de MouvONE : « {message} »",
    api_said_at="le {timestamp}",
    retry_may_help="réessayer plus tard peut aider",
    retry_will_not_help="réessayer plus tard n'y changera rien",
    cancelled_fallback="La commande {order} est annulée dans MouvONE.",
    not_cancelled_fallback="La commande {order} n'a pas été annulée : {title} ({code})",
    unknown_fallback="Commande {order} : résultat inconnu, {title} ({code})",
    not_requested=":no_entry_sign: *Aucune demande d'approbation n'a été publiée pour `{order}`.*",
    not_requested_footer="Rien n'a été annulé et aucun approbateur n'a été sollicité.",
    not_requested_fallback="Pas de demande d'approbation pour {order} : {title} ({code})",
    notes=MappingProxyType(
        {
            NOTE_ALREADY_CANCELLED: (
                "MouvONE indique qu'elle était déjà annulée avant cette demande"
            ),
            NOTE_EARLIER_ATTEMPT: (
                "MouvONE indique qu'elle était déjà annulée : une tentative précédente, dont la "
                "réponse s'est perdue ou était une erreur, a probablement abouti"
            ),
            NOTE_CONFIRMED_BY_READING: (
                "confirmé en relisant la commande : la première tentative, dont la réponse "
                "s'est perdue ou était une erreur, a probablement abouti"
            ),
            NOTE_INTERRUPTED: ("le bot s'est arrêté pendant l'envoi de l'annulation à MouvONE"),
        }
    ),
)

PHRASES: Mapping[Language, Phrases] = MappingProxyType({Language.EN: _EN, Language.FR: _FR})


def phrases(language: Language) -> Phrases:
    return PHRASES.get(language, _EN)
