"""The playground: the whole bot without a Slack workspace (`cancel-order-bot --playground`).

A stand-in of Slack (`slack`: the Web API methods the bot calls, response_url, a workspace in
memory) that is also a web page rendering the channel as Slack does (`page`, `static/`): people
type `/cancel-order …` and click as example users, and the stand-in sends the bot the signed
requests Slack would send, over its real HTTP endpoint. `run` starts the bot (sandbox SOGET),
the stand-in and the page together; `browser` drives the page in headless Chromium (the test,
and the screenshot in docs/).

May import: any of `bot` (it is a client of the bot, as Slack is), aiohttp, slack_sdk.
Nothing in `bot` imports it but the command line (`bot.__main__`). The tests' fake Slack
(tests/fakes/slack_api.py) is `slack.SlackStandIn` plus fault scripting: one implementation.
"""
