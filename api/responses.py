"""JSON responses encoded with orjson (numpy values, non-str keys handled); bytes are sent as they are
(documents the library has already encoded, e.g. features).

`JSONResponse` is a starlette JSONResponse, so FastAPI documents a route's JSON answer with the
route's response model (or the models of api/models.py) instead of `{"type": "string"}`."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse as _StarletteJSONResponse


class JSONResponse(_StarletteJSONResponse):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        if isinstance(content, bytes):
            return content
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)


class GeoJSONResponse(JSONResponse):
    media_type = "application/geo+json"
