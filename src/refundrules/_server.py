"""The HTTP service (extra ``server``: FastAPI and uvicorn) over a long-lived :class:`Engine`.

``create_app(engine)`` gives the ASGI application; ``refundrules serve`` runs it with uvicorn.
Every request and response body is one of the pydantic models below or the library's own
(:class:`Prediction`, :class:`PackInfo`, :class:`ReloadResult`), so the OpenAPI document is
generated from the same models the Python API returns. A bad case, as-of time or pack answers
422 with the field path; a body over the size limit 413; nothing a client sends answers 500.
"""

from __future__ import annotations

import json
import logging
import platform
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from refundrules._extras import require_module
from refundrules._prediction import Prediction
from refundrules._service import Engine, PackInfo, ReloadResult
from refundrules.exceptions import (
    CaseError,
    EvaluationError,
    RefundRulesError,
    ReloadError,
    RulePackError,
    UnknownPackError,
)

require_module("refundrules serve", module="fastapi", extra="server")

from fastapi import FastAPI, Request  # noqa: E402
from fastapi.responses import JSONResponse  # noqa: E402

__all__ = ["DEFAULT_MAX_BODY", "JsonLogFormatter", "create_app"]

DEFAULT_MAX_BODY = 1_000_000  # bytes; a real case is a few kilobytes
LOGGER = "refundrules.server"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_CASE_SCHEMA = {
    "type": "object",
    "description": "a case (see `refundrules schema case`); checked against the pack's profile",
}


class PredictRequest(BaseModel):
    """One case to predict, at ``as_of`` (default: now), by ``pack`` (default: the pack for
    the case's platform), under ``version`` (default: the one in force on the request date)."""

    model_config = ConfigDict(extra="forbid")

    case: Annotated[dict[str, Any], WithJsonSchema(_CASE_SCHEMA)]
    as_of: datetime | None = None
    pack: str | None = None
    version: str | None = None


class ErrorItem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ErrorResponse(BaseModel):
    """What a refused request answers: one item per problem, ``loc`` the path of the field."""

    detail: list[ErrorItem]


class Health(BaseModel):
    status: str
    packs: int


class VersionInfo(BaseModel):
    refundrules: str
    python: str
    packs: dict[str, list[str]] = Field(description="pack id to its versions' content hashes")


class ReloadFailure(BaseModel):
    """A reload that failed: the old pack is still in use (``kept``, its newest content hash)."""

    detail: str
    pack_id: str
    kept: str
    cause: str


def _loc(field: str) -> list[str | int]:
    """``timeline[2].at`` → ``["timeline", 2, "at"]``."""
    parts: list[str | int] = []
    for piece in field.replace("]", "").split("."):
        name, *indexes = piece.split("[")
        if name:
            parts.append(name)
        parts += [int(index) if index.isdigit() else index for index in indexes]
    return parts


def _errors(items: list[tuple[list[str | int], str, str]], status: int) -> JSONResponse:
    body = ErrorResponse(
        detail=[ErrorItem(loc=loc, msg=msg, type=kind) for loc, msg, kind in items]
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=status)


def _case_error(error: CaseError) -> JSONResponse:
    items = []
    for field, message in error.errors:
        where: list[str | int] = ["body", "as_of"] if field == "as_of" else ["body", "case"]
        if field and field != "as_of":
            where += _loc(field)
        items.append((where, message, "case_error"))
    return _errors(items or [(["body", "case"], str(error), "case_error")], 422)


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any ``extra`` fields."""

    _skip = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None)))

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(
            {k: v for k, v in vars(record).items() if k not in self._skip and k != "message"}
        )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class _BodyLimit:
    """Refuse (413) a request whose body is larger than ``limit`` bytes, declared or streamed."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(send)
            return
        seen = 0
        started = False

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited, tracking)
        except _TooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {
                "detail": [
                    {
                        "loc": ["body"],
                        "msg": f"the request body is over {self.limit} bytes",
                        "type": "too_large",
                    }
                ]
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


def create_app(engine: Engine, *, max_body: int = DEFAULT_MAX_BODY) -> FastAPI:
    """The ASGI application answering with ``engine`` (which the caller closes)."""
    from refundrules import __version__

    log = logging.getLogger(LOGGER)
    app = FastAPI(
        title="refundrules",
        version=__version__,
        description="Predict how an e-commerce refund dispute will end.",
    )
    refused: dict[int | str, dict[str, Any]] = {
        413: {"model": ErrorResponse, "description": "the request body is too large"},
    }

    @app.middleware("http")
    async def access_log(request: Request, call_next: Callable[[Request], Awaitable[Any]]) -> Any:
        began = time.perf_counter()
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex[:16]
        try:
            response = await call_next(request)
        except Exception:  # pragma: no cover - every route answers; this is the last guard
            log.exception("request failed", extra={"request_id": request_id})
            response = JSONResponse(
                {"detail": [{"loc": [], "msg": "internal error", "type": "internal"}]},
                status_code=500,
            )
        response.headers["x-request-id"] = request_id
        log.info(
            "request",
            extra={
                "request_id": request_id,
                "method": request.method,
                "path": request.url.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - began) * 1000, 3),
            },
        )
        return response

    @app.exception_handler(CaseError)
    async def on_case_error(request: Request, error: CaseError) -> JSONResponse:
        return _case_error(error)

    @app.post(
        "/predict",
        response_model=Prediction,
        responses={422: {"model": ErrorResponse}, 404: {"model": ErrorResponse}, **refused},
    )
    def predict(body: PredictRequest) -> Any:
        """Predict one case with the current pack of its platform (or the one named)."""
        try:
            prediction = engine.predict(body.case, body.as_of, pack=body.pack, version=body.version)
        except CaseError as error:
            return _case_error(error)
        except UnknownPackError as error:
            return _errors([(["body", "pack"], str(error), "unknown_pack")], 404)
        except RulePackError as error:  # e.g. an unknown version
            field = "version" if body.version is not None else "pack"
            return _errors([(["body", field], str(error), "pack_error")], 422)
        except EvaluationError as error:
            return _errors([(["body", "case"], str(error), "evaluation_error")], 422)
        except Exception as error:  # a case the checks let through but predicting cannot take
            log.exception("prediction failed", extra={"error": repr(error)})
            message = f"the case could not be predicted: {type(error).__name__}"
            return _errors([(["body", "case"], message, "unprocessable")], 422)
        return JSONResponse(prediction.model_dump(mode="json"))

    @app.get("/packs", response_model=list[PackInfo])
    def packs() -> Any:
        """The pack families loaded, with their versions and content hashes."""
        return JSONResponse([info.model_dump(mode="json") for info in engine.packs()])

    @app.post(
        "/packs/{pack_id}/reload",
        response_model=ReloadResult,
        responses={404: {"model": ErrorResponse}, 409: {"model": ReloadFailure}},
    )
    def reload(pack_id: str) -> Any:
        """Read a pack again from disk and swap it in; a failure keeps the old one (409)."""
        try:
            result = engine.reload(pack_id)
        except UnknownPackError as error:
            return _errors([(["path", "pack_id"], str(error), "unknown_pack")], 404)
        except ReloadError as error:
            log.warning("reload failed", extra={"pack_id": pack_id, "cause": str(error.cause)})
            failure = ReloadFailure(
                detail=str(error), pack_id=pack_id, kept=error.kept, cause=str(error.cause)
            )
            return JSONResponse(failure.model_dump(mode="json"), status_code=409)
        except RefundRulesError as error:  # pragma: no cover - the engine was closed
            return _errors([(["path", "pack_id"], str(error), "unavailable")], 503)
        log.info("reloaded", extra={"pack_id": pack_id, "changed": result.changed})
        return JSONResponse(result.model_dump(mode="json"))

    @app.get("/health", response_model=Health)
    def health() -> Health:
        """The service answers and holds at least one pack."""
        count = len(engine.packs())
        return Health(status="ok" if count else "no packs", packs=count)

    @app.get("/version", response_model=VersionInfo)
    def version() -> VersionInfo:
        """The library and Python versions, and the content of every pack loaded."""
        return VersionInfo(
            refundrules=__version__,
            python=f"{platform.python_implementation()} {sys.version.split()[0]}",
            packs={info.id: [ref.content_hash for ref in info.versions] for info in engine.packs()},
        )

    app.add_middleware(_BodyLimit, limit=max_body)
    return app
