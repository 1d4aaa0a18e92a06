"""MouvONE's customer-orders API (SOGET), as docs/soget-api.md describes it: the typed client
(`client`), its failures (`errors`) and what it reads (`models`), the access tokens (`tokens`),
how failures are logged (`diagnostics`), and the sandbox stand-in that serves the documented
behaviour (`sandbox`).

May import: the standard library, httpx, pydantic, aiohttp (the stand-in), `bot.i18n.catalogue`
for failure kinds. Nothing else of the bot: settings reach it as plain values.
"""
