"""The researcher REST API, /api/v1/: token authentication, per-study permissions."""
