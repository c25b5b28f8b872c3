from __future__ import annotations

import mimetypes
import os
import uuid
from pathlib import Path
from typing import Any, Mapping, Optional, Union

import httpx

from . import models
from ._resources import ChatResource as _GeneratedChat
from ._resources import Resources
from ._resources import SourcesResource as _GeneratedSources
from ._streaming import ChatStream
from ._transport import Transport, quote, with_message_id

DEFAULT_BASE_URL = "http://localhost:3000"


class ChatResource(_GeneratedChat):
    """Chat as JSON (`send`, `send_to_chatbot`) or streamed token by token (`stream`)."""

    def stream(
        self,
        body: Union[models.ChatSendRequest, Mapping[str, Any]],
        *,
        chatbot: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> ChatStream:
        """Streams the answer; `chatbot` (an id or slug) posts to that bot's own chat path.

        Retries are safe because the message carries a `clientMessageId` (one is made when absent):
        the server stores a message once per id.
        """
        payload = with_message_id(body)
        payload["stream"] = True
        path = f"/api/v1/chatbots/{quote(chatbot)}/chat" if chatbot else "/api/v1/chat"
        response = self._transport.send("POST", path, body=payload, timeout=timeout, stream=True)
        return ChatStream(response)


class SourcesResource(_GeneratedSources):
    """Knowledge sources, plus `upload` for files (PDF, DOCX, Markdown, HTML or plain text)."""

    def upload(
        self,
        chatbot_id: str,
        file: Union[str, Path, bytes],
        *,
        filename: Optional[str] = None,
        title: Optional[str] = None,
        content_type: Optional[str] = None,
        idempotency_key: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> models.KnowledgeSource:
        """Uploads a file as a source of the chatbot; it is queued and processed like any other source.

        `file` is a path or the file's bytes (then `filename` names it). Read once, so retries resend it.
        """
        if isinstance(file, (str, Path)):
            path = Path(file)
            content, filename = path.read_bytes(), filename or path.name
        else:
            content = file
        filename = filename or "upload"
        content_type = content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        response = self._transport.send(
            "POST",
            f"/api/v1/chatbots/{quote(chatbot_id)}/sources",
            files={"file": (filename, content, content_type)},
            form={"title": title} if title else None,
            idempotency_key=idempotency_key or str(uuid.uuid4()),
            timeout=timeout,
        )
        return models.KnowledgeSource.model_validate(response.json()["data"])


class Wisp(Resources):
    """A client of the Wisp REST API. Every resource is an attribute: `client.chatbots.list()`."""

    chat: ChatResource
    sources: SourcesResource

    def __init__(
        self,
        api_key: Optional[str] = None,
        *,
        base_url: Optional[str] = None,
        timeout: float = 60.0,
        max_retries: int = 2,
        http_client: Optional[httpx.Client] = None,
    ) -> None:
        """`api_key` and `base_url` default to `WISP_API_KEY` and `WISP_BASE_URL`.

        `timeout` (seconds) bounds each attempt; `max_retries` retries 429/5xx answers and connection failures
        with exponential backoff, waiting what `Retry-After` says when the server sends it.
        """
        self._transport = Transport(
            api_key if api_key is not None else os.environ.get("WISP_API_KEY"),
            base_url or os.environ.get("WISP_BASE_URL") or DEFAULT_BASE_URL,
            timeout=timeout,
            max_retries=max_retries,
            http_client=http_client,
        )
        super().__init__(self._transport)
        self.chat = ChatResource(self._transport)
        self.sources = SourcesResource(self._transport)

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> "Wisp":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
