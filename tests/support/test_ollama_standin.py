"""The Ollama stand-in, driven through the official ``ollama`` client and raw httpx."""

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import ollama
import pytest

from tests.support.ollama_standin import (
    QWEN3_8B,
    QWEN25_CODER_7B,
    InferenceRequest,
    OllamaStandIn,
    Reply,
    StandInError,
    estimate_tokens,
)

MODEL = "qwen2.5-coder:7b"
STATS = (
    "total_duration",
    "load_duration",
    "prompt_eval_count",
    "prompt_eval_duration",
    "eval_count",
    "eval_duration",
)


@pytest.fixture
def client(ollama_standin: OllamaStandIn) -> ollama.Client:
    return ollama.Client(host=ollama_standin.url, timeout=5)


@pytest.fixture
def raw(ollama_standin: OllamaStandIn) -> Iterator[httpx.Client]:
    """A plain httpx client on the stand-in, for what the official client hides."""
    with httpx.Client(base_url=ollama_standin.url, timeout=5) as http:
        yield http


@pytest.fixture
def thinking_standin() -> Iterator[OllamaStandIn]:
    with OllamaStandIn(models=[QWEN25_CODER_7B, QWEN3_8B]) as standin:
        yield standin
    standin.check()


def _raw_lines(response: httpx.Response) -> list[dict]:
    return [json.loads(line) for line in response.text.splitlines() if line.strip()]


# -- general endpoints --------------------------------------------------------------------------


def test_root_version_and_head(ollama_standin: OllamaStandIn, raw: httpx.Client) -> None:
    assert ollama_standin.url.startswith("http://127.0.0.1:")
    root = raw.get("/")
    assert root.status_code == 200
    assert root.text == "Ollama is running"
    assert root.headers["content-type"].startswith("text/plain")
    head = raw.head("/")
    assert head.status_code == 200
    assert head.content == b""
    version = raw.get("/api/version")
    assert version.json() == {"version": "0.12.6"}


def test_list_models(client: ollama.Client) -> None:
    listed = client.list()
    assert [m.model for m in listed.models] == [MODEL]
    model = listed.models[0]
    assert model.details is not None
    assert model.details.family == "qwen2"
    assert model.details.quantization_level == "Q4_K_M"
    assert model.size and model.size > 1_000_000_000
    assert model.digest and len(model.digest) == 64
    assert model.modified_at is not None


def test_show_model(client: ollama.Client) -> None:
    shown = client.show(MODEL)
    assert shown.modelinfo is not None
    assert shown.modelinfo["general.architecture"] == "qwen2"
    assert shown.modelinfo["qwen2.context_length"] == 32768
    assert shown.capabilities is not None
    assert "completion" in shown.capabilities
    assert "thinking" not in shown.capabilities
    assert shown.details is not None and shown.details.family == "qwen2"
    assert shown.template and shown.modelfile and shown.modified_at
    # Model names match case-insensitively and with the tag spelled out.
    assert client.show("Qwen2.5-Coder:7B").capabilities == shown.capabilities


def test_show_missing_model_is_404(client: ollama.Client) -> None:
    with pytest.raises(ollama.ResponseError) as caught:
        client.show("nope:1b")
    assert caught.value.status_code == 404
    assert caught.value.error == "model 'nope:1b' not found"


# -- generate / chat ----------------------------------------------------------------------------


def test_generate_not_streamed(ollama_standin: OllamaStandIn, client: ollama.Client) -> None:
    ollama_standin.reply("def f():\n    return 1\n")
    resp = client.generate(model=MODEL, prompt="fix it", options={"num_ctx": 8192})
    assert resp.response == "def f():\n    return 1\n"
    assert resp.done is True
    assert resp.done_reason == "stop"
    assert resp.model == MODEL
    assert resp.created_at
    assert resp.context
    for stat in STATS:
        assert isinstance(getattr(resp, stat), int), stat
    assert resp.eval_count == estimate_tokens(resp.response)
    assert resp.prompt_eval_count == estimate_tokens("fix it")
    assert resp.eval_duration and resp.eval_duration > 1000  # nanoseconds


def test_generate_streamed(ollama_standin: OllamaStandIn, client: ollama.Client) -> None:
    text = "print('hello, world')\n" * 3
    ollama_standin.reply(text, chunk_chars=5)
    parts = list(client.generate(model=MODEL, prompt="go", stream=True))
    assert len(parts) > 3
    assert all(p.done is False for p in parts[:-1])
    assert all(p.done_reason is None and p.eval_count is None for p in parts[:-1])
    last = parts[-1]
    assert last.done is True and last.done_reason == "stop"
    assert all(getattr(last, stat) is not None for stat in STATS)
    assert "".join(p.response or "" for p in parts) == text


def test_chat_not_streamed_and_streamed(
    ollama_standin: OllamaStandIn, client: ollama.Client
) -> None:
    ollama_standin.reply("fixed code")
    messages = [
        {"role": "system", "content": "You repair code."},
        {"role": "user", "content": "Repair this."},
    ]
    resp = client.chat(model=MODEL, messages=messages)
    assert resp.message.role == "assistant"
    assert resp.message.content == "fixed code"
    assert resp.done is True and resp.done_reason == "stop"
    assert resp.eval_count and resp.prompt_eval_count and resp.total_duration

    parts = list(client.chat(model=MODEL, messages=messages, stream=True))
    assert len(parts) >= 2
    assert "".join(p.message.content or "" for p in parts) == "fixed code"
    assert [p.done for p in parts] == [False] * (len(parts) - 1) + [True]
    assert parts[-1].done_reason == "stop" and parts[-1].eval_count


def test_done_reason_length_and_count_overrides(
    ollama_standin: OllamaStandIn, client: ollama.Client
) -> None:
    ollama_standin.reply("half an ans", done_reason="length", prompt_eval_count=31000, eval_count=7)
    resp = client.generate(model=MODEL, prompt="x")
    assert resp.done_reason == "length"
    assert resp.prompt_eval_count == 31000
    assert resp.eval_count == 7
    last = list(client.chat(model=MODEL, messages=[{"role": "user", "content": "x"}], stream=True))
    assert last[-1].done_reason == "length"


def test_stream_defaults_to_true(ollama_standin: OllamaStandIn, raw: httpx.Client) -> None:
    ollama_standin.reply("a streamed answer", chunk_chars=4)
    resp = raw.post("/api/generate", json={"model": MODEL, "prompt": "hi"})
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/x-ndjson"
    lines = _raw_lines(resp)
    assert len(lines) > 2
    assert lines[-1]["done"] is True and lines[-1]["done_reason"] == "stop"
    assert ollama_standin.inference_requests[-1].stream is None  # absent in the request

    single = raw.post(
        "/api/chat",
        json={"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "stream": False},
    )
    assert single.headers["content-type"].startswith("application/json")
    assert single.json()["message"] == {"role": "assistant", "content": "a streamed answer"}


def test_num_ctx_and_num_predict_limits(
    ollama_standin: OllamaStandIn, client: ollama.Client
) -> None:
    seen: list[InferenceRequest] = []

    @ollama_standin.respond
    def answer(req: InferenceRequest) -> Reply:
        seen.append(req)
        return Reply("y" * 400)

    prompt = "x" * 40_000  # about 10,000 tokens: more than the default 4,096 context
    cut = client.generate(model=MODEL, prompt=prompt)
    assert cut.prompt_eval_count == 4096
    assert seen[-1].prompt_truncated and seen[-1].num_ctx == 4096
    whole = client.generate(model=MODEL, prompt=prompt, options={"num_ctx": 16384})
    assert whole.prompt_eval_count == 10_000
    assert not seen[-1].prompt_truncated

    short = client.generate(model=MODEL, prompt="p", options={"num_predict": 10})
    assert short.done_reason == "length"
    assert short.response == "y" * 40
    assert short.eval_count == 10


def test_load_request_does_not_reach_responder(
    ollama_standin: OllamaStandIn, client: ollama.Client
) -> None:
    loaded = client.generate(model=MODEL, prompt="", keep_alive="10m")
    assert loaded.done is True and loaded.done_reason == "load"
    assert [m.model for m in client.ps().models] == [MODEL]
    unloaded = client.generate(model=MODEL, keep_alive=0)
    assert unloaded.done_reason == "unload"
    assert client.ps().models == []
    assert ollama_standin.inference_count == 0


# -- errors -------------------------------------------------------------------------------------


def test_missing_model_is_404(client: ollama.Client) -> None:
    with pytest.raises(ollama.ResponseError) as generate:
        client.generate(model="llama3:8b", prompt="x")
    assert generate.value.status_code == 404
    assert "not found" in generate.value.error
    with pytest.raises(ollama.ResponseError) as chat:
        list(
            client.chat(model="llama3:8b", messages=[{"role": "user", "content": "x"}], stream=True)
        )
    assert chat.value.status_code == 404


def test_think_true_on_non_thinking_model_is_400(
    ollama_standin: OllamaStandIn, client: ollama.Client
) -> None:
    with pytest.raises(ollama.ResponseError) as caught:
        client.generate(model=MODEL, prompt="x", think=True)
    assert caught.value.status_code == 400
    assert caught.value.error == '"qwen2.5-coder:7b" does not support thinking'
    ollama_standin.reply("ok")
    assert client.chat(model=MODEL, messages=[{"role": "user", "content": "x"}], think=False)


def test_thinking_model_needs_think_false(thinking_standin: OllamaStandIn) -> None:
    thinking_standin.reply("the fixed file")
    client = thinking_standin.client(timeout=5)
    thought = client.generate(model="qwen3:8b", prompt="fix")
    assert thought.response == ""
    assert thought.thinking == "the fixed file"
    chat = client.chat(model="qwen3:8b", messages=[{"role": "user", "content": "fix"}])
    assert chat.message.content == "" and chat.message.thinking == "the fixed file"
    plain = client.generate(model="qwen3:8b", prompt="fix", think=False)
    assert plain.response == "the fixed file"
    assert plain.thinking is None

    thinking_standin.reply("answer", thinking="hmm, let me see")
    both = list(
        client.chat(model="qwen3:8b", messages=[{"role": "user", "content": "q"}], stream=True)
    )
    assert "".join(p.message.thinking or "" for p in both) == "hmm, let me see"
    assert "".join(p.message.content or "" for p in both) == "answer"
    assert client.show("qwen3:8b").capabilities == ["completion", "tools", "thinking"]


def test_bad_requests(ollama_standin: OllamaStandIn, raw: httpx.Client) -> None:
    no_model = raw.post("/api/chat", json={"messages": []})
    assert no_model.status_code == 400
    assert no_model.json() == {"error": "model is required"}
    empty_model = raw.post("/api/generate", json={"model": "", "prompt": "x"})
    assert empty_model.status_code == 404  # what the real /api/generate answers
    assert empty_model.json() == {"error": "model '' not found"}
    bad_json = raw.post("/api/generate", content=b"{not json")
    assert bad_json.status_code == 400
    assert "error" in bad_json.json()
    no_body = raw.post("/api/chat")
    assert no_body.status_code == 400 and no_body.json() == {"error": "missing request body"}
    bad_think = raw.post("/api/generate", json={"model": MODEL, "think": "maybe"})
    assert bad_think.status_code == 400
    unknown = raw.get("/api/nothing")
    assert unknown.status_code == 404
    assert unknown.text == "404 page not found"
    wrong_method = raw.get("/api/generate")
    assert wrong_method.status_code == 405
    assert wrong_method.text == "405 method not allowed"
    # None of these reached the responder, and none is a problem on the test's side.
    assert ollama_standin.inference_count == 0
    assert ollama_standin.errors == []


def test_scripted_http_error(ollama_standin: OllamaStandIn, client: ollama.Client) -> None:
    ollama_standin.reply(status=503, error="server busy, please try again.")
    with pytest.raises(ollama.ResponseError) as caught:
        client.generate(model=MODEL, prompt="x")
    assert caught.value.status_code == 503
    assert caught.value.error == "server busy, please try again."


def test_error_mid_stream(
    ollama_standin: OllamaStandIn, client: ollama.Client, raw: httpx.Client
) -> None:
    ollama_standin.reply("some partial answer", chunk_chars=3, error_mid_stream="runner crashed")
    received: list[str] = []
    with pytest.raises(ollama.ResponseError) as caught:
        for part in client.generate(model=MODEL, prompt="x", stream=True):
            received.append(part.response or "")
    assert caught.value.error == "runner crashed"
    assert received and "".join(received) != "some partial answer"

    streamed = raw.post("/api/generate", json={"model": MODEL, "prompt": "x"})
    assert streamed.status_code == 200
    assert _raw_lines(streamed)[-1] == {"error": "runner crashed"}

    ollama_standin.reply("tiny", error_mid_stream="out of memory")  # a single chunk, then the error
    lines = _raw_lines(raw.post("/api/chat", json={"model": MODEL, "messages": [{"content": "x"}]}))
    assert [line.get("error") for line in lines] == [None, "out of memory"]
    assert lines[0]["message"]["content"] == "tiny"

    ollama_standin.reply("", error_mid_stream="failed at once")  # nothing written: plain 500
    early = raw.post("/api/generate", json={"model": MODEL, "prompt": "x"})
    assert early.status_code == 500 and early.json() == {"error": "failed at once"}

    with pytest.raises(ollama.ResponseError) as whole:
        client.chat(model=MODEL, messages=[{"role": "user", "content": "x"}])
    assert whole.value.status_code == 500


def test_connection_refused_after_stop() -> None:
    standin = OllamaStandIn().start()
    client = ollama.Client(host=standin.url, timeout=5)
    assert client.list().models  # leaves a keep-alive connection in the client's pool
    started = time.monotonic()
    standin.stop()
    assert time.monotonic() - started < 1.0
    with pytest.raises(ConnectionError):
        client.list()
    with pytest.raises(httpx.ConnectError):
        list(client.generate(model=MODEL, prompt="x", stream=True))
    standin.stop()  # idempotent


def test_delayed_reply_times_out_and_does_not_block_stop() -> None:
    standin = OllamaStandIn().start()
    standin.reply("late", delay_seconds=30)
    client = ollama.Client(host=standin.url, timeout=0.3)
    with pytest.raises(httpx.ReadTimeout):
        client.generate(model=MODEL, prompt="x")
    # A second request is still waiting in its delay when the stand-in stops: it is dropped.
    outcome: list[BaseException] = []

    def post() -> None:
        try:
            httpx.post(f"{standin.url}/api/generate", json={"model": MODEL, "prompt": "x"})
        except httpx.HTTPError as exc:
            outcome.append(exc)

    waiting = threading.Thread(target=post)
    waiting.start()
    deadline = time.monotonic() + 2
    while standin.inference_count < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    standin.stop()
    assert time.monotonic() - started < 1.0
    waiting.join(2)
    assert len(outcome) == 1 and isinstance(outcome[0], httpx.RemoteProtocolError)
    standin.check()


# -- hostile answers -----------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_a_trickle_delivers_the_faithful_answer_byte_by_byte(
    ollama_standin: OllamaStandIn, raw: httpx.Client, stream: bool
) -> None:
    ollama_standin.reply(Reply("fixed", hostile="trickle", hostile_interval_seconds=0.001))
    body = {"model": MODEL, "prompt": "x", "stream": stream}
    with raw.stream("POST", "/api/generate", json=body) as response:
        assert response.status_code == 200
        pieces = list(response.iter_raw(1))
    assert len(pieces) > 20  # it came a byte at a time
    trickled = [json.loads(line) for line in b"".join(pieces).splitlines()]
    ollama_standin.reply("fixed")
    normal = [json.loads(line) for line in raw.post("/api/generate", json=body).text.splitlines()]
    assert [sorted(answer) for answer in trickled] == [sorted(answer) for answer in normal]
    assert "".join(answer["response"] for answer in trickled) == "fixed"


def test_a_stall_after_headers_ends_when_the_client_hangs_up(ollama_standin: OllamaStandIn) -> None:
    ollama_standin.reply(Reply("fixed", hostile="stall_after_headers"))
    with (
        httpx.Client(base_url=ollama_standin.url, timeout=0.5) as http,
        http.stream("POST", "/api/generate", json={"model": MODEL, "prompt": "x"}) as response,
    ):
        assert response.status_code == 200  # the headers came at once
        with pytest.raises(httpx.ReadTimeout):
            response.read()
    deadline = time.monotonic() + 2
    while ollama_standin._connections and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not ollama_standin._connections  # the handler noticed and let go


def test_slow_headers_outlast_a_per_read_timeout(ollama_standin: OllamaStandIn) -> None:
    ollama_standin.reply(Reply("fixed", hostile="slow_headers", hostile_interval_seconds=0.01))
    started = time.monotonic()
    with httpx.Client(base_url=ollama_standin.url, timeout=0.3) as http:
        answer = http.post("/api/generate", json={"model": MODEL, "prompt": "x", "stream": False})
    # Every byte came within the 0.3 s read timeout; the headers alone took longer than it.
    assert time.monotonic() - started > 0.6
    assert answer.status_code == 200 and answer.json()["response"] == "fixed"


def test_a_drop_mid_body_and_invalid_json(
    ollama_standin: OllamaStandIn, client: ollama.Client
) -> None:
    ollama_standin.reply(Reply("fixed " * 50, hostile="drop_mid_body"))
    with pytest.raises(httpx.RemoteProtocolError, match="without sending complete"):
        client.generate(model=MODEL, prompt="x")
    ollama_standin.reply(Reply("fixed", hostile="invalid_json"))
    with pytest.raises(json.JSONDecodeError):
        client.generate(model=MODEL, prompt="x")
    with pytest.raises(json.JSONDecodeError):
        list(client.generate(model=MODEL, prompt="x", stream=True))
    with pytest.raises(ValueError, match="hostile must be one of"):
        Reply("x", hostile="rude")  # type: ignore[arg-type]


# -- scripting and recording --------------------------------------------------------------------


def test_requests_are_recorded(ollama_standin: OllamaStandIn, client: ollama.Client) -> None:
    ollama_standin.reply("ok")
    client.generate(
        model=MODEL,
        prompt="repair main.py",
        system="You repair code.",
        think=False,
        options={"temperature": 0.1, "num_ctx": 16384},
        keep_alive="5m",
    )
    client.chat(model=MODEL, messages=[{"role": "user", "content": "second"}], think=False)
    recorded = ollama_standin.inference_requests
    assert [r.endpoint for r in recorded] == ["generate", "chat"]
    first = recorded[0]
    assert first.method == "POST" and first.path == "/api/generate"
    assert first.body["think"] is False  # top level, not inside options
    assert "think" not in first.options
    assert first.options == {"temperature": 0.1, "num_ctx": 16384}
    assert first.body["stream"] is False
    assert first.model == MODEL
    assert first.headers["content-type"] == "application/json"
    assert first.time <= time.time()
    assert "You repair code." in first.prompt_text and "repair main.py" in first.prompt_text
    assert "second" in recorded[1].prompt_text
    assert not any("SECRET_TOKEN" in r.prompt_text for r in ollama_standin.requests)
    ollama_standin.clear_requests()
    assert ollama_standin.requests == []


def test_responder_sees_the_request(ollama_standin: OllamaStandIn, client: ollama.Client) -> None:
    seen: list[InferenceRequest] = []

    @ollama_standin.respond
    def answer(req: InferenceRequest) -> str:
        seen.append(req)
        return f"answer {req.index} to {req.endpoint}"

    resp = client.chat(
        model=MODEL,
        messages=[
            {"role": "system", "content": "sys"},
            {"role": "user", "content": "one"},
            {"role": "assistant", "content": "two"},
            {"role": "user", "content": "three"},
        ],
        options={"temperature": 0},
        think=False,
    )
    assert resp.message.content == "answer 0 to chat"
    req = seen[0]
    assert req.prompt == "sys\none\ntwo\nthree"
    assert req.system == "sys"
    assert req.think is False and req.thinking is False
    assert req.stream is False
    assert req.options == {"temperature": 0}
    assert len(req.messages) == 4
    assert client.generate(model=MODEL, prompt="p", system="s").response == "answer 1 to generate"
    assert seen[1].prompt == "p" and seen[1].system == "s" and seen[1].think is None


def test_replies_in_sequence(ollama_standin: OllamaStandIn, client: ollama.Client) -> None:
    ollama_standin.replies(["first", Reply("second", done_reason="length")])
    assert client.generate(model=MODEL, prompt="1").response == "first"
    second = client.generate(model=MODEL, prompt="2")
    assert (second.response, second.done_reason) == ("second", "length")
    with pytest.raises(ollama.ResponseError) as caught:
        client.generate(model=MODEL, prompt="3")
    assert caught.value.status_code == 500
    errors = ollama_standin.take_errors()
    assert len(errors) == 1 and "no scripted reply left" in errors[0]

    ollama_standin.replies(["only"], then="again")
    assert [client.generate(model=MODEL, prompt="p").response for _ in range(3)] == [
        "only",
        "again",
        "again",
    ]


def test_on_request_hook_runs_before_the_answer(
    ollama_standin: OllamaStandIn, client: ollama.Client, tmp_path: Path
) -> None:
    target = tmp_path / "app.py"
    target.write_text("broken(\n")

    def edit_meanwhile(req: InferenceRequest) -> None:
        target.write_text("edited by the user meanwhile\n")

    ollama_standin.reply("fixed()\n", on_request=edit_meanwhile, delay_seconds=0.05)
    resp = client.generate(model=MODEL, prompt=target.read_text())
    assert resp.response == "fixed()\n"
    assert target.read_text() == "edited by the user meanwhile\n"
    assert ollama_standin.inference_requests[0].json["prompt"] == "broken(\n"


def test_responder_failure_is_reported(
    ollama_standin: OllamaStandIn, client: ollama.Client
) -> None:
    @ollama_standin.respond
    def answer(req: InferenceRequest) -> Reply:
        raise AssertionError("think should be False")

    with pytest.raises(ollama.ResponseError) as caught:
        client.generate(model=MODEL, prompt="x")
    assert caught.value.status_code == 500
    with pytest.raises(StandInError, match="think should be False"):
        ollama_standin.check()
    assert ollama_standin.errors == []


def test_unimplemented_endpoint_is_reported(
    ollama_standin: OllamaStandIn, raw: httpx.Client
) -> None:
    resp = raw.post("/api/pull", json={"model": MODEL})
    assert resp.status_code == 501
    assert ollama_standin.take_errors() == ["the Ollama stand-in does not implement POST /api/pull"]


def test_reply_validation() -> None:
    with pytest.raises(ValueError):
        Reply("x", done_reason="eos")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Reply("x", status=200)
    with pytest.raises(ValueError):
        Reply("x", delay_seconds=-1)
