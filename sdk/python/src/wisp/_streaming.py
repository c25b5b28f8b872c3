"""Streamed chat: the answer's Server-Sent Events as an iterator of typed events."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterator, Union

import httpx

from ._errors import error_from_envelope
from ._sse import parse_sse
from .models import ChatAnswer


@dataclass(frozen=True)
class ChatChunk:
    """A piece of the answer's text, as the model produced it."""

    text: str
    type: str = "chunk"


@dataclass(frozen=True)
class ChatDone:
    """The complete answer: the same fields as a JSON chat reply."""

    answer: ChatAnswer
    type: str = "done"


ChatEvent = Union[ChatChunk, ChatDone]


class ChatStream:
    """Iterate for events; leave early with `close()` or a `with` block (the connection is released)."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.conversation_id = response.headers.get("wisp-conversation-id")

    def __iter__(self) -> Iterator[ChatEvent]:
        try:
            for event in parse_sse(self._response.iter_text()):
                if event.data == "[DONE]":
                    return
                payload = json.loads(event.data)
                if payload.get("error"):
                    raise error_from_envelope(200, payload["error"], request_id=self._response.headers.get("x-request-id"))
                if "chunk" in payload:
                    yield ChatChunk(payload["chunk"])
                elif payload.get("done"):
                    yield ChatDone(ChatAnswer.model_validate(payload))
        finally:
            self.close()

    def text(self) -> str:
        """Reads the stream to its end and returns the answer's text."""
        return "".join(event.text for event in self if isinstance(event, ChatChunk))

    def close(self) -> None:
        self._response.close()

    def __enter__(self) -> "ChatStream":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
