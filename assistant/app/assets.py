"""The server's static parts: the widget's script and its example page,
the offline Swagger UI of the API, and pdf.js's assets for the PDF page
view. None of them holds anything from the documents."""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles


def static_text(name: str) -> str:
    return resources.files("assistant.app").joinpath("static", name).read_text(encoding="utf-8")


def add_assets(app: FastAPI) -> None:
    app.mount("/api/docs/static", StaticFiles(directory=_swagger_dir()), name="swagger")

    @app.get("/api/docs", include_in_schema=False)
    def api_docs(request: Request):
        prefix = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{prefix}/api/openapi.json", title="askdoc API",
            swagger_js_url=f"{prefix}/api/docs/static/swagger-ui-bundle.js",
            swagger_css_url=f"{prefix}/api/docs/static/swagger-ui.css",
            swagger_favicon_url=f"{prefix}/api/docs/static/favicon-32x32.png",
        )

    app.mount("/pdf-assets", StaticFiles(directory=str(resources.files("assistant.app").joinpath("static", "pdf"))),
              name="pdf-assets")

    embed_js = static_text("embed.js")
    example = static_text("embed-example.html")

    @app.get("/embed.js", include_in_schema=False)
    def embed():
        return Response(embed_js, media_type="application/javascript; charset=utf-8",
                        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"})

    @app.get("/embed-example", response_class=HTMLResponse, include_in_schema=False)
    def embed_example(request: Request):
        script_url = str(request.base_url).rstrip("/") + request.scope.get("root_path", "") + "/embed.js"
        return HTMLResponse(example.replace("__SCRIPT_URL__", script_url))


def _swagger_dir() -> str:
    import swagger_ui_bundle

    return str(swagger_ui_bundle.swagger_ui_path)
