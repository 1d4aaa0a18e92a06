"""What an operator watches: Prometheus metrics, structured logs with request and trace ids, and
the `check` command that tries every dependency once.

May import: anything below services (it is wired at start), prometheus-client; `check`, a
command of its own, also builds its SOGET tokens as the runtime does (`bot.runtime.soget_tokens`).
"""
