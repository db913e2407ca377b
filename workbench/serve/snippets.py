"""Copy-paste ways to call a published model. They read the key from an environment variable, so a
snippet can be shown, copied and shared without the key; `key_export` is the one line that holds it."""
from __future__ import annotations

import json
import shlex

KEY_ENV = "WORKBENCH_API_KEY"


def snippets(base_url: str, model: str, key_placeholder: str = KEY_ENV) -> dict[str, str]:
    """{"python": an `openai` client snippet (plain and streaming), "curl": one curl line}."""
    python = f'''import os

from openai import OpenAI

client = OpenAI(base_url={json.dumps(base_url)}, api_key=os.environ[{json.dumps(key_placeholder)}])
messages = [{{"role": "user", "content": "Hello!"}}]

answer = client.chat.completions.create(model={json.dumps(model)}, messages=messages, temperature=0.7)
print(answer.choices[0].message.content)

for chunk in client.chat.completions.create(model={json.dumps(model)}, messages=messages, stream=True):
    print(chunk.choices[0].delta.content or "", end="", flush=True)
print()
'''
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": "Hello!"}]}, ensure_ascii=False)
    curl = (f'curl {shlex.quote(base_url + "/chat/completions")} -H "Authorization: Bearer ${key_placeholder}" '
            f'-H "Content-Type: application/json" -d {shlex.quote(body)}')
    return {"python": python, "curl": curl}


def key_export(key: str, key_placeholder: str = KEY_ENV) -> str:
    """The shell line that puts the key where the snippets look for it (shown once, with the key)."""
    return f"export {key_placeholder}={shlex.quote(key)}"
