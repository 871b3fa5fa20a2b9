"""Test override: the real settings, with a throwaway var/ folder and a fast hasher."""

import os
import tempfile

os.environ.setdefault("COUNTERPOINT_VAR_DIR", tempfile.mkdtemp(prefix="counterpoint-test-"))
# Tests send to their own queue, so a demo worker never eats test messages (or the reverse).
os.environ.setdefault("CELERY_QUEUE", "counterpoint-test")

from config.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
# Persistent connections held by the live server's thread would block dropping the test
# database at the end of the run.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# Every test client comes from 127.0.0.1: the suite as a whole would trip the per-address
# limits. tests/test_throttles.py sets them low where it tests them.
ENTRY_RATE_PER_MINUTE = 1_000_000
LABEL_RATE = "1000000/min"
