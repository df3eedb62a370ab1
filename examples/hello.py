"""The smallest app: one JSON greeting and one greeting with a path parameter.

What it shows: ``App()``, route decorators, a typed path parameter, and a returned dict becoming
a JSON response.

Run it::

    uvicorn examples.hello:app --reload
    curl http://127.0.0.1:8000/            # {"message":"Hello, World!"}
    curl http://127.0.0.1:8000/hello/Ada   # {"message":"Hello, Ada!"}
"""

from framework import App

app = App(title="Hello")


@app.get("/")
async def root() -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.get("/hello/{name}")
async def hello(name: str) -> dict[str, str]:
    return {"message": f"Hello, {name}!"}
