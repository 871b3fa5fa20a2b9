"""OpenAPI postprocessing: say in the schema what the API enforces."""

# Request bodies the API refuses when they carry a field it does not know (the serializer
# lists the unknown fields in its 400), so clients learn it from the schema.
CLOSED_COMPONENTS = ("LabelIn",)


def closed_request_bodies(result: dict, generator, request, public) -> dict:
    schemas = result.get("components", {}).get("schemas", {})
    for name in CLOSED_COMPONENTS:
        if name in schemas:
            schemas[name]["additionalProperties"] = False
    return result


_DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string", "description": "What is wrong, what to do."}},
    "required": ["detail"],
}
# What every researcher API operation may answer besides its success, and why.
_RESEARCHER_ERRORS = {
    "401": "no token, or an unknown or revoked one",
    "403": "the account is not a researcher's",
    "404": "no such study (or record) that this researcher may read",
    "429": "too many requests: see Retry-After",
}


def _answer(why: str, schema: dict = _DETAIL) -> dict:
    return {"description": why, "content": {"application/json": {"schema": schema}}}


def researcher_api_errors(result: dict, generator, request, public) -> dict:
    """Document the researcher API's error answers on each of its operations: 400 (a
    field's errors, or a detail) on writes and where a query parameter is read; 415 where
    a body is read (a body without its Content-Type, or of one not listed, is refused
    before any field is read); 406 where the answer is JSON and the Accept header admits
    none; and the ones every view gives. The annotator API reads every body as JSON (a
    400 when it is not)."""
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for code, why in _RESEARCHER_ERRORS.items():
                responses.setdefault(code, _answer(why))
            successes = [v for k, v in responses.items() if k.startswith("2")]
            if all("application/json" in r.get("content", {}) for r in successes):
                why = "the Accept header admits no JSON: send application/json, */* or none"
                responses.setdefault("406", _answer(why))
            queried = any(p.get("in") == "query" for p in operation.get("parameters", ()))
            if method == "post" or queried:
                why = (
                    "the request is not valid: per field (a body's or a query "
                    "parameter's), or a detail"
                )
                responses.setdefault("400", _answer(why, {"type": "object"}))
            if "requestBody" in operation:
                listed = ", ".join(sorted(operation["requestBody"].get("content", {})))
                why = f"the body's Content-Type is not one it reads: {listed}"
                responses.setdefault("415", _answer(why))
    return result
