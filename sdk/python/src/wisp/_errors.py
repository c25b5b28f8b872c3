"""Typed errors: one class per error name the API answers, each carrying the envelope's name, message and details."""

from __future__ import annotations

from typing import Any, Mapping, Optional


class WispError(Exception):
    """Base class of every error this package raises."""


class APIConnectionError(WispError):
    """The request never got an answer: the connection failed or was cut."""


class APITimeoutError(APIConnectionError):
    """No answer within the timeout."""


class APIError(WispError):
    """The API answered with an error envelope `{"data": null, "error": {name, message, details}}`."""

    def __init__(
        self,
        status: int,
        name: str,
        message: str,
        details: Any = None,
        *,
        request_id: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
    ) -> None:
        super().__init__(f"{name} ({status}): {message}")
        self.status = status
        self.name = name
        self.message = message
        self.details = details
        self.request_id = request_id
        self.headers = dict(headers or {})


class BadRequestError(APIError):
    pass


class UnauthorizedError(APIError):
    pass


class ForbiddenError(APIError):
    pass


class NotFoundError(APIError):
    pass


class MethodNotAllowedError(APIError):
    pass


class ConflictError(APIError):
    pass


class PayloadTooLargeError(APIError):
    pass


class UnsupportedMediaTypeError(APIError):
    pass


class ValidationError(APIError):
    pass


class IdempotencyError(APIError):
    pass


class RateLimitError(APIError):
    @property
    def retry_after(self) -> Optional[float]:
        """Seconds the server asked to wait, from `Retry-After`."""
        value = self.headers.get("retry-after")
        try:
            return float(value) if value is not None else None
        except ValueError:
            return None


class QuotaExceededError(RateLimitError):
    pass


class InternalError(APIError):
    pass


class UnavailableError(APIError):
    pass


_BY_NAME = {
    cls.__name__: cls
    for cls in (
        BadRequestError,
        UnauthorizedError,
        ForbiddenError,
        NotFoundError,
        MethodNotAllowedError,
        ConflictError,
        PayloadTooLargeError,
        UnsupportedMediaTypeError,
        ValidationError,
        IdempotencyError,
        RateLimitError,
        QuotaExceededError,
        InternalError,
        UnavailableError,
    )
}


def error_from_envelope(
    status: int, error: Mapping[str, Any], *, request_id: Optional[str] = None, headers: Optional[Mapping[str, str]] = None
) -> APIError:
    """The typed error for an envelope's `error`; an unknown name (a newer server) stays a plain APIError."""
    name = str(error.get("name", "Error"))
    cls = _BY_NAME.get(name, APIError)
    return cls(status, name, str(error.get("message", "")), error.get("details"), request_id=request_id, headers=headers)
