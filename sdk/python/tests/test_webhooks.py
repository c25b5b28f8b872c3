import base64
import hashlib
import hmac
import time

import pytest

from wisp import WebhookVerificationError, verify_webhook

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def signed(body: str, msg_id: str = "msg_1", timestamp: int | None = None) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return {
        "Webhook-Id": msg_id,
        "Webhook-Timestamp": str(timestamp),
        "Webhook-Signature": f"v1,{base64.b64encode(mac).decode()}",
    }


def test_accepts_a_valid_signature_and_returns_the_body():
    body = '{"type":"lead.created","data":{"id":"l1"}}'
    assert verify_webhook(body, signed(body), SECRET) == {"type": "lead.created", "data": {"id": "l1"}}


def test_refuses_a_changed_body():
    headers = signed('{"amount":1}')
    with pytest.raises(WebhookVerificationError):
        verify_webhook('{"amount":100}', headers, SECRET)


def test_refuses_a_stale_timestamp():
    body = "{}"
    with pytest.raises(WebhookVerificationError):
        verify_webhook(body, signed(body, timestamp=int(time.time()) - 3600), SECRET)
