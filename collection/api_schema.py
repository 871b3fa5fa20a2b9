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
