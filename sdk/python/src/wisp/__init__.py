"""Wisp's Python SDK: `from wisp import Wisp`."""

from . import models
from ._client import ChatResource, Wisp
from ._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    BadRequestError,
    ConflictError,
    ForbiddenError,
    IdempotencyError,
    InternalError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    QuotaExceededError,
    RateLimitError,
    UnauthorizedError,
    UnavailableError,
    UnsupportedMediaTypeError,
    ValidationError,
    WispError,
)
from ._sse import ServerSentEvent, parse_sse
from ._streaming import ChatChunk, ChatDone, ChatEvent, ChatStream
from ._transport import Page
from .webhooks import WebhookVerificationError, verify_webhook

__version__ = "0.1.0"

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "BadRequestError",
    "ChatChunk",
    "ChatDone",
    "ChatEvent",
    "ChatResource",
    "ChatStream",
    "ConflictError",
    "ForbiddenError",
    "IdempotencyError",
    "InternalError",
    "MethodNotAllowedError",
    "NotFoundError",
    "Page",
    "PayloadTooLargeError",
    "QuotaExceededError",
    "RateLimitError",
    "ServerSentEvent",
    "UnauthorizedError",
    "UnavailableError",
    "UnsupportedMediaTypeError",
    "ValidationError",
    "WebhookVerificationError",
    "Wisp",
    "WispError",
    "models",
    "parse_sse",
    "verify_webhook",
]
