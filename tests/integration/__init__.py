"""Integration tests: the framework served by real ASGI servers (see conftest.py, servers.py)."""
