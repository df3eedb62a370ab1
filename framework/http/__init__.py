"""HTTP and WebSocket messages: what a connection carries in and out.

Nothing here knows of routing, handler plans or the app: ``datastructures`` (URL, headers, query
parameters, state), ``forms`` (form bodies and uploads), ``requests``, ``responses``, ``files``
(``FileResponse``, with ``conditional`` for ranges and caching validators) and ``websockets``.
"""
