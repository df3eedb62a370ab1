"""Benchmarks for ``framework``: an in-process ASGI driver comparing it with Starlette, FastAPI and a
hand-written raw ASGI app, a route-count scaling check, memory per request, and a soak test
against a real uvicorn. Run them with ``make bench`` (``python -m benchmarks.run --help``).
"""
