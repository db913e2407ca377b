"""LLM client: OpenAI-compatible endpoints and local transformers models behind one interface.

    backend = backend_for(ws, "local:smollm2-135m-instruct")      # or a saved endpoint's name
    completion = backend.complete([{"role": "user", "content": "Hi"}], GenerationParams(max_new_tokens=32))
    results = backend.complete_many(list_of_messages)              # Completion or LLMError per item
"""
from .backends import Backend, LocalBackend, OpenAIBackend, backend_for
from .endpoints import (Endpoint, api_key, delete_endpoint, get_endpoint, has_api_key, list_endpoints,
                        save_api_key, save_endpoint)
from .types import Completion, GenerationParams, LLMError, parse_json_answer

__all__ = ["Backend", "LocalBackend", "OpenAIBackend", "backend_for", "Endpoint", "api_key", "delete_endpoint",
           "get_endpoint", "has_api_key", "list_endpoints", "save_api_key", "save_endpoint", "Completion",
           "GenerationParams", "LLMError", "parse_json_answer", "test_connection"]


def test_connection(ws, endpoint) -> Completion:
    """One short request; raises LLMError (with the key redacted) when it fails."""
    backend = backend_for(ws, endpoint)
    try:
        return backend.complete([{"role": "user", "content": "Reply with: ok"}], GenerationParams(max_new_tokens=8))
    finally:
        backend.close()


test_connection.__test__ = False  # not a pytest test despite its name
