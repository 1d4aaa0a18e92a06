"""Everything that speaks Slack: the publisher around the Web API, action and block ids, the
request check at the door (signature, shape), the sandbox client, and `messages/`.

May import: slack_sdk, `bot.domain`, `bot.i18n`. Never services or storage.
"""
