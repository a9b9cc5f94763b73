"""Plumbing shared by the gateway's rooms: RPC calls, error mapping, templating, languages, CSRF, client
address and rate limits, settings."""
