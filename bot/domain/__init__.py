"""The business rules, tested without Slack or HTTP: the request and its state machine, who may
decide, command parsing, what an answer from MouvONE means.

May import: the standard library, pydantic, `bot.soget` models. Never Slack, never storage.
"""
