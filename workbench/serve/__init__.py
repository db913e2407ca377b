"""Publish a model as an OpenAI-compatible API (FastAPI + uvicorn on CPU; vLLM with LoRA on a GPU).

    job_id, key, base_url = start_server(ws, "run-<id>")   # a background job; show `key` once
    snippets(base_url, "run-<id>")                         # openai / curl code reading WORKBENCH_API_KEY
    stop_server(ws, job_id)
"""
from .jobs import ServeError, ServerInfo, list_servers, restart_server, start_server, stop_server
from .snippets import KEY_ENV, key_export, snippets

__all__ = ["ServeError", "ServerInfo", "list_servers", "restart_server", "start_server", "stop_server", "KEY_ENV",
           "key_export", "snippets"]
