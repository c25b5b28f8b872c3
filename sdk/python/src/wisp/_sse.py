"""Server-Sent Events parsing as the HTML standard defines it: comments, multi-line data, `event`, `id`, `retry`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator, Optional


@dataclass(frozen=True)
class ServerSentEvent:
    data: str
    event: str = "message"
    id: Optional[str] = None
    retry: Optional[int] = None


def iter_lines(chunks: Iterable[str]) -> Iterator[str]:
    """Splits text arriving in arbitrary pieces on CRLF, LF or CR."""
    pending = ""
    for chunk in chunks:
        pending += chunk
        while True:
            cut = min((i for i in (pending.find("\r"), pending.find("\n")) if i >= 0), default=-1)
            # A CR at the very end may be the first half of a CRLF: wait for more.
            if cut < 0 or (pending[cut] == "\r" and cut == len(pending) - 1):
                break
            line, rest = pending[:cut], pending[cut + 1 :]
            if pending[cut] == "\r" and rest.startswith("\n"):
                rest = rest[1:]
            yield line
            pending = rest
    if pending:
        yield pending.rstrip("\r")


def parse_sse(chunks: Iterable[str]) -> Iterator[ServerSentEvent]:
    """Events from a stream of text; an event ends at a blank line, comments (`:`) are skipped."""
    data: list[str] = []
    event = ""
    last_id: Optional[str] = None
    retry: Optional[int] = None
    for line in iter_lines(chunks):
        if line == "":
            if data:
                yield ServerSentEvent("\n".join(data), event or "message", last_id, retry)
            data, event, retry = [], "", None
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "data":
            data.append(value)
        elif field == "event":
            event = value
        elif field == "id" and "\0" not in value:
            last_id = value
        elif field == "retry" and value.isdigit():
            retry = int(value)
