"""MouvONE's customer-orders API (SOGET): the typed client, its errors and models, the access
tokens, how failures are logged, and the sandbox stand-in that serves the documented behaviour.

May import: the standard library, httpx, pydantic, aiohttp (the stand-in), `bot.i18n.catalogue`
for failure kinds. Nothing else of the bot.
"""
