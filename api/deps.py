"""Dependencies shared by the routers: the store, output negotiation, language."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Query, Request

from geoborder.store.base import Store


def get_store(request: Request) -> Store:
    return request.app.state.store


StoreDep = Annotated[Store, Depends(get_store)]


class OutputType(StrEnum):
    json = "json"
    html = "html"


def output_type(
    request: Request,
    f: Annotated[
        OutputType | None,
        Query(
            description="Output format; without it the Accept header decides.",
            openapi_examples={"json": {"value": "json"}, "html": {"value": "html"}},
        ),
    ] = None,
) -> OutputType:
    if f is not None:
        return f
    accept = request.headers.get("accept", "")
    if "text/html" in accept and "json" not in accept.split(",")[0]:
        return OutputType.html
    return OutputType.json


OutputDep = Annotated[OutputType, Depends(output_type)]


@dataclass
class Lang:
    code: str


def language(
    lang: Annotated[
        str | None, Query(pattern="^(vi|en)$", description="Language of titles and labels: vi (default) or en.")
    ] = None,
) -> str:
    return lang or "vi"


LangDep = Annotated[str, Depends(language)]
