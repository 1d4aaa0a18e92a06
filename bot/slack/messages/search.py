"""Block Kit for the search by container or transport order: the private replies (searching,
a number refused, what was found, nothing found, MouvONE failing), the modal where the orders
are chosen, and the pure parsing of its submission.

Slack's limits shape it: 10 options per checkboxes element (so one input block per 10 orders),
75 characters per option text, 3,000 per section, 50 blocks per message, 100 per view.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    InputBlock,
    Option,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.domain.commands import MAX_REASON_LENGTH, has_hidden_characters
from bot.domain.containers import ContainerNumberError, ContainerProblem
from bot.domain.preview import ALREADY_CANCELLED
from bot.domain.search import (
    FoundOrder,
    Offer,
    SearchArgs,
    SearchFailed,
    SearchInputError,
    SearchKind,
    SelectionProblem,
)
from bot.i18n.catalogue import FAILURES, FailureKind, Language, entry_for_code
from bot.i18n.texts import say
from bot.slack.ids import SLASH_COMMAND, ActionId, BlockId, CallbackId, InputActionId
from bot.slack.messages.modals import modal_text
from bot.slack.messages.mrkdwn import (
    CONTEXT_TEXT_LIMIT,
    SECTION_TEXT_LIMIT,
    Rendered,
    clip_raw,
    escape,
    fallback_text,
    md,
    plain,
)
from bot.slack.messages.request_form import reason_blocks, submitted_reason

OPTIONS_PER_BLOCK = 10  # Slack: at most 10 options in a checkboxes element
OPTION_TEXT_LIMIT = 75  # Slack: an option's text and description
_LINES_PER_SECTION = 25  # ~100 characters a line: well within a section's 3,000
_EXAMPLES = {
    SearchKind.CONTAINER: "container CSQU3054383",
    SearchKind.TRANSPORT: "transport TOC-02-03-2022",
}


def _kind(kind: SearchKind, language: Language) -> str:
    return say(f"search.kind.{kind.value}", language)


def _about(args: SearchArgs, language: Language) -> dict[str, str]:
    return {"kind": _kind(args.kind, language), "query": escape(args.query)}


# -- what was typed -----------------------------------------------------------------------------


def search_input_text(
    error: SearchInputError | ContainerNumberError, language: Language
) -> Rendered:
    """Why a search was not run, as a private reply: MouvONE was not asked."""
    if isinstance(error, SearchInputError):
        example = f"{SLASH_COMMAND} {_EXAMPLES[error.kind]}"
        problem = say(error.problem.value, language, example=example)
    else:
        number = escape(error.number)
        if error.problem is ContainerProblem.CHECK_DIGIT:
            problem = say(
                error.problem.value,
                language,
                number=number,
                expected=error.expected_check_digit,
                given=error.number[-1],
            )
            if error.transpositions:
                candidates = ", ".join(f"`{escape(c)}`" for c in error.transpositions)
                problem += " " + say("search.container.swapped", language, candidates=candidates)
        elif error.problem is ContainerProblem.CATEGORY:
            problem = say(error.problem.value, language, number=number, letter=error.number[3])
        else:
            problem = say(error.problem.value, language, number=number)
    text = f":warning: {problem} {say('search.nothing_asked', language)}"
    return Rendered(fallback_text(text), [SectionBlock(text=md(text))])


def searching_text(args: SearchArgs, language: Language) -> Rendered:
    return Rendered(say("search.searching", language, **_about(args, language)))


def choice_not_opened_text(error: str, language: Language) -> Rendered:
    """Slack would not open the choice modal (the trigger expired, Slack failed)."""
    return Rendered(say("search.choice_not_opened", language, error=escape(error)))


# -- what was found -----------------------------------------------------------------------------


def _refusal_title(code: str, language: Language) -> str:
    return escape(entry_for_code(code).text(language).title)


def _line(found: FoundOrder, language: Language) -> str:
    order = found.order
    if found.refusal is None:
        verdict = say("search.line.cancellable", language)
    elif found.refusal == ALREADY_CANCELLED:
        verdict = say("search.line.already_cancelled", language)
    else:
        code = found.refusal
        verdict = say(
            "search.line.refused", language, title=_refusal_title(code, language), code=escape(code)
        )
    kind = escape(clip_raw(order.type, 40))
    status = escape(clip_raw(order.status, 40))
    return f"• `{escape(found.order_id)}` · {kind} · {status} · {verdict}"


def build_search_result(args: SearchArgs, offer: Offer, language: Language) -> Rendered:
    """The private answer to a search: every order found with what a cancel can expect, and
    the button that opens the choice (when there is anything to choose)."""
    about = _about(args, language)
    if not offer.found:
        text = say("search.nothing_found", language, **about)
        return Rendered(fallback_text(text), [SectionBlock(text=md(text))])
    header = say("search.found", language, count=len(offer.found), **about)
    blocks: list[Block] = [SectionBlock(text=md(header))]
    if offer.capped:
        capped = say("search.capped", language, total=offer.total, shown=len(offer.found))
        blocks.append(ContextBlock(elements=[md(capped, CONTEXT_TEXT_LIMIT)]))
    lines = [_line(found, language) for found in offer.found]
    for start in range(0, len(lines), _LINES_PER_SECTION):
        chunk = "\n".join(lines[start : start + _LINES_PER_SECTION])
        blocks.append(SectionBlock(text=md(chunk, SECTION_TEXT_LIMIT)))
    if offer.offered:
        summary = say(
            "search.summary",
            language,
            cancellable=len(offer.cancellable),
            count=len(offer.found),
            limit=offer.limit,
        )
        blocks.append(ContextBlock(elements=[md(summary, CONTEXT_TEXT_LIMIT)]))
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(
                        action_id=ActionId.CHOOSE_ORDERS,
                        text=plain(say("search.choose_button", language), 75),
                        value=choice_button_value(args),
                        style="primary",
                    )
                ]
            )
        )
    else:
        nothing = say("search.nothing_to_cancel", language)
        blocks.append(ContextBlock(elements=[md(nothing, CONTEXT_TEXT_LIMIT)]))
    return Rendered(fallback_text(header), blocks)


def failure_words(failed: SearchFailed, language: Language) -> tuple[str, str, str]:
    """(title, code, meaning) of a failed search, from the catalogue."""
    if failed.code:
        entry = entry_for_code(failed.code)
        code = failed.code
    else:
        kind = failed.failure or FailureKind.UNEXPECTED_STATUS
        entry, code = FAILURES[kind], kind.value
    text = entry.text(language)
    return escape(text.title), escape(code), escape(text.meaning)


def build_search_failed(args: SearchArgs, failed: SearchFailed, language: Language) -> Rendered:
    title, code, meaning = failure_words(failed, language)
    text = say(
        "search.failed", language, title=title, code=code, meaning=meaning, **_about(args, language)
    )
    return Rendered(fallback_text(text), [SectionBlock(text=md(text))])


def choice_button_value(args: SearchArgs) -> str:
    return f"{args.kind.value}:{args.query}"


def parse_choice_button_value(value: str) -> tuple[str, str]:
    """(keyword, query) of a Choose button; checked again by the caller like typed text."""
    keyword, _, query = value.partition(":")
    return keyword, query


# -- the choice modal ---------------------------------------------------------------------------


def _modal(
    blocks: Sequence[Block], language: Language, *, submit: bool, metadata: str = ""
) -> View:
    return View(
        type="modal",
        callback_id=CallbackId.CHOICE_MODAL,
        private_metadata=metadata,
        title=modal_text("search.modal.title", language),
        submit=modal_text("modals.request.submit", language) if submit else None,
        close=modal_text("modals.back", language),
        blocks=list(blocks),
    )


def build_choice_loading_modal(args: SearchArgs, language: Language) -> View:
    """Opened at once with the click's trigger (it expires in 3 s), then replaced."""
    text = say("search.modal.searching", language, **_about(args, language))
    return _modal([SectionBlock(text=md(text))], language, submit=False)


def build_choice_failed_modal(args: SearchArgs, failed: SearchFailed, language: Language) -> View:
    return _modal(build_search_failed(args, failed, language).blocks, language, submit=False)


def _option(found: FoundOrder, language: Language) -> Option:
    order = found.order
    text = f"{found.order_id} · {order.type} · {order.status}"
    if found.refusal is None:
        description = say("search.option.cancellable", language)
    else:
        description = say("search.option.refused", language, code=found.refusal)
    return Option(
        value=found.order_id,
        text=plain(text, OPTION_TEXT_LIMIT),
        description=plain(description, OPTION_TEXT_LIMIT),
    )


def orders_block_id(index: int) -> str:
    return f"{BlockId.CHOICE_ORDERS.value}-{index + 1}"


def build_choice_modal(args: SearchArgs, offer: Offer, metadata: str, language: Language) -> View:
    """The orders offered (all but those cancelled already), 10 to a checkboxes block, the
    cancellable ones ticked up to the request limit; then the reason, as in the request form."""
    about = _about(args, language)
    offered = offer.offered
    if not offered:
        text = say("search.modal.nothing_offered", language, **about)
        return _modal([SectionBlock(text=md(text))], language, submit=False)
    blocks: list[Block] = [
        SectionBlock(text=md(say("search.modal.intro", language, limit=offer.limit, **about)))
    ]
    if len(offer.cancellable) > offer.limit:
        over = say(
            "search.modal.over_limit",
            language,
            cancellable=len(offer.cancellable),
            limit=offer.limit,
        )
        blocks.append(ContextBlock(elements=[md(over, CONTEXT_TEXT_LIMIT)]))
    ticked = set(offer.preselected)
    for index, start in enumerate(range(0, len(offered), OPTIONS_PER_BLOCK)):
        group = offered[start : start + OPTIONS_PER_BLOCK]
        options = [_option(found, language) for found in group]
        initial = [
            option for option, found in zip(options, group, strict=True) if found.order_id in ticked
        ]
        label = say("search.modal.orders_label", language, first=start + 1, last=start + len(group))
        blocks.append(
            InputBlock(
                block_id=orders_block_id(index),
                label=plain(label, 2000),
                optional=True,
                element=CheckboxesElement(
                    action_id=InputActionId.CHOICE_ORDERS,
                    options=options,
                    initial_options=initial or None,
                ),
            )
        )
    blocks += reason_blocks(language)
    return _modal(blocks, language, submit=True, metadata=metadata)


# -- its submission -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChoiceMetadata:
    """What the bot put in the choice modal's private_metadata."""

    channel_id: str
    keyword: str
    query: str
    seal: str

    def dumps(self) -> str:
        return json.dumps(
            {"c": self.channel_id, "k": self.keyword, "q": self.query, "s": self.seal}
        )


def choice_metadata(raw: object) -> ChoiceMetadata | None:
    try:
        data = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    values = [data.get(key) for key in ("c", "k", "q", "s")]
    if not all(isinstance(value, str) for value in values):
        return None
    channel, keyword, query, seal = (str(value) for value in values)
    return ChoiceMetadata(channel, keyword, query, seal)


@dataclass(frozen=True, slots=True)
class Choice:
    """A submitted choice: the orders offered (as the view holds them), those ticked, and the
    reason."""

    offered: tuple[str, ...]
    selected: tuple[str, ...]
    category: str
    details: str


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _offered_in(view: dict[str, Any]) -> tuple[str, ...]:
    offered: list[str] = []
    blocks = view.get("blocks")
    for block in blocks if isinstance(blocks, list) else []:
        block_id = str(_object(block).get("block_id", ""))
        if not block_id.startswith(BlockId.CHOICE_ORDERS.value):
            continue
        options = _object(_object(block).get("element")).get("options")
        for option in options if isinstance(options, list) else []:
            offered.append(str(_object(option).get("value", "")))
    return tuple(offered)


def parse_choice_submission(view: dict[str, Any], language: Language) -> Choice | dict[str, str]:
    """The submitted choice, or the errors to show per block (Slack's format)."""
    values = _object(_object(view.get("state")).get("values"))
    selected: list[str] = []
    for block_id, fields in values.items():
        if not str(block_id).startswith(BlockId.CHOICE_ORDERS.value):
            continue
        chosen = _object(_object(fields).get(InputActionId.CHOICE_ORDERS.value))
        options = chosen.get("selected_options")
        for option in options if isinstance(options, list) else []:
            order_id = str(_object(option).get("value", ""))
            if order_id and order_id not in selected:
                selected.append(order_id)
    reason = submitted_reason(view, language)
    if isinstance(reason, dict):
        return reason
    category, details = reason
    if has_hidden_characters(details):
        return {BlockId.REQUEST_REASON.value: say("usage.hidden_characters", language)}
    if len(details) > MAX_REASON_LENGTH:
        too_long = say(
            "usage.reason_too_long", language, length=len(details), limit=MAX_REASON_LENGTH
        )
        return {BlockId.REQUEST_REASON.value: too_long}
    return Choice(_offered_in(view), tuple(selected), category, details)


def selection_error(
    problem: SelectionProblem, count: int, limit: int, language: Language
) -> dict[str, str]:
    """A refused choice, shown on the first block of orders."""
    return {orders_block_id(0): say(problem.value, language, count=count, limit=limit)}
