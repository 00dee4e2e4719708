"""What every client of the platform may know, and nothing else: the message envelope and its codec,
NATS subjects and queue groups, headers, error codes and their statuses, HTTP route paths, the id alphabet.

The platform implements it; the acceptance suite (harness and steps) imports only this package of the
platform's code, so the same specs accept any deployment that keeps these contracts. import-linter holds
that line (pyproject.toml, `lint-imports`).
"""
