"""The business rules, tested without Slack or HTTP: the request and its state machine, who may
decide, command parsing, what the preview of an order predicts (`preview`), what an answer to a
cancel means (`outcomes`), an order's history as the audit views show it (`history`).

May import: the standard library, pydantic, `bot.soget` models and errors, `bot.i18n` (failure
kinds, outcome notes). Never Slack, never storage, never services.
"""
