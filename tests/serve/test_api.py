"""The published API over a tiny random Llama (real SmolLM2 tokenizer), served by uvicorn on 127.0.0.1 and called
with the real `openai` client: answers are plain greedy generation, streamed chunks add up to the same answer,
stop strings and seeds work, usage is counted, and bad keys and bad requests get OpenAI-style errors."""
import json
import threading
import urllib.error
import urllib.request

import openai
import pytest

MESSAGES = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Name a fruit."}]


def post(api, body, key="default", raw: bytes | None = None):
    """(status, JSON answer) of a raw POST to /chat/completions (no client-side checks in the way)."""
    headers = {"content-type": "application/json"}
    if key:
        headers["authorization"] = f"Bearer {api.key if key == 'default' else key}"
    data = raw if raw is not None else json.dumps(body).encode()
    request = urllib.request.Request(api.url + "/chat/completions", data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def greedy(client, api, max_tokens=24, **options):
    return client.chat.completions.create(model=api.model, messages=MESSAGES, temperature=0, max_tokens=max_tokens,
                                          **options)


def streamed(client, api, max_tokens=24, **options) -> tuple[str, list]:
    chunks = list(client.chat.completions.create(model=api.model, messages=MESSAGES, temperature=0,
                                                 max_tokens=max_tokens, stream=True, **options))
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices), chunks


def test_models_lists_the_one_served_model(client, api):
    assert [m.id for m in client.models.list()] == [api.model]
    assert client.models.retrieve(api.model).owned_by == "workbench"


def test_answer_is_plain_greedy_generation_with_its_token_counts(client, api, tokenizer, tiny_model):
    """The API adds nothing to the model: the same text and counts as transformers' own greedy generate."""
    import torch

    prompt = tokenizer.apply_chat_template(MESSAGES, tokenize=False, add_generation_prompt=True)
    inputs = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    with torch.no_grad():
        output = tiny_model.generate(**inputs, do_sample=False, max_new_tokens=24, pad_token_id=tokenizer.eos_token_id)
    new = output[0, inputs["input_ids"].shape[1]:].tolist()

    answer = greedy(client, api)
    assert answer.choices[0].message.content == tokenizer.decode(new, skip_special_tokens=True)
    assert answer.choices[0].message.role == "assistant" and answer.model == api.model
    assert answer.usage.prompt_tokens == inputs["input_ids"].shape[1]
    assert answer.usage.completion_tokens == len(new)
    assert answer.usage.total_tokens == answer.usage.prompt_tokens + len(new)
    assert answer.choices[0].finish_reason == ("length" if len(new) == 24 else "stop")


def test_streamed_chunks_add_up_to_the_non_streamed_answer(client, api):
    whole = greedy(client, api)
    text, chunks = streamed(client, api, stream_options={"include_usage": True})
    assert text == whole.choices[0].message.content and text
    assert chunks[0].choices[0].delta.role == "assistant"
    assert {c.id for c in chunks} == {chunks[0].id} and {c.object for c in chunks} == {"chat.completion.chunk"}
    assert [c.choices[0].finish_reason for c in chunks[:-1]][-1] == whole.choices[0].finish_reason
    assert chunks[-1].choices == [] and chunks[-1].usage == whole.usage  # the usage chunk comes last
    assert all(c.usage is None for c in chunks[:-1])


def test_a_stream_cut_by_max_tokens_inside_a_character_never_sends_part_of_it(client, api, monkeypatch):
    """Chinese characters take several byte tokens: a delta waits for the token that completes its character,
    and a character the length limit cuts is dropped, as in the non-streamed answer."""
    from tests.llm.scripted_tokens import scripted_generate

    tokenizer = api.engine.tokenizer
    script = tokenizer.encode("皇上，我是一位甄嬛。", add_special_tokens=False)
    monkeypatch.setattr(api.engine.model, "generate",
                        scripted_generate(api.engine.model.generate, script, tokenizer.eos_token_id))
    cuts_inside = 0
    for limit in range(1, len(script) + 2):
        whole = greedy(client, api, max_tokens=limit).choices[0]
        text, chunks = streamed(client, api, max_tokens=limit)
        pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
        assert text == whole.message.content and "\ufffd" not in "".join(pieces), (limit, pieces)
        assert chunks[-1].choices[0].finish_reason == whole.finish_reason
        cuts_inside += tokenizer.decode(script[:limit]).endswith("\ufffd")
    assert text == "皇上，我是一位甄嬛。" and whole.finish_reason == "stop"
    assert cuts_inside >= 3


def test_stream_is_server_sent_events_ending_with_done(api):
    request = urllib.request.Request(api.url + "/chat/completions", headers={
        "authorization": f"Bearer {api.key}", "content-type": "application/json"}, data=json.dumps(
        {"model": api.model, "messages": MESSAGES, "temperature": 0, "max_tokens": 8, "stream": True}).encode())
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [line for line in response.read().decode().split("\n\n") if line]
    assert all(event.startswith("data: ") for event in events)
    assert events[-1] == "data: [DONE]"
    chunks = [json.loads(event[len("data: "):]) for event in events[:-1]]
    assert chunks[-1]["choices"][0]["delta"] == {} and chunks[-1]["choices"][0]["finish_reason"] in ("stop", "length")
    assert "usage" not in chunks[0]  # only with stream_options.include_usage


def test_a_stop_string_cuts_the_answer_in_both_modes(client, api):
    full = greedy(client, api, max_tokens=30).choices[0].message.content
    start = next(i for i in range(10, len(full) - 4) if "\ufffd" not in full[i:i + 4])
    stop = full[start:start + 4]
    expected = full[:full.find(stop)]
    answer = greedy(client, api, max_tokens=30, stop=[stop, "never appears"])
    assert answer.choices[0].message.content == expected and answer.choices[0].finish_reason == "stop"
    text, chunks = streamed(client, api, max_tokens=30, stop=stop)
    assert text == expected and chunks[-1].choices[0].finish_reason == "stop"


def test_a_seed_repeats_a_sampled_answer(client, api):
    def sample(seed):
        return client.chat.completions.create(model=api.model, messages=MESSAGES, temperature=1.0, top_p=0.9,
                                              max_tokens=12, seed=seed).choices[0].message.content

    assert sample(5) == sample(5)
    assert sample(5) != sample(6)


def test_max_completion_tokens_limits_the_answer(client, api):
    answer = client.chat.completions.create(model=api.model, messages=MESSAGES, temperature=0,
                                            max_completion_tokens=3)
    assert answer.usage.completion_tokens <= 3
    assert answer.choices[0].message.content == greedy(client, api, max_tokens=3).choices[0].message.content


def test_requests_at_once_each_get_their_own_answer(client, api):
    """Generations wait for each other (one at a time) instead of mixing: every answer is the greedy one."""
    expected = greedy(client, api, max_tokens=16).choices[0].message.content
    answers = []

    def one(stream):
        answers.append(streamed(client, api, 16)[0] if stream else greedy(client, api, 16).choices[0].message.content)

    threads = [threading.Thread(target=one, args=(i % 2 == 0,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert answers == [expected] * 4


def test_a_wrong_or_missing_key_gets_401(api):
    with openai.OpenAI(base_url=api.url, api_key="wb-not-the-key", max_retries=0) as wrong:
        with pytest.raises(openai.AuthenticationError) as caught:
            wrong.chat.completions.create(model=api.model, messages=MESSAGES, max_tokens=4)
        with pytest.raises(openai.AuthenticationError):
            wrong.models.list()
    assert caught.value.body["code"] == "invalid_api_key"
    assert post(api, {"model": api.model, "messages": MESSAGES}, key=None)[0] == 401
    assert post(api, {"model": api.model, "messages": MESSAGES}, key=api.key[:-1])[0] == 401
    status, body = post(api, {}, key="wrong", raw=b"{not json")  # auth comes before reading the body
    assert status == 401 and body["error"]["type"] == "invalid_request_error"


def test_bad_requests_get_400_in_openai_shape(client, api):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=api.model, messages=[])
    assert caught.value.body["param"] == "messages"
    cases = {"messages": {"model": api.model},
             "temperature": {"messages": MESSAGES, "temperature": 3},
             "messages.0.role": {"messages": [{"role": "robot", "content": "hi"}]},
             "max_tokens": {"messages": MESSAGES, "max_tokens": 0},
             "n": {"messages": MESSAGES, "n": 2},
             "stop": {"messages": MESSAGES, "stop": ["a", "b", "c", "d", "e"]}}
    for param, body in cases.items():
        status, answer = post(api, body)
        assert status == 400 and answer["error"]["param"] == param, (param, answer)
        assert "请求无效" in answer["error"]["message"] and "Traceback" not in answer["error"]["message"]
    status, answer = post(api, {}, raw=b'{"messages": [')
    assert status == 400 and "not valid JSON" in answer["error"]["message"]
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="some-other-model", messages=MESSAGES)
    assert caught.value.body["code"] == "model_not_found"
    request = urllib.request.Request(api.url + "/completions", headers={"authorization": f"Bearer {api.key}"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert caught.value.code == 404 and json.loads(caught.value.read())["error"]["type"] == "not_found_error"


def test_messages_longer_than_the_context_get_400(client, api):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=api.model, messages=[{"role": "user", "content": "fruit " * 1100}])
    assert caught.value.body["code"] == "context_length_exceeded"


def test_text_parts_and_developer_role_are_read_like_plain_messages(client, api):
    plain = greedy(client, api, max_tokens=8).choices[0].message.content
    parts = client.chat.completions.create(model=api.model, temperature=0, max_tokens=8, messages=[
        {"role": "developer", "content": "You are terse."},
        {"role": "user", "content": [{"type": "text", "text": "Name a "}, {"type": "text", "text": "fruit."}]}])
    assert parts.choices[0].message.content == plain


def test_the_page_snippets_work_as_pasted(api):
    """The python snippet and the curl line, run as a user would with the key in WORKBENCH_API_KEY."""
    import os
    import subprocess
    import sys

    from workbench.serve import snippets

    code = snippets(api.url, api.model)
    env = {**os.environ, "WORKBENCH_API_KEY": api.key}
    python = subprocess.run([sys.executable, "-c", code["python"]], env=env, capture_output=True, text=True,
                            timeout=120)
    assert python.returncode == 0 and python.stdout.strip(), python.stderr
    assert python.stdout.endswith("\n")  # the streamed answer ends its line (a shell prompt starts on its own)
    curl = subprocess.run(["bash", "-c", code["curl"]], env=env, capture_output=True, text=True, timeout=120)
    assert json.loads(curl.stdout)["choices"][0]["message"]["role"] == "assistant", curl.stdout + curl.stderr
