"""Small parts of the API: key checking, stop strings in a stream, snippets that never hold the key."""
from workbench.serve.engine import StopCutter, cut_at_stop, held_back
from workbench.serve.keys import bearer_matches, key_hash, new_key
from workbench.serve.snippets import key_export, snippets


def test_a_key_is_random_and_only_its_hash_is_compared():
    key, digest = new_key()
    assert len(key) > 40 and key != new_key()[0] and digest == key_hash(key) and key not in digest
    assert bearer_matches(f"Bearer {key}", digest) and bearer_matches(f"bearer  {key} ", digest)
    for header in (None, "", key, f"Basic {key}", "Bearer ", f"Bearer {key}x", f"Bearer {digest}"):
        assert not bearer_matches(header, digest), header


def test_stop_strings_cut_at_the_first_one():
    assert cut_at_stop("one two three", ["three", "two"]) == ("one ", True)
    assert cut_at_stop("one two", ["four"]) == ("one two", False)
    assert held_back("ends with th", ["three"]) == 2 and held_back("ends with x", ["three"]) == 0


def test_a_stream_never_shows_a_stop_string_or_a_part_of_it():
    cutter = StopCutter(["STOP"])
    shown = [cutter.feed(piece) for piece in ["Hel", "lo S", "T", "x S", "TO", "P more", "and more"]]
    assert shown == ["Hel", "lo ", "", "STx ", "", "", ""] and cutter.stopped
    assert "".join(shown) + cutter.finish() == "Hello STx "
    open_end = StopCutter(["</s>"])
    assert open_end.feed("answer <") == "answer " and open_end.finish() == "<"  # held text is released at the end


def test_snippets_read_the_key_from_an_environment_variable():
    key, _ = new_key()
    code = snippets("http://127.0.0.1:8000/v1", "run-abc")
    assert key not in code["python"] + code["curl"]
    assert 'os.environ["WORKBENCH_API_KEY"]' in code["python"] and '"run-abc"' in code["python"]
    assert code["curl"].startswith("curl http://127.0.0.1:8000/v1/chat/completions ")
    assert "Bearer $WORKBENCH_API_KEY" in code["curl"]
    compile(code["python"], "snippet", "exec")
    assert key_export(key) == f"export WORKBENCH_API_KEY={key}"


def test_messages_a_chat_template_refuses_are_a_request_error(tokenizer):
    import copy

    import pytest

    from workbench.serve.engine import RequestError, render_prompt

    strict = copy.deepcopy(tokenizer)
    strict.chat_template = ("{% for m in messages %}{% if m['role'] == 'system' %}"
                            "{{ raise_exception('System role not supported') }}{% endif %}"
                            "{{ m['content'] }}{% endfor %}")
    assert render_prompt(strict, [{"role": "user", "content": "hi"}]) == "hi"
    with pytest.raises(RequestError, match="System role not supported") as caught:
        render_prompt(strict, [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}])
    assert caught.value.param == "messages"
