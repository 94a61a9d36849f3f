"""An answer's events as the APIs stream them: the first awaited before a
response starts (so a bad question is refused with its status, not midway
through a stream), and the answer as text deltas, a sentence at a time."""

from __future__ import annotations

from typing import Any, AsyncIterator


async def primed(events: AsyncIterator[tuple[str, Any]]) -> AsyncIterator[tuple[str, Any]]:
    """``events`` with the first one already awaited, so that a bad
    question raises its ``QuestionError`` here, before a response starts."""
    first = await anext(events)

    async def chained():
        yield first
        async for event in events:
            yield event

    return chained()


async def text_deltas(events: AsyncIterator[tuple[str, Any]]) -> AsyncIterator[tuple[str, Any]]:
    """``("text", delta)``: the answer as a user sees it arrive, a sentence and
    its markers at a time (a generated sentence once it passed its check);
    then ``("answer", Answer)``."""
    sent = 0
    async for event, value in events:
        if event == "sentence":
            yield "text", ("" if sent == 0 else " ") + f"{value.text} {value.markers}"
            sent += 1
            continue
        if value.abstained or not value.citations:
            yield "text", value.text
        else:
            for i, quote in enumerate(value.sentences()):
                if value.mode != "generated" or i >= sent:  # a fallback to quotes only comes when none was sent
                    yield "text", ("" if i == 0 else " ") + f"{quote.text} {quote.markers}"
        yield "answer", value
