"""llama.cpp's OpenAI-compatible server (`python -m llama_cpp.server`), with weight repacking turned off.

    python -m harness.llm.llama_server --model <gguf> --host 127.0.0.1 --port <port> [any llama_cpp.server option]

Same server, same options. One difference: llama-cpp-python built from source here targets the build
machine's CPU, and on these machines (AMX-capable Xeons) its AMX matrix kernel crashes the process with a
general protection fault on the first prompt (ggml_backend_amx_mul_mat). Repacking the weights into the
"extra" buffer types is what routes them to that kernel; with it off, the ordinary AVX-512 kernels run, and a
135M model loses nothing that matters here.
"""

from __future__ import annotations

import sys


def _without_extra_buffer_types() -> None:
    import llama_cpp.llama_cpp as native

    defaults = native.llama_model_default_params

    def model_params():
        params = defaults()
        params.use_extra_bufts = False
        return params

    native.llama_model_default_params = model_params  # llama_cpp.Llama reads it through this module


def main() -> None:
    _without_extra_buffer_types()
    from llama_cpp.server.__main__ import main as serve

    sys.argv[0] = "llama_cpp.server"
    serve()


if __name__ == "__main__":
    main()
