"""include_router keeps prefixes, tags, dependencies and responses through any nesting depth."""

from __future__ import annotations

from typing import Any

from framework import App, Depends, Request, Router
from framework.routing import Route
from framework.testclient import TestClient


def recorder(label: str) -> Any:
    async def record(request: Request) -> None:
        if not hasattr(request.state, "order"):
            request.state.order = []
        request.state.order.append(label)

    return Depends(record)


def test_three_levels_keep_prefixes_tags_dependencies_and_responses() -> None:
    leaf = Router(
        prefix="/leaf",
        tags=["leaf"],
        dependencies=[recorder("leaf-router")],
        responses={404: {"description": "leaf missing"}},
    )

    @leaf.get("/{x}", dependencies=[recorder("route")], responses={418: {"description": "tea"}})
    async def leaf_item(x: str, request: Request) -> dict[str, Any]:
        return {"x": x, "order": request.state.order}

    middle = Router(prefix="/middle", tags=["middle"], dependencies=[recorder("middle-router")])
    middle.include_router(
        leaf,
        prefix="/inc",
        tags=["inc"],
        dependencies=[recorder("middle-include")],
        responses={404: {"description": "included missing"}, 500: {"description": "boom"}},
    )
    top = Router(prefix="/top", dependencies=[recorder("top-router")])
    top.include_router(middle, dependencies=[recorder("top-include")])
    app = App(dependencies=[recorder("app")])
    app.include_router(top, prefix="/v1", tags=["v1"], dependencies=[recorder("app-include")])

    response = TestClient(app).get("/v1/top/middle/inc/leaf/z")
    assert response.status_code == 200
    assert response.json() == {
        "x": "z",
        "order": [
            "app",
            "app-include",
            "top-router",
            "top-include",
            "middle-router",
            "middle-include",
            "leaf-router",
            "route",
        ],
    }
    (route,) = [r for r in app.routes if r.name == "leaf_item"]
    assert isinstance(route, Route)
    assert route.path == "/v1/top/middle/inc/leaf/{x}"
    assert route.tags == ["v1", "middle", "inc", "leaf"]
    # The route's own entry wins over its router's, which wins over the include's.
    assert route.responses == {
        404: {"description": "leaf missing"},
        500: {"description": "boom"},
        418: {"description": "tea"},
    }
