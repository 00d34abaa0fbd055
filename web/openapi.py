"""The OpenAPI 3.1 document of ``/api/v1``, generated from the routes themselves.

Why our own small generator: every API view declares its parameters, request body and
responses with ``@api_doc``; the document is built from the URL map and those
declarations (plus each route's permission), so it cannot drift from the code, and the
schemathesis test fuzzes the app against exactly this document.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Flask

ERROR = {"type": "object", "required": ["status", "error"], "properties": {
    "status": {"const": "error"},
    "error": {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string", "description": "稳定的错误代码（与命令行一致）"},
        "message": {"type": "string"}}}}}
_ERROR_RESPONSES = {"400": "请求无效", "401": "未认证", "403": "无权限", "404": "未找到",
                    "413": "提交包过大"}


def api_doc(summary: str, *, params: list[dict[str, Any]] | None = None,
            body: dict[str, Any] | None = None,
            responses: dict[str, tuple[str, dict[str, Any] | None]] | None = None,
            produces: dict[str, list[str]] | None = None
            ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare what a route takes and answers (``responses``: status → (text, schema);
    ``produces``: status → media types of a binary answer instead of JSON)."""
    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        view.api_doc = {"summary": summary, "params": params or [], "body": body,  # type: ignore[attr-defined]
                        "responses": responses or {}, "produces": produces or {}}
        return view
    return decorate


def query(name: str, schema: dict[str, Any], description: str = "",
          required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema,
            "description": description}


def _path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    params = []
    for conv, name in re.findall(r"<(?:([^:>]+):)?([^>]+)>", rule):
        schema: dict[str, Any] = {"type": "integer"} if conv == "int" else {
            "type": "string", "minLength": 1}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule), params


def build(app: Flask, prefix: str = "/api/v1") -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith(prefix):
            continue
        view = app.view_functions[rule.endpoint]
        doc = getattr(view, "api_doc", None)
        if doc is None:
            continue
        path, path_params = _path(rule.rule)
        perms = getattr(view, "required_permissions", ())
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            op: dict[str, Any] = {
                "operationId": rule.endpoint.replace(".", "_") + "_" + method.lower(),
                "summary": doc["summary"],
                "parameters": path_params + doc["params"],
                "responses": {},
            }
            if perms:
                op["description"] = "所需权限（任一）：" + "、".join(perms)
                op["security"] = [{"bearer": []}, {"session": []}]
            else:
                op["security"] = []
            if doc["body"] is not None:
                op["requestBody"] = {"required": True, "content": doc["body"]}
            for status, (text, schema) in doc["responses"].items():
                content = {m: {"schema": {"type": "string", "format": "binary"}}
                           for m in doc["produces"].get(status, [])} or {
                    "application/json": {"schema": schema or {"type": "object"}}}
                op["responses"][status] = {"description": text, "content": content}
            for status, text in _ERROR_RESPONSES.items():
                if perms or status not in ("401", "403"):
                    op["responses"].setdefault(status, {"description": text, "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "Dangan 社会保险业务电子档案 API", "version": "1",
                 "description": "案件办理系统以系统令牌提交办件；用户以会话或个人令牌检索、查阅、验证。"},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "dangan api token add 签发的令牌"},
                "session": {"type": "apiKey", "in": "cookie", "name": "dangan_session"}},
        },
    }
