"""A scripted judge model behind the real OpenAI-compatible server (workbench/llm/server.py) on 127.0.0.1.

The judge is a function of the prompt it receives, so a test can write a fair judge, one that never gives
a score, one that fails with HTTP 500 a few times, or one that always prefers position A.
"""
import re
import threading
from contextlib import contextmanager

from workbench.llm import Completion, Endpoint, GenerationParams, LLMError, OpenAIBackend
from workbench.llm.server import serve_in_thread


class ScriptedJudge:
    """A backend whose answer is `reply(user_prompt, attempt)`; it records every prompt and its params."""

    def __init__(self, reply):
        self.reply, self.calls, self.attempts = reply, [], {}
        self.endpoint = Endpoint("scripted-judge", "local", model="scripted-judge")
        self.lock = threading.Lock()

    def complete(self, messages, params=GenerationParams()):
        prompt = messages[-1]["content"]
        with self.lock:
            self.calls.append({"messages": messages, "params": params})
            self.attempts[prompt] = attempt = self.attempts.get(prompt, 0) + 1
        text = self.reply(prompt, attempt)
        if isinstance(text, LLMError):
            raise text  # the server answers HTTP 500
        return Completion(text, "scripted-judge", "stop", 10, 5)


@contextmanager
def judge_server(reply):
    """Serve a ScriptedJudge; yields (judge, base_url)."""
    judge = ScriptedJudge(reply)
    server, url = serve_in_thread(judge)
    try:
        yield judge, url
    finally:
        server.shutdown()
        server.server_close()


def client(url, **settings) -> OpenAIBackend:
    """The real OpenAI client against the scripted server; retries without waiting."""
    endpoint = Endpoint("judge", base_url=url, model="scripted-judge", **{"max_retries": 2, "timeout_s": 10, **settings})
    return OpenAIBackend(endpoint, sleep=lambda seconds: None)


def section(prompt: str, title: str) -> str:
    """The text under a "[title]" heading of a rendered rubric."""
    match = re.search(r"\[" + re.escape(title) + r"\]\n(.*?)(?:\n\n\[|\n\n|$)", prompt, re.S)
    return match.group(1).strip() if match else ""
