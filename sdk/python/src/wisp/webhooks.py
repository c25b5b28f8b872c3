"""Verifies webhook deliveries signed the Standard Webhooks way (`webhook-id`, `webhook-timestamp`, `webhook-signature`)."""

from __future__ import annotations

from typing import Any, Mapping, Union

from standardwebhooks.webhooks import Webhook, WebhookVerificationError as _VerificationFailure

from ._errors import WispError


class WebhookVerificationError(WispError):
    """The delivery's signature, id or timestamp did not check out: do not trust its body."""


def verify_webhook(payload: Union[str, bytes], headers: Mapping[str, str], secret: str) -> Any:
    """Checks the HMAC-SHA256 signature and the timestamp (5 minutes either way) and returns the parsed body.

    `payload` must be the raw request body, byte for byte; `secret` is the endpoint's `whsec_...` secret.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        return Webhook(secret).verify(payload, lowered)
    except _VerificationFailure as exc:
        raise WebhookVerificationError(str(exc)) from exc
