"""The HTTP behaviour every operation shares: envelopes, typed errors, retries with backoff, pagination."""

from __future__ import annotations

import email.utils
import random
import time
import uuid
from typing import Any, Callable, Generic, Iterator, Mapping, Optional, TypeVar
from urllib.parse import quote as _quote

import httpx
from pydantic import BaseModel

from ._errors import APIConnectionError, APITimeoutError, APIError, QuotaExceededError, error_from_envelope

T = TypeVar("T")

# Statuses a retry can fix; a POST is only retried because it always carries an `Idempotency-Key`.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_RETRY_DELAY = 60.0


def quote(value: str) -> str:
    """A path parameter, escaped so ids or slugs cannot change the path."""
    return _quote(str(value), safe="")


def to_json(body: Any) -> Any:
    """A request body as JSON: models by their wire names, leaving out fields never set."""
    if isinstance(body, BaseModel):
        return body.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return body


def with_message_id(body: Any) -> dict[str, Any]:
    """The body with a `clientMessageId` (made when absent): the server stores a message once per id."""
    payload = dict(to_json(body))
    payload.setdefault("clientMessageId", f"sdk-{uuid.uuid4()}")
    return payload


def retry_delay(attempt: int, retry_after: Optional[str], base: float = 0.5) -> float:
    """`Retry-After` (seconds or an HTTP date) when the server sent it, else exponential backoff with jitter."""
    if retry_after:
        try:
            seconds = float(retry_after)
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(retry_after) if retry_after else None
            seconds = parsed.timestamp() - time.time() if parsed else base
        return min(max(seconds, 0.0), MAX_RETRY_DELAY)
    return min(base * (2**attempt), MAX_RETRY_DELAY) * (0.75 + random.random() / 2)


class Transport:
    def __init__(
        self,
        api_key: Optional[str],
        base_url: str,
        *,
        timeout: float,
        max_retries: int,
        http_client: Optional[httpx.Client] = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self.timeout = timeout
        self.retries_made = 0
        self._sleep = sleep
        headers = {"User-Agent": "wisp-python", "Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._client = http_client or httpx.Client()
        self._headers = headers

    def close(self) -> None:
        self._client.close()

    def send(
        self,
        method: str,
        path: str,
        *,
        query: Optional[Mapping[str, Any]] = None,
        body: Any = None,
        idempotency_key: Optional[str] = None,
        timeout: Optional[float] = None,
        stream: bool = False,
        files: Optional[Mapping[str, Any]] = None,
        form: Optional[Mapping[str, str]] = None,
    ) -> httpx.Response:
        """Sends with retries on 429/5xx and connection failures; raises the typed error otherwise."""
        headers = dict(self._headers)
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        params = {k: _query_value(v) for k, v in (query or {}).items() if v is not None}
        attempt = 0
        while True:
            request = self._client.build_request(
                method,
                self.base_url + path,
                params=params,
                json=to_json(body) if body is not None else None,
                files=files,
                data=form,
                headers=headers,
                timeout=self.timeout if timeout is None else timeout,
            )
            try:
                response = self._client.send(request, stream=stream)
            except httpx.TimeoutException as exc:
                failure: Exception = APITimeoutError(f"{method} {path} timed out: {exc}")
                retry_after = None
            except httpx.TransportError as exc:
                failure = APIConnectionError(f"{method} {path} failed: {exc}")
                retry_after = None
            else:
                if response.status_code < 400:
                    return response
                failure = self._error(response)
                retry_after = response.headers.get("retry-after")
                response.close()
                if response.status_code not in RETRY_STATUSES or isinstance(failure, QuotaExceededError):
                    raise failure
            if attempt >= self.max_retries:
                raise failure
            self._sleep(retry_delay(attempt, retry_after))
            attempt += 1
            self.retries_made += 1

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Optional[Mapping[str, Any]] = None,
        body: Any = None,
        model: Any = None,
        text: bool = False,
        message_id: bool = False,
        idempotency_key: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> Any:
        if message_id:
            body = with_message_id(body)
        if method == "POST" and not idempotency_key:
            # Makes the retries above safe: the server answers a repeat with the first response.
            idempotency_key = str(uuid.uuid4())
        response = self.send(method, path, query=query, body=body, idempotency_key=idempotency_key, timeout=timeout)
        if text:
            return response.text
        return _parse(model, response.json().get("data"))

    def paginate(
        self, path: str, query: Mapping[str, Any], model: Any, *, per_page: Optional[int], timeout: Optional[float]
    ) -> "Page[Any]":
        def fetch(page: int) -> tuple[list[Any], Mapping[str, Any]]:
            params = {**query, "page": page, "perPage": per_page}
            envelope = self.send("GET", path, query=params, timeout=timeout).json()
            return [_parse(model, item) for item in envelope["data"]], envelope.get("meta") or {}

        return Page(fetch)

    def _error(self, response: httpx.Response) -> APIError:
        request_id = response.headers.get("x-request-id")
        try:
            response.read()
            error = response.json().get("error") or {}
        except ValueError:
            error = {}
        if not error:
            error = {"name": "Error", "message": response.text[:200] or response.reason_phrase}
        return error_from_envelope(response.status_code, error, request_id=request_id, headers=response.headers)


class Page(Generic[T]):
    """Every item of a list, fetched a page at a time as the iteration reaches it."""

    def __init__(self, fetch: Callable[[int], tuple[list[T], Mapping[str, Any]]]) -> None:
        self._fetch = fetch
        self.total: Optional[int] = None

    def __iter__(self) -> Iterator[T]:
        for items in self.pages():
            yield from items

    def pages(self) -> Iterator[list[T]]:
        """One list per page, in order."""
        page, seen = 1, 0
        while True:
            items, meta = self._fetch(page)
            self.total = meta.get("total", self.total)
            seen += len(items)
            if items:
                yield items
            if not items or (self.total is not None and seen >= self.total):
                return
            page += 1


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _parse(model: Any, data: Any) -> Any:
    if model is None or data is None:
        return data
    return model.model_validate(data)
