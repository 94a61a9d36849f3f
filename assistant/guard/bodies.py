"""Request bodies read by the guard before the app sees them: whole (up to a
limit), then handed to the app again as if they had just arrived."""

from __future__ import annotations


async def read_body(receive, limit: int) -> bytes | None:
    """The whole body (at most ``limit`` bytes), or None past it; a
    chunked body has no Content-Length to check in advance."""
    chunks: list[bytes] = []
    seen = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        seen += len(chunk)
        if seen > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def replay(body: bytes, receive):
    """A ``receive`` that gives the app ``body`` first, then the client's own messages."""
    sent = False

    async def wrapped():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: wait for the disconnect

    return wrapped
