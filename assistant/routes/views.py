"""The source views a citation opens: a document's text with the cited
sentences marked (``/source``), a PDF citation's own page drawn by pdf.js
with its sentences marked, and the PDF file itself (``/document``)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse

from assistant.people.identity import asker_of
from assistant.routes.base import ServedAssistant, may_read
from assistant.routes.render import PDF_CSP, highlight_spans, pdf_page_html, source_page_html

# Document text must never run as code, whatever a bug in escaping might let through.
SOURCE_CSP = "default-src 'none'; style-src 'unsafe-inline'"


def create_source_router(served: ServedAssistant, docs_dir: Path | None) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def original(doc: str) -> Path | None:
        """The indexed PDF's own file, when the documents folder still has it."""
        if docs_dir is None or not doc.lower().endswith(".pdf"):
            return None
        folder = Path(docs_dir).resolve()
        path = (folder / doc).resolve()
        return path if folder in path.parents and path.is_file() else None

    def readable(request: Request, doc: str):
        """The indexed document ``doc``, when the asker may read it: one the
        asker may not read is as absent as one that does not exist."""
        try:
            if not may_read(served, asker_of(request.scope), doc):
                raise KeyError(doc)
            return served.index.document(doc)
        except KeyError:
            raise HTTPException(status_code=404, detail=f"no document {doc!r} in the index") from None

    @router.get("/document", include_in_schema=False)
    def document_file(request: Request, doc: str = Query(...)):
        readable(request, doc)
        path = original(doc)
        if path is None:
            raise HTTPException(status_code=404, detail=f"the file of {doc!r} is not available")
        return FileResponse(path, media_type="application/pdf", content_disposition_type="inline",
                            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"})

    @router.get("/source", response_class=HTMLResponse, include_in_schema=False)
    def source(request: Request, doc: str = Query(...), start: int = 0, end: int = 0, hs: int = -1, he: int = -1,
               h: list[str] = Query(default=[]), full: bool = False, view: str = "", a: str = ""):
        document = readable(request, doc)
        highlights = [(start, end) if hs < 0 or he < 0 else (hs, he)] + highlight_spans(h)
        page_number = document.page_at(highlights[0][0])
        if view != "text" and page_number and original(doc) is not None:
            # The page itself; the sentences on it are marked. The text view is one click away.
            on_page = [document.text[a:b] for a, b in highlights if document.page_at(a) == page_number]
            text_url = "source?" + request.url.query.replace("view=pdf", "") + "&view=text#excerpt"
            return HTMLResponse(pdf_page_html(doc, document.title, page_number, on_page, text_url),
                                headers={"Content-Security-Policy": PDF_CSP, "X-Content-Type-Options": "nosniff"})
        pdf_view = "source?" + request.url.query.replace("view=text", "view=pdf") if page_number and original(doc) else ""
        answer = highlight_spans([a])  # the words that answer: marked only inside a highlighted sentence
        page = source_page_html(doc, document.title, document.text, start, end, highlights,
                                page=document.page_at(start), full=full, original_url=pdf_view,
                                answer=answer[0] if answer else None)
        return HTMLResponse(page, headers={"Content-Security-Policy": SOURCE_CSP, "X-Content-Type-Options": "nosniff"})

    return router
