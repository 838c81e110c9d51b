"""OpenAPI 3 documents compared base vs head: which changes break existing clients.

Breaking (``destructive``): a path or an operation removed, a required request parameter
or request-body property added (or an optional one made required), a parameter's or a
property's type changed, a success (2xx) response removed, a required response property
removed (or made optional). Local ``$ref``s are followed. Work is bounded by a step budget
so that a document of YAML aliases cannot make the comparison explode.
"""

from __future__ import annotations

import json
from typing import Any

from gatekeeper.evidence.schema.model import (
    Analysis,
    Findings,
    Source,
    Unparsable,
    decode,
    unparsable,
)

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
BUDGET = 200_000
"""Comparison steps per document pair."""


def sniff(data: bytes) -> bool:
    return b"openapi" in data[:4096]


def load(data: bytes, path: str) -> dict[str, Any]:
    text = decode(data)
    try:
        if path.lower().endswith(".json"):
            doc = json.loads(text)
        else:
            import yaml

            doc = yaml.safe_load(text)
    except Exception as e:  # any parser failure on hostile input is "unparsable"
        raise Unparsable(f"{type(e).__name__}: {e}"[:300]) from None
    if not is_openapi(doc):
        raise Unparsable("not an OpenAPI 3 document (no `openapi: 3.x`)")
    return doc


def is_openapi(doc: Any) -> bool:
    return isinstance(doc, dict) and str(doc.get("openapi", "")).startswith("3")


class _Diff:
    def __init__(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.old, self.new = old, new
        self.out = Findings()
        self.steps = 0

    def step(self) -> None:
        self.steps += 1
        if self.steps > BUDGET:
            raise Unparsable(f"comparison exceeds {BUDGET} steps")

    def resolve(self, doc: dict[str, Any], node: Any) -> Any:
        for _ in range(20):
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
                return node
            self.step()
            ref = node["$ref"]
            if not ref.startswith("#/"):
                return {}  # an external reference is not followed
            target: Any = doc
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                target = target.get(part) if isinstance(target, dict) else None
            node = target
        return node

    def run(self) -> None:
        old_paths = _dict(self.old.get("paths"))
        new_paths = _dict(self.new.get("paths"))
        for path, old_item in old_paths.items():
            self.step()
            if path not in new_paths:
                self.out.add(f"remove path {path}", True)
                continue
            self.path(path, _dict(self.resolve(self.old, old_item)),
                      _dict(self.resolve(self.new, new_paths[path])))
        for path in new_paths:
            if path not in old_paths:
                self.out.add(f"add path {path}")

    def path(self, path: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        for method in METHODS:
            self.step()
            where = f"{method.upper()} {path}"
            if method in old and method not in new:
                self.out.add(f"remove operation {where}", True)
            elif method in new and method not in old:
                self.out.add(f"add operation {where}")
            elif method in old:
                o, n = _dict(old[method]), _dict(new[method])
                self.params(where, self._params(self.old, old, o), self._params(self.new, new, n))
                self.body(where, o, n)
                self.responses(where, _dict(o.get("responses")), _dict(n.get("responses")))

    def _params(self, doc: dict[str, Any], item: dict[str, Any], op: dict[str, Any]) -> dict:
        params: dict[tuple[str, str], dict[str, Any]] = {}
        for source in (item.get("parameters"), op.get("parameters")):
            for p in source if isinstance(source, list) else []:
                self.step()
                p = _dict(self.resolve(doc, p))
                params[(str(p.get("in")), str(p.get("name")))] = p
        return params

    def params(self, where: str, old: dict, new: dict) -> None:
        for key, p in new.items():
            self.step()
            name = f"{key[0]} parameter {key[1]}"
            before = old.get(key)
            if p.get("required") is True and (before is None or before.get("required") is not True):
                self.out.add(f"add required {name} to {where}", True)
            if before is not None:
                t0 = _type(self.resolve(self.old, before.get("schema")))
                t1 = _type(self.resolve(self.new, p.get("schema")))
                if t0 and t1 and t0 != t1:
                    self.out.add(f"change type of {name} in {where} {t0} -> {t1}", True)
        for key in old:
            if key not in new:
                self.out.add(f"remove {key[0]} parameter {key[1]} from {where}")

    def body(self, where: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        ob = _dict(self.resolve(self.old, old.get("requestBody")))
        nb = _dict(self.resolve(self.new, new.get("requestBody")))
        if nb.get("required") is True and ob and ob.get("required") is not True:
            self.out.add(f"request body of {where} made required", True)
        for media, content in _dict(nb.get("content")).items():
            before = _dict(ob.get("content")).get(media)
            if before is None:
                continue
            os_ = _dict(self.resolve(self.old, _dict(before).get("schema")))
            ns = _dict(self.resolve(self.new, _dict(content).get("schema")))
            old_req, new_req = set(_list(os_.get("required"))), set(_list(ns.get("required")))
            for prop in sorted(new_req - old_req, key=str):
                self.out.add(f"add required property {prop} to request body of {where}", True)
            self.types(f"request body of {where}", os_, ns)

    def responses(self, where: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        for code, resp in old.items():
            self.step()
            if not str(code).startswith("2"):
                continue
            if code not in new:
                self.out.add(f"remove response {code} from {where}", True)
                continue
            oc = _dict(_dict(self.resolve(self.old, resp)).get("content"))
            nc = _dict(_dict(self.resolve(self.new, new[code])).get("content"))
            for media, content in oc.items():
                if media not in nc:
                    self.out.add(f"remove {media} response {code} from {where}", True)
                    continue
                os_ = _dict(self.resolve(self.old, _dict(content).get("schema")))
                ns = _dict(self.resolve(self.new, _dict(nc[media]).get("schema")))
                props = _dict(ns.get("properties"))
                new_req = set(_list(ns.get("required")))
                for prop in _list(os_.get("required")):
                    self.step()
                    if prop not in props or prop not in new_req:
                        self.out.add(
                            f"remove required response property {prop} ({code} of {where})", True
                        )
                self.types(f"response {code} of {where}", os_, ns)

    def types(self, where: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        t0, t1 = _type(old), _type(new)
        if t0 and t1 and t0 != t1:
            self.out.add(f"change type of {where} {t0} -> {t1}", True)
        new_props = _dict(new.get("properties"))
        for prop, schema in _dict(old.get("properties")).items():
            self.step()
            if prop in new_props:
                a = _type(self.resolve(self.old, schema))
                b = _type(self.resolve(self.new, new_props[prop]))
                if a and b and a != b:
                    self.out.add(f"change type of property {prop} in {where} {a} -> {b}", True)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return [v for v in value if isinstance(v, str | int)] if isinstance(value, list) else []


def _type(schema: Any) -> str:
    if not isinstance(schema, dict):
        return ""
    t = schema.get("type")
    if isinstance(t, list):
        t = "|".join(sorted(str(x) for x in t))
    fmt = schema.get("format")
    return f"{t}" + (f"({fmt})" if isinstance(fmt, str) and t else "") if t else ""


def analyze(src: Source) -> Analysis:
    try:
        old = load(src.base, src.old_path or src.path) if src.base is not None else {}
        new = load(src.head, src.path) if src.head is not None else {}
        diff = _Diff(old, new)
        diff.run()
    except Unparsable as e:
        return unparsable(f"OpenAPI document cannot be read: {e}")
    except RecursionError:
        return unparsable("OpenAPI document is nested too deeply")
    if src.head is None:
        diff.out.add("remove document", True)
    return diff.out.analysis(None)
