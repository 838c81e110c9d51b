"""Precompiled policy validators: the fast path of policy validation.

Importing jsonschema (with referencing, attrs and rpds) takes about 40 ms, more than
the rest of a small ``gatekeeper check`` run's start. The schemas a run validates are
known when Gatekeeper is built: the policy's structure, the part schema of a policy
that ``extends`` bases, the waivers file, and each built-in check's options.
``python -m gatekeeper.policy.compiled`` turns each into plain Python with fastjsonschema
(setuptools ships its pyproject.toml validator the same way), one module per schema here,
so a run imports only the base's and its rules' checks'.

That code answers one question: does the document satisfy the schema? When it says
yes, validation is done. When it says no, or when it has no current code for a schema
(a plugin's check, a schema edited since the code was made: each module carries the
digest of the schema it was made from), jsonschema validates as before and lists the
problems as ``FILE:LINE:COL``. jsonschema stays the judge: this code must never accept
what jsonschema refuses (tests/policy/test_compiled.py checks that they agree).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import re
from typing import Any


class Invalid(ValueError):
    """What the generated code raises (it passes fastjsonschema's exception arguments)."""

    def __init__(self, message: str = "", *args: Any, **details: Any) -> None:
        super().__init__(message)


def module_name(key: str) -> str | None:
    """The module of ``key`` (``check:smoke-coverage`` -> ``check_smoke_coverage``), or
    ``None`` for a name no generated module can have (a plugin's check may be called
    anything)."""
    name = key.replace("-", "_").replace(":", "_")
    return name if re.fullmatch(r"[a-z][a-z0-9_]*", name) else None


def digest(schema: Any) -> str:
    """The schema's identity: what a generated module must have been made from."""
    text = json.dumps(schema, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def accepts(key: str, schema: dict[str, Any], instance: Any) -> bool:
    """Whether the precompiled validator for ``key``, made from exactly ``schema``,
    accepts ``instance``. ``False`` means "ask jsonschema": the instance is invalid, or
    there is no current compiled code for this schema."""
    name = module_name(key)
    if name is None:
        return False
    try:
        module = importlib.import_module(f"{__name__}.{name}")
    except ImportError:
        return False
    try:
        if digest(schema) != module.SCHEMA_SHA256:
            return False  # edited since it was compiled: jsonschema reads the new one
        module.validate(instance)
    except Exception:  # Invalid, or a document the generated code did not foresee
        return False
    return True
