"""From a handler's signature to the values it is called with, and from its result to JSON:
compiled once per route (``compile``, ``plan``), run per request (``pipeline``, ``run``, ``read``).
"""
