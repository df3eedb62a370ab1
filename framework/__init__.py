"""framework: a small, fast, FastAPI-like ASGI micro-framework, with FastAPI's and Starlette's
public names (moving an app over is an import change)."""

from framework import status
from framework.app import App
from framework.background import BackgroundTask, BackgroundTasks
from framework.endpoints import WebSocketEndpoint
from framework.exceptions import (
    HTTPException,
    RequestValidationError,
    ResponseValidationError,
    WebSocketException,
    WebSocketRequestValidationError,
)
from framework.handlers.params import (
    Body,
    Cookie,
    Depends,
    File,
    Form,
    Header,
    Path,
    Query,
    Security,
)
from framework.http.datastructures import URL, Headers, QueryParams, State
from framework.http.files import FileResponse
from framework.http.forms import FormData, UploadFile
from framework.http.requests import HTTPConnection, Request
from framework.http.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from framework.http.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from framework.routing import Route, Router, WebSocketRoute

__all__ = [
    "URL",
    "App",
    "BackgroundTask",
    "BackgroundTasks",
    "Body",
    "Cookie",
    "Depends",
    "File",
    "FileResponse",
    "Form",
    "FormData",
    "HTMLResponse",
    "HTTPConnection",
    "HTTPException",
    "Header",
    "Headers",
    "JSONResponse",
    "Path",
    "PlainTextResponse",
    "Query",
    "QueryParams",
    "RedirectResponse",
    "Request",
    "RequestValidationError",
    "Response",
    "ResponseValidationError",
    "Route",
    "Router",
    "Security",
    "State",
    "StreamingResponse",
    "UploadFile",
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketEndpoint",
    "WebSocketException",
    "WebSocketRequestValidationError",
    "WebSocketRoute",
    "WebSocketState",
    "status",
]

__version__ = "0.1.0"
