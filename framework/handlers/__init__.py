"""From a handler's signature to the values it is called with, and from its result to JSON.

``params`` holds the markers users write; ``compile`` reads a signature into a plan once, when
a route is added; ``run`` is the prepared request function a route runs; ``errors`` gives 422
answers their shape; ``serialize`` turns returned values into JSON.
"""
