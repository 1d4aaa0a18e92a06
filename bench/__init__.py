"""Benchmarks of the bot against the fake Slack and SOGET servers: `python -m bench`."""
