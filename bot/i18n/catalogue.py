"""What each way a MouvONE order cancellation can fail means, for the people using the bot.

The bot cancels an order with SOGET's ``DELETE /customer-orders/{orderId}``. A refusal carries a
``{timestamp, code, message}`` body whose ``code`` is one of 32 documented values (one list shared
by every operation of the API: create, update, search and cancel); ``message`` is free text, often
French and unreliable, so the bot explains the ``code`` itself. This module maps each documented
code, and each failure that comes without such a body (:class:`FailureKind`), to a
:class:`CatalogueEntry`: a category for the bot's logic, whether trying again later can succeed,
and a title, a meaning and a next step in English and French.

The texts are plain data, written for port logistics operators. They are inserted into Slack
mrkdwn, so they never contain ``<``, ``>``, ``&`` nor the formatting characters ``*``, ``_``,
``~`` and the backtick.

Sources: the codes and their one-line meanings in MouvONE's documentation of the cancel
operation; which codes can answer a cancellation, order types and statuses: docs/soget-api.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType


class Language(StrEnum):
    """Languages the bot answers in."""

    EN = "en"
    FR = "fr"


class ErrorCategory(StrEnum):
    """What a failure means for the bot's flow."""

    ALREADY_DONE = "already_done"  # ORDER_ALREADY_CANCELED: nothing left to do
    REFUSED = "refused"  # business refusal for this order, shown to the requester
    ACCOUNT = "account"  # setup, credentials or organisation: needs an administrator or SOGET
    UNEXPECTED = "unexpected"  # documented code of create/update/search, not of a cancellation
    TRANSIENT = "transient"  # a failure that may pass (timeouts, server errors, rate limits...)


@dataclass(frozen=True, slots=True)
class Explanation:
    """One failure explained to an operator, in one language."""

    title: str  # short title
    meaning: str  # what happened, in plain words (1-2 sentences)
    next_step: str  # what the user can do next


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    """Everything the bot knows about one error code or failure kind."""

    code: str
    category: ErrorCategory
    retry_can_help: bool  # can trying again later succeed?
    texts: Mapping[Language, Explanation]  # both languages, always

    def text(self, language: Language) -> Explanation:
        """The explanation in ``language``, or the English one when that language is missing."""
        explanation = self.texts.get(language)
        return explanation if explanation is not None else self.texts[Language.EN]


class FailureKind(StrEnum):
    """Failures outside the documented ``{timestamp, code, message}`` error body."""

    GATEWAY_UNAUTHORIZED = "gateway_unauthorized"  # 401: token or subscription key missing/invalid
    GATEWAY_FORBIDDEN = "gateway_forbidden"  # 403: credentials valid but not allowed
    ENDPOINT_NOT_FOUND = "endpoint_not_found"  # 404 without documented body: wrong URL or route
    REQUEST_TIMEOUT_STATUS = "request_timeout_status"  # 408
    RATE_LIMITED = "rate_limited"  # 429
    SERVER_ERROR = "server_error"  # 5xx
    UNEXPECTED_STATUS = "unexpected_status"  # any other non-2xx without a documented body
    TIMEOUT = "timeout"  # no answer in time: the cancellation may or may not have been applied
    CONNECTION_FAILED = "connection_failed"  # could not connect at all: nothing was sent
    TLS_FAILURE = "tls_failure"  # TLS handshake or certificate problem
    INVALID_BODY = "invalid_body"  # answer not JSON or not the documented shape
    UNKNOWN_CODE = "unknown_code"  # a code the catalogue does not know (show the raw code too)


def _entry(
    code: str,
    category: ErrorCategory,
    *,
    retry_can_help: bool,
    en: Explanation,
    fr: Explanation,
) -> CatalogueEntry:
    texts = MappingProxyType({Language.EN: en, Language.FR: fr})
    return CatalogueEntry(code, category, retry_can_help, texts)


def _failure(
    kind: FailureKind,
    category: ErrorCategory,
    *,
    retry_can_help: bool,
    en: Explanation,
    fr: Explanation,
) -> CatalogueEntry:
    return _entry(kind.value, category, retry_can_help=retry_can_help, en=en, fr=fr)


# Shared next step of the UNEXPECTED codes (errors of create/update/search, not of cancel).
_REPORT_EN = (
    "Report it to the bot administrators with the error code and the order number, so they can "
    "look into it with SOGET. Check the order in MouvONE before asking for the cancellation again."
)
_REPORT_FR = (
    "Signalez-le aux administrateurs du bot en précisant le code d'erreur et le numéro de "
    "commande, afin qu'ils examinent le problème avec SOGET. Vérifiez la commande dans MouvONE "
    "avant de redemander l'annulation."
)

# One row per documented code, in the documentation's (alphabetical) order.
_CODE_ENTRIES: tuple[CatalogueEntry, ...] = (
    _entry(
        "ACTOR_NOT_FOUND",
        ErrorCategory.ACCOUNT,
        retry_can_help=False,
        en=Explanation(
            title="A party of the order is unknown to MouvONE",
            meaning=(
                "MouvONE could not find one of the parties (actors) linked to this order or to the "
                "bot's account, such as the contractor or the carrier. The order was not "
                "cancelled."
            ),
            next_step=(
                "Open the order in MouvONE and check its contractor and carrier. If they look "
                "right, ask the bot administrators to check with SOGET that the bot's account is "
                "linked to a valid actor code."
            ),
        ),
        fr=Explanation(
            title="Un intervenant de la commande est inconnu de MouvONE",
            meaning=(
                "MouvONE ne trouve pas l'un des intervenants (acteurs) liés à cette commande ou au "
                "compte du bot, par exemple le donneur d'ordre ou le transporteur. La commande n'a "
                "pas été annulée."
            ),
            next_step=(
                "Ouvrez la commande dans MouvONE et vérifiez le donneur d'ordre et le "
                "transporteur. S'ils sont corrects, demandez aux administrateurs du bot de "
                "vérifier avec SOGET que le compte du bot est rattaché à un code acteur valide."
            ),
        ),
    ),
    _entry(
        "ALREADY_JOINED_GROUP",
        ErrorCategory.UNEXPECTED,
        retry_can_help=False,
        en=Explanation(
            title="Unexpected answer: user already in a group",
            meaning=(
                "MouvONE answered that a user has already joined a group. This error belongs to "
                "user accounts and is unexpected for a cancellation: the order was not cancelled."
            ),
            next_step=_REPORT_EN,
        ),
        fr=Explanation(
            title="Réponse inattendue : utilisateur déjà dans un groupe",
            meaning=(
                "MouvONE a répondu qu'un utilisateur fait déjà partie d'un groupe. Cette erreur "
                "concerne les comptes utilisateurs et n'est pas attendue lors d'une annulation : "
                "la commande n'a pas été annulée."
            ),
            next_step=_REPORT_FR,
        ),
    ),
    _entry(
        "CANNOT_CANCEL_NOT_MASTER_ORDER",
        ErrorCategory.REFUSED,
        retry_can_help=False,
        en=Explanation(
            title="Only a Master order can be cancelled",
            meaning=(
                "This identifier belongs to an Elementary or Segment order, which is part of a "
                "larger Master order, and MouvONE only cancels Master orders. Nothing was "
                "cancelled."
            ),
            next_step=(
                "Find in MouvONE the Master order that contains it and ask to cancel that one "
                "instead, after checking that the whole Master order really has to be cancelled."
            ),
        ),
        fr=Explanation(
            title="Seule une commande de type Master peut être annulée",
            meaning=(
                "Cet identifiant correspond à une commande de type Elementary ou Segment, qui fait "
                "partie d'une commande Master, et MouvONE n'annule que les commandes Master. Rien "
                "n'a été annulé."
            ),
            next_step=(
                "Retrouvez dans MouvONE la commande Master qui la contient et demandez plutôt "
                "l'annulation de celle-ci, après avoir vérifié que toute la commande Master doit "
                "bien être annulée."
            ),
        ),
    ),
    _entry(
        "CANNOT_CANCEL_ORDER_WITH_ASSOCIATED_CONTAINER",
        ErrorCategory.REFUSED,
        retry_can_help=False,
        en=Explanation(
            title="A container of the order is tied to a booking",
            meaning=(
                "MouvONE refused the cancellation because a container of this order is already "
                "associated with a booking. The order was not cancelled."
            ),
            next_step=(
                "Check in MouvONE which booking the container is attached to and ask whoever "
                "manages that booking to release the container (or to cancel the booking), then "
                "ask for the cancellation again."
            ),
        ),
        fr=Explanation(
            title="Un conteneur de la commande est lié à une réservation",
            meaning=(
                "MouvONE refuse l'annulation car un conteneur de cette commande est déjà associé à "
                "une réservation (booking). La commande n'a pas été annulée."
            ),
            next_step=(
                "Vérifiez dans MouvONE à quelle réservation le conteneur est rattaché et demandez "
                "à son gestionnaire de retirer le conteneur de la réservation (ou d'annuler "
                "celle-ci), puis redemandez l'annulation."
            ),
        ),
    ),
    _entry(
        "CANNOT_CHANGE_NUMBER_OF_CONTAINERS",
        ErrorCategory.UNEXPECTED,
        retry_can_help=False,
        en=Explanation(
            title="Unexpected answer: number of containers cannot change",
            meaning=(
                "MouvONE answered that the number of containers of an order cannot be changed. "
                "This error belongs to order updates and is unexpected for a cancellation: the "
                "order was not cancelled."
            ),
            next_step=_REPORT_EN,
        ),
        fr=Explanation(
            title="Réponse inattendue : nombre de conteneurs non modifiable",
            meaning=(
                "MouvONE a répondu que le nombre de conteneurs d'une commande ne peut pas être "
                "modifié. Cette erreur concerne la modification des commandes et n'est pas "
                "attendue lors d'une annulation : la commande n'a pas été annulée."
            ),
            next_step=_REPORT_FR,
        ),
    ),
    _entry(
        "CANNOT_UPDATE_VALID_ORDER_TO_DRAFT",
        ErrorCategory.UNEXPECTED,
        retry_can_help=False,
        en=Explanation(
            title="Unexpected answer: a validated order cannot go back to draft",
            meaning=(
                "MouvONE answered that a validated order cannot be put back to draft. This error "
                "belongs to order updates and is unexpected for a cancellation: the order was not "
                "cancelled."
            ),
            next_step=_REPORT_EN,
        ),
        fr=Explanation(
            title="Réponse inattendue : retour en brouillon impossible",
            meaning=(
                "MouvONE a répondu qu'une commande validée ne peut pas repasser en brouillon. "
                "Cette erreur concerne la modification des commandes et n'est pas attendue lors "
                "d'une annulation : la commande n'a pas été annulée."
            ),
            next_step=_REPORT_FR,
        ),
    ),
    _entry(
        "CARRIER_EMAIL_REQUIRED",
        ErrorCategory.UNEXPECTED,
        retry_can_help=False,
        en=Explanation(
            title="Unexpected answer: carrier e-mail address required",
            meaning=(
                "MouvONE answered that the carrier's e-mail address is required because GedMouv "
                "does not know this carrier. This error belongs to order creation and is "
                "unexpected for a cancellation: the order was not cancelled."
            ),
            next_step=_REPORT_EN,
        ),
        fr=Explanation(
            title="Réponse inattendue : adresse électronique du transporteur requise",
            meaning=(
                "MouvONE a répondu que l'adresse électronique du transporteur est obligatoire car "
                "GedMouv ne connaît pas ce transporteur. Cette erreur concerne la création des "
                "commandes et n'est pas attendue lors d'une annulation : la commande n'a pas été "
                "annulée."
            ),
            next_step=_REPORT_FR,
        ),
    ),
    _entry(
        "CONFLICT",
        ErrorCategory.REFUSED,
        retry_can_help=True,
        en=Explanation(
            title="The order was changed at the same time",
            meaning=(
                "Someone else changed this order in MouvONE while the bot was cancelling it, and "
                "MouvONE refused the cancellation so as not to overwrite that change. The order "
                "was not cancelled."
            ),
            next_step=(
                "Open the order in MouvONE to see what changed and check that it still has to be "
                "cancelled, then ask for the cancellation again."
            ),
        ),
        fr=Explanation(
            title="La commande a été modifiée au même moment",
            meaning=(
                "Quelqu'un d'autre a modifié cette commande dans MouvONE pendant l'annulation, et "
                "MouvONE a refusé l'annulation pour ne pas écraser cette modification. La commande "
                "n'a pas été annulée."
            ),
            next_step=(
                "Ouvrez la commande dans MouvONE pour voir ce qui a changé et vérifiez qu'elle "
                "doit toujours être annulée, puis redemandez l'annulation."
            ),
        ),
    ),
    _entry(
        "CONTRACTOR_UNAUTHORIZED_BY_GEDMOUV",
        ErrorCategory.UNEXPECTED,
        retry_can_help=False,
        en=Explanation(
            title="Unexpected answer: contractor not allowed by GedMouv",
            meaning=(
                "MouvONE answered that a contractor unknown to GedMouv may not create transport "
                "orders. This error belongs to order creation and is unexpected for a "
                "cancellation: the order was not cancelled."
            ),
            next_step=_REPORT_EN,
        ),
        fr=Explanation(
            title="Réponse inattendue : donneur d'ordre non autorisé par GedMouv",
            meaning=(
                "MouvONE a répondu qu'un donneur d'ordre inconnu de GedMouv ne peut pas créer "
                "d'ordre de transport. Cette erreur concerne la création des commandes et n'est "
                "pas attendue lors d'une annulation : la commande n'a pas été annulée."
            ),
            next_step=_REPORT_FR,
        ),
    ),
    _entry(
        "CUSTOMER_ORDER_NOT_FOUND",
        ErrorCategory.REFUSED,
        retry_can_help=False,
        en=Explanation(
            title="Order not found in MouvONE",
            meaning=(
                "MouvONE has no order with this identifier, or the order is not visible to the "
                "bot's account. Nothing was cancelled."
            ),
            next_step=(
                "Check that you gave the MouvONE order identifier (for example CDE0000000001), not "
                "the transport order number or a container number. If the identifier is right, the "
                "order may belong to another organisation: ask the bot administrators."
            ),
        ),
        fr=Explanation(
            title="Commande introuvable dans MouvONE",
            meaning=(
                "MouvONE ne connaît aucune commande avec cet identifiant, ou bien la commande "
                "n'est pas visible depuis le compte du bot. Rien n'a été annulé."
            ),
            next_step=(
                "Vérifiez que vous avez indiqué l'identifiant de commande MouvONE (par exemple "
                "CDE0000000001) et non le numéro d'ordre de transport ou un numéro de conteneur. "
                "Si l'identifiant est correct, la commande appartient peut-être à une autre "
                "organisation : adressez-vous aux administrateurs du bot."
            ),
        ),
    ),
    _entry(
        "CUSTOMS_FLAG_NOT_BE_MODIFIED",
        ErrorCategory.UNEXPECTED,
        retry_can_help=False,
        en=Explanation(
            title="Unexpected answer: customs flag cannot change",
            meaning=(
                "MouvONE answered that the customs flag of an order cannot be changed. This error "
                "belongs to order updates and is unexpected for a cancellation: the order was not "
                "cancelled."
            ),
            next_step=_REPORT_EN,
        ),
        fr=Explanation(
            title="Réponse inattendue : indicateur douane non modifiable",
            meaning=(
                "MouvONE a répondu que l'indicateur douane d'une commande ne peut pas être "
                "modifié. Cette erreur concerne la modification des commandes et n'est pas "
                "attendue lors d'une annulation : la commande n'a pas été annulée."
            ),
            next_step=_REPORT_FR,
        ),
    ),
    _entry(
        "EVENT_LOCATION_FIELDS_REQUIRED",
        ErrorCategory.UNEXPECTED,
        retry_can_help=False,
        en=Explanation(
            title="Unexpected answer: event location missing",
            meaning=(
                "MouvONE answered that the location details of an event are missing. This error "
                "belongs to order creation and updates and is unexpected for a cancellation: the "
                "order was not cancelled."
            ),
            next_step=_REPORT_EN,
        ),
        fr=Explanation(
            title="Réponse inattendue : lieu d'événement manquant",
            meaning=(
                "MouvONE a répondu que les informations de lieu d'un événement sont manquantes. "
                "Cette erreur concerne la création et la modification des commandes et n'est pas "
                "attendue lors d'une annulation : la commande n'a pas été annulée."
            ),
            next_step=_REPORT_FR,
        ),
    ),
    _entry(
        "EVENT_START_DATE_REQUIRED",
        ErrorCategory.UNEXPECTED,
        retry_can_help=False,
        en=Explanation(
            title="Unexpected answer: event start date missing",
            meaning=(
                "MouvONE answered that the start date of an event is missing. This error belongs "
                "to order creation and updates and is unexpected for a cancellation: the order was "
                "not cancelled."
            ),
            next_step=_REPORT_EN,
        ),
        fr=Explanation(
            title="Réponse inattendue : date de début d'événement manquante",
            meaning=(
                "MouvONE a répondu que la date de début d'un événement est manquante. Cette erreur "
                "concerne la création et la modification des commandes et n'est pas attendue lors "
                "d'une annulation : la commande n'a pas été annulée."
            ),
            next_step=_REPORT_FR,
        ),
    ),
    _entry(
        "EXISTS_ORDER_WITH_HANDLING_UNIT_SPI",
        ErrorCategory.UNEXPECTED,
        retry_can_help=False,
        en=Explanation(
            title="Unexpected answer: an order already exists for this unit",
            meaning=(
                "MouvONE answered that an order already exists for this handling unit (SPI). This "
                "error belongs to order creation and is unexpected for a cancellation: the order "
                "was not cancelled."
            ),
            next_step=_REPORT_EN,
        ),
        fr=Explanation(
            title="Réponse inattendue : commande déjà existante pour cette unité",
            meaning=(
                "MouvONE a répondu qu'une commande existe déjà pour cette unité de manutention "
                "(SPI). Cette erreur concerne la création des commandes et n'est pas attendue lors "
                "d'une annulation : la commande n'a pas été annulée."
            ),
            next_step=_REPORT_FR,
        ),
    ),
    _entry(
        "HANDLING_UNIT_REFERENCE_INVALID",
        ErrorCategory.UNEXPECTED,
        retry_can_help=False,
        en=Explanation(
            title="Unexpected answer: invalid container reference",
            meaning=(
                "MouvONE answered that the reference of a handling unit (container) is invalid. "
                "This error belongs to order creation and updates and is unexpected for a "
                "cancellation: the order was not cancelled."
            ),
            next_step=_REPORT_EN,
        ),
        fr=Explanation(
            title="Réponse inattendue : référence de conteneur non valide",
            meaning=(
                "MouvONE a répondu que la référence d'une unité de manutention (conteneur) n'est "
                "pas valide. Cette erreur concerne la création et la modification des commandes et "
                "n'est pas attendue lors d'une annulation : la commande n'a pas été annulée."
            ),
            next_step=_REPORT_FR,
        ),
    ),
    _entry(
        "LIMIT_NONPOSITIVE",
        ErrorCategory.UNEXPECTED,
        retry_can_help=False,
        en=Explanation(
            title="Unexpected answer: invalid number of search results",
            meaning=(
                "MouvONE answered that the number of results asked for in a search must be greater "
                "than zero. This error belongs to order searches and is unexpected for a "
                "cancellation: the order was not cancelled."
            ),
            next_step=_REPORT_EN,
        ),
        fr=Explanation(
            title="Réponse inattendue : nombre de résultats de recherche non valide",
            meaning=(
                "MouvONE a répondu que le nombre de résultats demandé dans une recherche doit être "
                "supérieur à zéro. Cette erreur concerne la recherche de commandes et n'est pas "
                "attendue lors d'une annulation : la commande n'a pas été annulée."
            ),
            next_step=_REPORT_FR,
        ),
    ),
    _entry(
        "NOT_SUPPORTED_ORDER_TYPE",
        ErrorCategory.REFUSED,
        retry_can_help=False,
        en=Explanation(
            title="This type of order cannot be cancelled",
            meaning="MouvONE does not allow cancelling this type of order. Nothing was cancelled.",
            next_step=(
                "Check the order's type in MouvONE. If it is an Elementary or Segment order, ask "
                "to cancel the Master order that contains it instead; otherwise ask the bot "
                "administrators."
            ),
        ),
        fr=Explanation(
            title="Ce type de commande ne peut pas être annulé",
            meaning=(
                "MouvONE n'autorise pas l'annulation de ce type de commande. Rien n'a été annulé."
            ),
            next_step=(
                "Vérifiez le type de la commande dans MouvONE. S'il s'agit d'une commande de type "
                "Elementary ou Segment, demandez plutôt l'annulation de la commande Master qui la "
                "contient ; sinon, adressez-vous aux administrateurs du bot."
            ),
        ),
    ),
    _entry(
        "OFFSET_NEGATIVE",
        ErrorCategory.UNEXPECTED,
        retry_can_help=False,
        en=Explanation(
            title="Unexpected answer: invalid search position",
            meaning=(
                "MouvONE answered that the starting position of a search cannot be negative. This "
                "error belongs to order searches and is unexpected for a cancellation: the order "
                "was not cancelled."
            ),
            next_step=_REPORT_EN,
        ),
        fr=Explanation(
            title="Réponse inattendue : position de recherche non valide",
            meaning=(
                "MouvONE a répondu que la position de départ d'une recherche ne peut pas être "
                "négative. Cette erreur concerne la recherche de commandes et n'est pas attendue "
                "lors d'une annulation : la commande n'a pas été annulée."
            ),
            next_step=_REPORT_FR,
        ),
    ),
    _entry(
        "ORDER_ALREADY_CANCELED",
        ErrorCategory.ALREADY_DONE,
        retry_can_help=False,
        en=Explanation(
            title="Order already cancelled",
            meaning=(
                "This order had already been cancelled in MouvONE, so there was nothing left to "
                "cancel."
            ),
            next_step=(
                "Nothing to do: the order is already cancelled. You can check in MouvONE that it "
                "shows as cancelled."
            ),
        ),
        fr=Explanation(
            title="Commande déjà annulée",
            meaning=(
                "Cette commande était déjà annulée dans MouvONE : il n'y avait plus rien à annuler."
            ),
            next_step=(
                "Rien à faire : la commande est déjà annulée. Vous pouvez vérifier dans MouvONE "
                "qu'elle apparaît bien comme annulée."
            ),
        ),
    ),
    _entry(
        "ORDER_DUPLICATED",
        ErrorCategory.UNEXPECTED,
        retry_can_help=False,
        en=Explanation(
            title="Unexpected answer: duplicate order",
            meaning=(
                "MouvONE answered that an order with the same details already exists. This error "
                "belongs to order creation and is unexpected for a cancellation: the order was not "
                "cancelled."
            ),
            next_step=_REPORT_EN,
        ),
        fr=Explanation(
            title="Réponse inattendue : commande en double",
            meaning=(
                "MouvONE a répondu qu'une commande identique existe déjà. Cette erreur concerne la "
                "création des commandes et n'est pas attendue lors d'une annulation : la commande "
                "n'a pas été annulée."
            ),
            next_step=_REPORT_FR,
        ),
    ),
    _entry(
        "ORGANIZATION_ACTOR_CODE_INVALID",
        ErrorCategory.ACCOUNT,
        retry_can_help=False,
        en=Explanation(
            title="The bot's organisation is not yet verified by SOGET",
            meaning=(
                "The organisation of the bot's SOGET account has not been verified by a SOGET "
                "administrator yet, and until it is, MouvONE does not let it manage orders. "
                "Nothing was cancelled."
            ),
            next_step=(
                "An administrator of the bot must contact SOGET to have the organisation verified. "
                "Until then every cancellation will be refused, so trying again will not help."
            ),
        ),
        fr=Explanation(
            title="L'organisation du bot n'est pas encore vérifiée par SOGET",
            meaning=(
                "L'organisation du compte SOGET du bot n'a pas encore été vérifiée par un "
                "administrateur SOGET et, tant qu'elle ne l'est pas, MouvONE ne lui permet pas de "
                "gérer des commandes. Rien n'a été annulé."
            ),
            next_step=(
                "Un administrateur du bot doit contacter SOGET pour faire vérifier l'organisation. "
                "D'ici là, toutes les annulations seront refusées : inutile de réessayer."
            ),
        ),
    ),
    _entry(
        "ORGANIZATION_NOT_FOUND",
        ErrorCategory.ACCOUNT,
        retry_can_help=False,
        en=Explanation(
            title="The bot's account belongs to no organisation",
            meaning=(
                "The SOGET account used by the bot is not attached to any organisation, and "
                "MouvONE only lets members of an organisation manage orders. Nothing was "
                "cancelled."
            ),
            next_step=(
                "An administrator of the bot must ask SOGET (or your organisation's administrator "
                "in MouvONE) to attach the bot's account to your organisation. Trying again will "
                "not help until then."
            ),
        ),
        fr=Explanation(
            title="Le compte du bot n'est rattaché à aucune organisation",
            meaning=(
                "Le compte SOGET utilisé par le bot n'est rattaché à aucune organisation, or "
                "MouvONE ne permet de gérer des commandes qu'aux membres d'une organisation. Rien "
                "n'a été annulé."
            ),
            next_step=(
                "Un administrateur du bot doit demander à SOGET (ou à l'administrateur de votre "
                "organisation dans MouvONE) de rattacher le compte du bot à votre organisation. "
                "D'ici là, inutile de réessayer."
            ),
        ),
    ),
    _entry(
        "R0005",
        ErrorCategory.UNEXPECTED,
        retry_can_help=False,
        en=Explanation(
            title="Unexpected answer: containers and events can no longer change",
            meaning=(
                "MouvONE answered that the container and event information of the order can no "
                "longer be changed. This error belongs to order updates and is unexpected for a "
                "cancellation: the order was not cancelled."
            ),
            next_step=_REPORT_EN,
        ),
        fr=Explanation(
            title="Réponse inattendue : conteneurs et événements non modifiables",
            meaning=(
                "MouvONE a répondu que les informations des conteneurs et des événements de la "
                "commande ne peuvent plus être modifiées. Cette erreur concerne la modification "
                "des commandes et n'est pas attendue lors d'une annulation : la commande n'a pas "
                "été annulée."
            ),
            next_step=_REPORT_FR,
        ),
    ),
    _entry(
        "R0006",
        ErrorCategory.UNEXPECTED,
        retry_can_help=False,
        en=Explanation(
            title="Unexpected answer: order cannot be changed in its current status",
            meaning=(
                "MouvONE answered that the order cannot be changed in its current status. This "
                "error belongs to order updates and is unexpected for a cancellation: the order "
                "was not cancelled."
            ),
            next_step=_REPORT_EN,
        ),
        fr=Explanation(
            title="Réponse inattendue : commande non modifiable dans son statut actuel",
            meaning=(
                "MouvONE a répondu que la commande ne peut pas être modifiée dans son statut "
                "actuel. Cette erreur concerne la modification des commandes et n'est pas attendue "
                "lors d'une annulation : la commande n'a pas été annulée."
            ),
            next_step=_REPORT_FR,
        ),
    ),
    _entry(
        "R0007",
        ErrorCategory.UNEXPECTED,
        retry_can_help=False,
        en=Explanation(
            title="Unexpected answer: container references can no longer change",
            meaning=(
                "MouvONE answered that the container references of the order can no longer be "
                "changed. This error belongs to order updates and is unexpected for a "
                "cancellation: the order was not cancelled."
            ),
            next_step=_REPORT_EN,
        ),
        fr=Explanation(
            title="Réponse inattendue : références de conteneurs non modifiables",
            meaning=(
                "MouvONE a répondu que les références des conteneurs de la commande ne peuvent "
                "plus être modifiées. Cette erreur concerne la modification des commandes et n'est "
                "pas attendue lors d'une annulation : la commande n'a pas été annulée."
            ),
            next_step=_REPORT_FR,
        ),
    ),
    _entry(
        "R0008",
        ErrorCategory.REFUSED,
        retry_can_help=True,
        en=Explanation(
            title="Order is being processed by the carrier",
            meaning=(
                "The order has already been sent to the carrier through GedMouv and is waiting for "
                "them or being handled (status Submitted or InProcess), so MouvONE refuses to "
                "cancel it. Nothing was cancelled."
            ),
            next_step=(
                "Ask the carrier to refuse or cancel the order on their side, or wait until its "
                "status changes in MouvONE, then ask for the cancellation again."
            ),
        ),
        fr=Explanation(
            title="Commande en cours de traitement par le transporteur",
            meaning=(
                "La commande a déjà été transmise au transporteur via GedMouv et elle est en "
                "attente ou en cours de traitement (statut Submitted ou InProcess) : MouvONE "
                "refuse donc de l'annuler. Rien n'a été annulé."
            ),
            next_step=(
                "Demandez au transporteur de refuser ou d'annuler la commande de son côté, ou "
                "attendez que son statut change dans MouvONE, puis redemandez l'annulation."
            ),
        ),
    ),
    _entry(
        "R0009",
        ErrorCategory.REFUSED,
        retry_can_help=False,
        en=Explanation(
            title="Part of the order has already been delivered",
            meaning=(
                "At least one segment of this order has already been delivered, so MouvONE no "
                "longer allows cancelling it. Nothing was cancelled."
            ),
            next_step=(
                "Trying again will not change this. Contact the carrier directly to settle the "
                "remaining legs of the transport."
            ),
        ),
        fr=Explanation(
            title="Une partie de la commande a déjà été livrée",
            meaning=(
                "Au moins un segment de cette commande a déjà été livré : MouvONE ne permet donc "
                "plus de l'annuler. Rien n'a été annulé."
            ),
            next_step=(
                "Réessayer n'y changera rien. Contactez directement le transporteur pour régler la "
                "suite du transport."
            ),
        ),
    ),
    _entry(
        "SEARCH_DATE_ERROR",
        ErrorCategory.UNEXPECTED,
        retry_can_help=False,
        en=Explanation(
            title="Unexpected answer: invalid search dates",
            meaning=(
                "MouvONE answered that the dates given for a search are invalid. This error "
                "belongs to order searches and is unexpected for a cancellation: the order was not "
                "cancelled."
            ),
            next_step=_REPORT_EN,
        ),
        fr=Explanation(
            title="Réponse inattendue : dates de recherche non valides",
            meaning=(
                "MouvONE a répondu que les dates indiquées pour une recherche ne sont pas valides. "
                "Cette erreur concerne la recherche de commandes et n'est pas attendue lors d'une "
                "annulation : la commande n'a pas été annulée."
            ),
            next_step=_REPORT_FR,
        ),
    ),
    _entry(
        "UNKNOWN_LOCATION",
        ErrorCategory.UNEXPECTED,
        retry_can_help=False,
        en=Explanation(
            title="Unexpected answer: unknown location",
            meaning=(
                "MouvONE answered that a location is unknown to it. This error belongs to order "
                "creation and updates and is unexpected for a cancellation: the order was not "
                "cancelled."
            ),
            next_step=_REPORT_EN,
        ),
        fr=Explanation(
            title="Réponse inattendue : lieu inconnu",
            meaning=(
                "MouvONE a répondu qu'un lieu lui est inconnu. Cette erreur concerne la création "
                "et la modification des commandes et n'est pas attendue lors d'une annulation : la "
                "commande n'a pas été annulée."
            ),
            next_step=_REPORT_FR,
        ),
    ),
    _entry(
        "USER_ID_INVALID",
        ErrorCategory.ACCOUNT,
        retry_can_help=False,
        en=Explanation(
            title="The bot's user account is not valid",
            meaning=(
                "MouvONE did not accept the user identity behind the bot's SOGET account. Nothing "
                "was cancelled."
            ),
            next_step=(
                "Ask the bot administrators to check the bot's SOGET credentials and, if needed, "
                "to contact SOGET. Trying again will not help until this is fixed."
            ),
        ),
        fr=Explanation(
            title="Le compte utilisateur du bot n'est pas valide",
            meaning=(
                "MouvONE n'a pas accepté l'identité de l'utilisateur associée au compte SOGET du "
                "bot. Rien n'a été annulé."
            ),
            next_step=(
                "Demandez aux administrateurs du bot de vérifier les identifiants SOGET du bot et, "
                "si besoin, de contacter SOGET. Inutile de réessayer avant que ce soit corrigé."
            ),
        ),
    ),
    _entry(
        "WRONG_EVENT_DATE_ORDER",
        ErrorCategory.UNEXPECTED,
        retry_can_help=False,
        en=Explanation(
            title="Unexpected answer: event dates out of order",
            meaning=(
                "MouvONE answered that the dates of the order's events are not in chronological "
                "order. This error belongs to order creation and updates and is unexpected for a "
                "cancellation: the order was not cancelled."
            ),
            next_step=_REPORT_EN,
        ),
        fr=Explanation(
            title="Réponse inattendue : dates d'événements dans le désordre",
            meaning=(
                "MouvONE a répondu que les dates des événements de la commande ne sont pas dans "
                "l'ordre chronologique. Cette erreur concerne la création et la modification des "
                "commandes et n'est pas attendue lors d'une annulation : la commande n'a pas été "
                "annulée."
            ),
            next_step=_REPORT_FR,
        ),
    ),
    _entry(
        "WRONG_FORMAT",
        ErrorCategory.REFUSED,
        retry_can_help=False,
        en=Explanation(
            title="The order identifier is not in the right format",
            meaning=(
                "MouvONE did not recognise this value as an order identifier. Nothing was "
                "cancelled."
            ),
            next_step=(
                "Copy the order identifier from MouvONE (for example CDE0000000001) and ask again. "
                "The transport order number or a container number will not work."
            ),
        ),
        fr=Explanation(
            title="L'identifiant de commande n'a pas le bon format",
            meaning=(
                "MouvONE ne reconnaît pas cette valeur comme un identifiant de commande. Rien n'a "
                "été annulé."
            ),
            next_step=(
                "Copiez l'identifiant de la commande depuis MouvONE (par exemple CDE0000000001) et "
                "refaites la demande. Le numéro d'ordre de transport ou un numéro de conteneur ne "
                "conviennent pas."
            ),
        ),
    ),
)

# One row per FailureKind (failures outside the documented error body).
_FAILURE_ENTRIES: tuple[CatalogueEntry, ...] = (
    _failure(
        FailureKind.GATEWAY_UNAUTHORIZED,
        ErrorCategory.ACCOUNT,
        retry_can_help=False,
        en=Explanation(
            title="MouvONE rejected the bot's credentials",
            meaning=(
                "MouvONE refused the request because the bot's API key or access token is missing, "
                "wrong or expired. Nothing was cancelled."
            ),
            next_step=(
                "Ask the bot administrators to check the bot's SOGET API key and application "
                "credentials. Trying again will not help until they are fixed."
            ),
        ),
        fr=Explanation(
            title="MouvONE a refusé les identifiants du bot",
            meaning=(
                "MouvONE a refusé la demande car la clé d'API ou le jeton d'accès du bot est "
                "absent, incorrect ou expiré. Rien n'a été annulé."
            ),
            next_step=(
                "Demandez aux administrateurs du bot de vérifier la clé d'API SOGET et les "
                "identifiants d'application du bot. Inutile de réessayer avant que ce soit "
                "corrigé."
            ),
        ),
    ),
    _failure(
        FailureKind.GATEWAY_FORBIDDEN,
        ErrorCategory.ACCOUNT,
        retry_can_help=False,
        en=Explanation(
            title="The bot is not allowed to cancel orders",
            meaning=(
                "MouvONE recognised the bot's credentials, but the bot's SOGET subscription does "
                "not allow this operation. Nothing was cancelled."
            ),
            next_step=(
                "Ask the bot administrators to check the bot's subscription on SOGET's API portal, "
                "or to contact SOGET. Trying again will not help until this is fixed."
            ),
        ),
        fr=Explanation(
            title="Le bot n'est pas autorisé à annuler des commandes",
            meaning=(
                "MouvONE a reconnu les identifiants du bot, mais l'abonnement SOGET du bot ne "
                "permet pas cette opération. Rien n'a été annulé."
            ),
            next_step=(
                "Demandez aux administrateurs du bot de vérifier l'abonnement du bot sur le "
                "portail des API de SOGET, ou de contacter SOGET. Inutile de réessayer avant que "
                "ce soit corrigé."
            ),
        ),
    ),
    _failure(
        FailureKind.ENDPOINT_NOT_FOUND,
        ErrorCategory.ACCOUNT,
        retry_can_help=False,
        en=Explanation(
            title="The bot is not set up with the right MouvONE address",
            meaning=(
                "The address the bot uses to reach MouvONE's cancellation service does not exist, "
                "which usually means a setup error on the bot's side. Nothing was cancelled."
            ),
            next_step=(
                "Ask the bot administrators to check the MouvONE address in the bot's settings. "
                "Trying again will not help until this is fixed."
            ),
        ),
        fr=Explanation(
            title="Le bot n'utilise pas la bonne adresse MouvONE",
            meaning=(
                "L'adresse utilisée par le bot pour joindre le service d'annulation de MouvONE "
                "n'existe pas, ce qui indique en général une erreur de configuration du bot. Rien "
                "n'a été annulé."
            ),
            next_step=(
                "Demandez aux administrateurs du bot de vérifier l'adresse de MouvONE dans la "
                "configuration du bot. Inutile de réessayer avant que ce soit corrigé."
            ),
        ),
    ),
    _failure(
        FailureKind.REQUEST_TIMEOUT_STATUS,
        ErrorCategory.TRANSIENT,
        retry_can_help=True,
        en=Explanation(
            title="MouvONE stopped waiting for the request",
            meaning=(
                "MouvONE gave up on the bot's request before receiving all of it. The order was "
                "most likely not cancelled, but this is not certain."
            ),
            next_step=(
                "Check the order's status in MouvONE. If it is not cancelled, try again in a few "
                "minutes."
            ),
        ),
        fr=Explanation(
            title="MouvONE a cessé d'attendre la demande",
            meaning=(
                "MouvONE a abandonné la demande du bot avant de l'avoir reçue en entier. La "
                "commande n'a très probablement pas été annulée, mais ce n'est pas certain."
            ),
            next_step=(
                "Vérifiez le statut de la commande dans MouvONE. Si elle n'est pas annulée, "
                "réessayez dans quelques minutes."
            ),
        ),
    ),
    _failure(
        FailureKind.RATE_LIMITED,
        ErrorCategory.TRANSIENT,
        retry_can_help=True,
        en=Explanation(
            title="Too many requests to MouvONE",
            meaning=(
                "MouvONE is receiving too many requests from the bot right now and turned this one "
                "away. Nothing was cancelled."
            ),
            next_step="Wait a minute or two, then try again.",
        ),
        fr=Explanation(
            title="Trop de demandes envoyées à MouvONE",
            meaning=(
                "MouvONE reçoit en ce moment trop de demandes de la part du bot et a refusé "
                "celle-ci. Rien n'a été annulé."
            ),
            next_step="Patientez une ou deux minutes, puis réessayez.",
        ),
    ),
    _failure(
        FailureKind.SERVER_ERROR,
        ErrorCategory.TRANSIENT,
        retry_can_help=True,
        en=Explanation(
            title="MouvONE had a technical problem",
            meaning=(
                "MouvONE ran into an internal error while handling the request. In most cases the "
                "order was not cancelled, but this is not certain."
            ),
            next_step=(
                "Check the order's status in MouvONE. If it is not cancelled, try again in a few "
                "minutes; if the problem persists, tell the bot administrators."
            ),
        ),
        fr=Explanation(
            title="Incident technique chez MouvONE",
            meaning=(
                "MouvONE a rencontré une erreur interne en traitant la demande. Le plus souvent, "
                "la commande n'a pas été annulée, mais ce n'est pas certain."
            ),
            next_step=(
                "Vérifiez le statut de la commande dans MouvONE. Si elle n'est pas annulée, "
                "réessayez dans quelques minutes ; si le problème persiste, prévenez les "
                "administrateurs du bot."
            ),
        ),
    ),
    _failure(
        FailureKind.UNEXPECTED_STATUS,
        ErrorCategory.ACCOUNT,
        retry_can_help=False,
        en=Explanation(
            title="Unexpected answer from MouvONE",
            meaning=(
                "MouvONE answered with an error the bot does not know how to interpret. The order "
                "was most likely not cancelled, but this is not certain."
            ),
            next_step=(
                "Check the order's status in MouvONE, then report the problem to the bot "
                "administrators with the order number and the time of the request."
            ),
        ),
        fr=Explanation(
            title="Réponse inattendue de MouvONE",
            meaning=(
                "MouvONE a répondu par une erreur que le bot ne sait pas interpréter. La commande "
                "n'a très probablement pas été annulée, mais ce n'est pas certain."
            ),
            next_step=(
                "Vérifiez le statut de la commande dans MouvONE, puis signalez le problème aux "
                "administrateurs du bot en indiquant le numéro de commande et l'heure de la "
                "demande."
            ),
        ),
    ),
    _failure(
        FailureKind.TIMEOUT,
        ErrorCategory.TRANSIENT,
        retry_can_help=True,
        en=Explanation(
            title="No answer from MouvONE in time",
            meaning=(
                "MouvONE did not answer in time. The cancellation may or may not have been "
                "applied: the bot cannot tell."
            ),
            next_step=(
                "Check the order's status in MouvONE before anything else. If it shows as "
                "cancelled, there is nothing more to do; if not, ask for the cancellation again."
            ),
        ),
        fr=Explanation(
            title="MouvONE n'a pas répondu à temps",
            meaning=(
                "MouvONE n'a pas répondu dans le délai prévu. L'annulation a pu être prise en "
                "compte, ou non : le bot ne peut pas le savoir."
            ),
            next_step=(
                "Vérifiez d'abord le statut de la commande dans MouvONE. Si elle apparaît comme "
                "annulée, il n'y a plus rien à faire ; sinon, redemandez l'annulation."
            ),
        ),
    ),
    _failure(
        FailureKind.CONNECTION_FAILED,
        ErrorCategory.TRANSIENT,
        retry_can_help=True,
        en=Explanation(
            title="Could not reach MouvONE",
            meaning=(
                "The bot could not connect to MouvONE at all, so the request was never sent. "
                "Nothing was cancelled."
            ),
            next_step=(
                "Try again in a few minutes. If it keeps failing, tell the bot administrators: "
                "MouvONE may be unavailable, or the bot's network may have a problem."
            ),
        ),
        fr=Explanation(
            title="Impossible de joindre MouvONE",
            meaning=(
                "Le bot n'a pas pu se connecter à MouvONE : la demande n'a donc pas été envoyée. "
                "Rien n'a été annulé."
            ),
            next_step=(
                "Réessayez dans quelques minutes. Si le problème persiste, prévenez les "
                "administrateurs du bot : MouvONE est peut-être indisponible, ou le réseau du bot "
                "rencontre un problème."
            ),
        ),
    ),
    _failure(
        FailureKind.TLS_FAILURE,
        ErrorCategory.ACCOUNT,
        retry_can_help=False,
        en=Explanation(
            title="Secure connection to MouvONE failed",
            meaning=(
                "The bot could not set up a secure connection with MouvONE (a certificate or "
                "encryption problem), so the request was not sent. Nothing was cancelled."
            ),
            next_step=(
                "Tell the bot administrators so they can check the bot's network and certificate "
                "settings. Trying again is unlikely to help until then."
            ),
        ),
        fr=Explanation(
            title="Échec de la connexion sécurisée à MouvONE",
            meaning=(
                "Le bot n'a pas pu établir de connexion sécurisée avec MouvONE (problème de "
                "certificat ou de chiffrement) : la demande n'a donc pas été envoyée. Rien n'a été "
                "annulé."
            ),
            next_step=(
                "Prévenez les administrateurs du bot pour qu'ils vérifient le réseau et les "
                "certificats du bot. Il est peu probable qu'une nouvelle tentative aboutisse d'ici "
                "là."
            ),
        ),
    ),
    _failure(
        FailureKind.INVALID_BODY,
        ErrorCategory.TRANSIENT,
        retry_can_help=True,
        en=Explanation(
            title="Unreadable answer from MouvONE",
            meaning=(
                "The bot could not read MouvONE's answer, so it cannot tell whether the order was "
                "cancelled."
            ),
            next_step=(
                "Check the order's status in MouvONE. If it is not cancelled, try again in a few "
                "minutes; if this happens again, tell the bot administrators."
            ),
        ),
        fr=Explanation(
            title="Réponse illisible de MouvONE",
            meaning=(
                "Le bot n'a pas pu lire la réponse de MouvONE et ne peut donc pas savoir si la "
                "commande a été annulée."
            ),
            next_step=(
                "Vérifiez le statut de la commande dans MouvONE. Si elle n'est pas annulée, "
                "réessayez dans quelques minutes ; si cela se reproduit, prévenez les "
                "administrateurs du bot."
            ),
        ),
    ),
    _failure(
        FailureKind.UNKNOWN_CODE,
        ErrorCategory.ACCOUNT,
        retry_can_help=False,
        en=Explanation(
            title="MouvONE refused with an unknown error",
            meaning=(
                "MouvONE refused the cancellation with an error code the bot does not know (shown "
                "with this message). The order was not cancelled."
            ),
            next_step=(
                "Read MouvONE's message and check the order in MouvONE. Report the error code to "
                "the bot administrators so they can add an explanation for it."
            ),
        ),
        fr=Explanation(
            title="Refus de MouvONE avec une erreur inconnue",
            meaning=(
                "MouvONE a refusé l'annulation avec un code d'erreur que le bot ne connaît pas "
                "(indiqué avec ce message). La commande n'a pas été annulée."
            ),
            next_step=(
                "Lisez le message de MouvONE et vérifiez la commande dans MouvONE. Transmettez le "
                "code d'erreur aux administrateurs du bot pour qu'ils ajoutent une explication."
            ),
        ),
    ),
)

CATALOGUE: Mapping[str, CatalogueEntry] = MappingProxyType({e.code: e for e in _CODE_ENTRIES})
DOCUMENTED_CODES: tuple[str, ...] = tuple(CATALOGUE)
FAILURES: Mapping[FailureKind, CatalogueEntry] = MappingProxyType(
    {FailureKind(e.code): e for e in _FAILURE_ENTRIES}
)


def entry_for_code(code: str) -> CatalogueEntry:
    """The documented entry, or FAILURES[UNKNOWN_CODE] for a code we do not know (never raises)."""
    entry = CATALOGUE.get(code)
    return entry if entry is not None else FAILURES[FailureKind.UNKNOWN_CODE]


def is_documented(code: str) -> bool:
    """Whether ``code`` is one of the documented codes (exact, case-sensitive match)."""
    return code in CATALOGUE


def parse_language(value: str | None, default: Language = Language.EN) -> Language:
    """Slack locales look like 'fr-FR', 'en-US', 'fr', None -> Language; unknown -> default."""
    if not value:
        return default
    primary = value.strip().replace("_", "-").split("-", 1)[0].lower()
    try:
        return Language(primary)
    except ValueError:
        return default
