"""The workflows: open a request, decide, send the cancel (each order of a bulk request once:
`bulk`), read it back, deliver the outbox, answer audit questions, keep the App Home and the
notices going.

May import: `bot.domain`, `bot.storage`, `bot.soget`, `bot.i18n`, `bot.observability`, and
`bot.slack` only through the publisher it is given. Never `handlers`.
"""
