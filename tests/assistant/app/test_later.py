"""The chat page built while the server already answers (assistant/app/later.py):
the API answers at once, the page's routes say it is starting, and once the
page is mounted it is served; a page that cannot be built costs the API nothing."""

from __future__ import annotations

import asyncio
import threading

import httpx
import pytest
from fastapi import FastAPI

from assistant.app.later import ChatPageLater

# Integration tier (tests/README.md): the whole app in-process while the chat page builds.
pytestmark = pytest.mark.integration


def api_app() -> FastAPI:
    app = FastAPI()

    @app.get("/api/healthz")
    def healthz():
        return {"status": "ok"}

    return app


def page_on(app: FastAPI):
    """A small real Gradio page mounted at / on ``app``, as server._with_ui mounts the chat."""
    import gradio as gr

    with gr.Blocks() as demo:
        box = gr.Textbox(label="Question")
        gr.Button("Ask").click(lambda text: text, box, box)
    demo.queue()
    mounted = gr.mount_gradio_app(app, demo, path="/", ssr_mode=False)
    demo.has_launched = True
    return mounted, frozenset({0})


async def started(app) -> tuple[asyncio.Task, asyncio.Queue, asyncio.Queue]:
    """``app``'s lifespan started, as uvicorn starts it."""
    inbox: asyncio.Queue = asyncio.Queue()
    outbox: asyncio.Queue = asyncio.Queue()
    task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}}, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    assert (await asyncio.wait_for(outbox.get(), 10))["type"] == "lifespan.startup.complete"
    return task, inbox, outbox


async def stopped(task, inbox, outbox) -> None:
    await inbox.put({"type": "lifespan.shutdown"})
    assert (await asyncio.wait_for(outbox.get(), 20))["type"] == "lifespan.shutdown.complete"
    await asyncio.wait_for(task, 5)


def run(scenario) -> None:
    """``asyncio.run(scenario())`` in a thread of its own: the session's
    browser (Playwright) keeps an event loop running in this one."""
    failures: list[BaseException] = []

    def main():
        try:
            asyncio.run(scenario())
        except BaseException as exc:  # re-raised in the test's thread
            failures.append(exc)

    thread = threading.Thread(target=main)
    thread.start()
    thread.join(120)
    assert not thread.is_alive(), "the scenario did not finish"
    if failures:
        raise failures[0]


async def until(condition, seconds: float = 60) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("the chat page was not built in time")


def test_the_api_answers_while_the_page_is_built_and_the_page_follows():
    release = threading.Event()
    ready: list = []
    app = api_app()

    def build():
        assert release.wait(60)
        return page_on(app)

    later = ChatPageLater(app, build, on_ready=ready.append)

    async def scenario():
        running = await started(later)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=later), base_url="http://askdoc") as client:
            assert (await client.get("/api/healthz")).json() == {"status": "ok"}
            page = await client.get("/", headers={"accept": "text/html"})
            assert page.status_code == 503 and page.headers["retry-after"] == "1"
            assert "starting" in page.text and 'http-equiv="refresh"' in page.text
            event = await client.post("/gradio_api/queue/join", json={"fn_index": 0})
            assert event.status_code == 503 and "starting" in event.json()["detail"]
            assert (await client.get("/api/nothing-here")).status_code == 503  # the page's mount will own it
            assert not ready
            release.set()
            await until(lambda: later.mounted)
            assert ready == [frozenset({0})]
            page = await client.get("/", headers={"accept": "text/html"})
            assert page.status_code == 200 and "gradio" in page.text.lower()
            assert (await client.get("/config")).status_code == 200
            assert (await client.get("/api/healthz")).json() == {"status": "ok"}
        await stopped(*running)

    run(scenario)


def no_room():
    raise RuntimeError("no room for Gradio")


@pytest.mark.parametrize("build, reason", [(no_room, "no room for Gradio"),
                                           (lambda: (api_app(), None), "nothing was mounted at /")])
def test_a_page_that_cannot_be_built_leaves_the_api_answering(build, reason):
    app = api_app()
    later = ChatPageLater(app, build)

    async def scenario():
        running = await started(later)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=later), base_url="http://askdoc") as client:
            await until(lambda: later.failure is not None)
            page = await client.get("/", headers={"accept": "text/html"})
            assert page.status_code == 500 and reason in page.json()["detail"]
            assert (await client.get("/api/healthz")).json() == {"status": "ok"}
            assert app.state.chat_page == "failed"
        await stopped(*running)

    run(scenario)


@pytest.mark.parametrize("path, routed", [("/api/healthz", True), ("/", False), ("/config", False),
                                           ("/gradio_api/queue/join", False)])
def test_only_the_apps_own_routes_pass_before_the_page_is_mounted(path, routed):
    later = ChatPageLater(api_app(), lambda: (None, None))
    scope = {"type": "http", "method": "GET", "path": path, "root_path": "", "headers": []}
    assert later._routed_by_app(scope) is routed


def test_askdoc_serves_app_is_guarded_and_counts_the_pages_questions_once_it_is_built(tmp_path, write_docs):
    """The whole app as ``askdoc serve`` makes it (``ServerSettings.page_later``): the
    guard's rate limit learns which of the page's functions answer when the
    page is mounted, and the health check says the page is ready."""
    from assistant.app.server import ServerSettings, create_app
    from assistant.core import Assistant
    from index.build import build_index
    from tests.support import HashEmbedder

    docs = write_docs({"notice.txt": "The staff canteen closes at 15:30 on Fridays."})
    build_index(docs, tmp_path / "index", HashEmbedder())
    guard = create_app(Assistant.load(tmp_path / "index", embedder=HashEmbedder()),
                       ServerSettings(index_dir=tmp_path / "index", docs_dir=docs, page_later=True, api_token="t0ken"))
    assert guard.settings.limited_events == frozenset()
    signed = {"authorization": "Bearer t0ken"}

    async def scenario():
        running = await started(guard)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=guard), base_url="http://127.0.0.1") as client:
            # The guard stands in front of both states: no token, no answer; Gradio's own routes stay unreachable.
            assert (await client.get("/api/healthz")).status_code == 401
            assert (await client.post("/gradio_api/upload", headers=signed)).status_code == 404
            await until(lambda: guard.app.mounted)
            assert guard.settings.limited_events  # the page's functions that answer or write
            assert (await client.get("/api/healthz", headers=signed)).json()["chat_page"] == "ready"
            assert (await client.get("/", headers={"accept": "text/html", **signed})).status_code == 200
            assert (await client.get("/", headers={"accept": "text/html"})).status_code == 401
            assert (await client.get("/gradio_api/file=/etc/passwd", headers=signed)).status_code == 404
        await stopped(*running)

    run(scenario)
