"""Schemathesis hooks for scripts/schemathesis.sh.

An Idempotency-Key names one request: reusing a generated key with another body is refused
(422 IdempotencyError) by design, so every generated call gets a fresh key, as a client would.
"""
import uuid

import schemathesis


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    if case.method.upper() == "POST":
        case.headers = {**(case.headers or {}), "Idempotency-Key": str(uuid.uuid4())}
