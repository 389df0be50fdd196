"""Waking apps on their first HTTP request: the built-in proxy (`paastis proxy`) and the
Sablier-compatible API for existing reverse proxies. Uses the engine, never providers."""
