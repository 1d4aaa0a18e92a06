"""Every Block Kit builder, one module per surface: the request message (`blocks`), the thread
replies (`thread`), the preview (`preview`), private replies (`private`), direct messages (`dm`),
the request form (`request_form`), the App Home (`home`), audit answers (`audit`), and a bulk
request's message and summary reply (`bulk`).

Builders take data and return text and blocks. May import: slack_sdk models, `bot.domain`,
`bot.i18n`.
"""
