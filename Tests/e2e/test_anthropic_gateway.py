"""Anthropic's Messages API on the gateway (`/v1/messages`), driven by the official `anthropic` SDK."""
import json
import urllib.request
from decimal import Decimal

import anthropic
import pytest

from test_usage_ui import add_user


def client(server, token):
    # No SDK retries: the tests see exactly what Sluice answered.
    return anthropic.Anthropic(base_url=server.base, api_key=token, max_retries=0, timeout=60)


def get(server, token, path):
    request = urllib.request.Request(server.base + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_messages_create_answers_with_a_message_and_stores_the_turn(server):
    # A user of its own: the shared user's newest conversation is the one the web tests continue.
    token = add_user(server, "anthropic-sdk", 1_000_000)
    raw = client(server, token).messages.with_raw_response.create(
        model="sim", max_tokens=500, system="You are terse.",
        messages=[{"role": "user", "content": "Name a colour."}, {"role": "assistant", "content": "Blue."},
                  {"role": "user", "content": [{"type": "text", "text": "Another one?"}]}])
    message = raw.parse()
    assert message.type == "message" and message.role == "assistant" and message.stop_reason == "end_turn"
    assert message.content[0].type == "text" and message.content[0].text
    assert message.usage.output_tokens == 120 and message.usage.input_tokens > 0
    stored = get(server, token, f"/api/messages/{raw.headers['x-sluice-message-id']}")
    assert stored["content"] == message.content[0].text
    conversation = get(server, token, f"/api/conversations/{raw.headers['x-sluice-conversation-id']}")
    assert conversation["system_prompt"] == "You are terse."
    assert [m["content"] for m in conversation["messages"]][:3] == ["Name a colour.", "Blue.", "Another one?"]


def test_the_sdk_reads_what_a_message_cost_as_the_ledger_charged_it(server):
    token = add_user(server, "anthropic-cost", 100000)
    sdk = client(server, token)
    raw = sdk.messages.with_raw_response.create(
        model="priced-sim", max_tokens=5, messages=[{"role": "user", "content": "What does this cost?"}])
    usage = raw.parse().usage
    # $1 000 per million tokens either way: a thousandth of a dollar a token, exactly.
    expected = Decimal(usage.input_tokens + usage.output_tokens) / 1000
    assert Decimal(raw.headers["x-sluice-response-cost"]) == expected
    assert usage.cost == pytest.approx(float(expected))  # an extra field the SDK keeps
    # Streamed, `message_delta` carries it (the SDK's final message copies only the usage fields it knows).
    with sdk.messages.stream(model="priced-sim", max_tokens=5, messages=[{"role": "user", "content": "And streamed?"}]) as stream:
        final = [event.usage for event in stream if event.type == "message_delta"][-1]
    assert final.cost == pytest.approx((final.input_tokens + final.output_tokens) / 1000)
    report = get(server, token, "/api/usage?period=today&group=model")
    assert Decimal(report["totals"]["cost_usd"]) == expected + Decimal(final.input_tokens + final.output_tokens) / 1000


def test_messages_stream_gives_the_sdk_its_events_and_the_final_message(server):
    token = add_user(server, "anthropic-sdk-stream", 1_000_000)
    with client(server, token).messages.stream(model="sim", max_tokens=500, messages=[{"role": "user", "content": "Hi"}]) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert len(pieces) > 1 and "".join(pieces) == final.content[0].text
    assert final.stop_reason == "end_turn" and final.usage.output_tokens == 120 and final.usage.input_tokens > 0


def test_a_prefilled_answer_gives_the_sdk_the_continuation_and_stores_the_whole(server):
    # Anthropic's prefill: the final assistant turn starts the answer. The upstream here (the simulator, answering as
    # llama-server does) says the start again before its continuation; the SDK gets the continuation alone.
    token = add_user(server, "anthropic-prefill", 1_000_000)
    prefill = "Here is my answer:"
    messages = [{"role": "user", "content": "Answer briefly."}, {"role": "assistant", "content": prefill + " "}]
    with client(server, token).messages.stream(model="sim", max_tokens=500, messages=messages) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
        message_id = stream.response.headers["x-sluice-message-id"]
    text = "".join(pieces)
    assert text and text == final.content[0].text and not text.startswith(prefill)
    stored = get(server, token, f"/api/messages/{message_id}")
    assert stored["content"] == prefill + text and stored["status"] == "complete"


def test_a_spent_budget_is_a_rate_limit_error_and_a_wrong_key_an_authentication_error(server):
    token = add_user(server, "anthropic-budget", 20)
    with pytest.raises(anthropic.RateLimitError) as raised:
        client(server, token).messages.create(
            model="sim", max_tokens=500, messages=[{"role": "user", "content": "a long question " * 20}])
    assert raised.value.body["type"] == "error" and raised.value.body["error"]["type"] == "rate_limit_error"
    assert "tokens left" in raised.value.body["error"]["message"]
    with pytest.raises(anthropic.AuthenticationError):
        client(server, "sluice_wrong").messages.create(model="sim", max_tokens=10, messages=[{"role": "user", "content": "Hi"}])
    with pytest.raises(anthropic.BadRequestError) as bad:
        client(server, token).messages.create(model="sim", max_tokens=10, messages=[{"role": "assistant", "content": "Hi"}])
    assert "must be the user's" in bad.value.body["error"]["message"]


WEATHER = {"name": "get_weather", "description": "The weather in a city.",
           "input_schema": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}}


def test_tool_use_with_the_sdk_calls_a_function_and_answers_its_result_in_one_conversation(server):
    token = add_user(server, "anthropic-tools", 1_000_000)
    sdk = client(server, token)
    question = {"role": "user", "content": "Weather in Oslo?"}
    raw = sdk.messages.with_raw_response.create(model="sim", max_tokens=500, messages=[question], tools=[WEATHER])
    first = raw.parse()
    assert first.stop_reason == "tool_use"
    uses = [block for block in first.content if block.type == "tool_use"]
    assert [(use.name, use.input) for use in uses] == [("get_weather", {"query": "Weather in Oslo?"})]
    assert not [block for block in first.content if block.type == "text"]

    # The SDK's content goes back as the assistant turn, the result as a tool_result block; streamed this time.
    messages = [question, {"role": "assistant", "content": first.content},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": uses[0].id, "content": "18 C"}]}]
    with sdk.messages.stream(model="sim", max_tokens=500, messages=messages, tools=[WEATHER]) as stream:
        final = stream.get_final_message()
    assert final.stop_reason == "end_turn"
    assert final.content[0].text == f"The functions returned: {uses[0].id} said 18 C."
    conversations = get(server, token, "/api/conversations")["conversations"]
    assert [c["id"] for c in conversations] == [raw.headers["x-sluice-conversation-id"]]
    thread = get(server, token, f"/api/conversations/{conversations[0]['id']}")["messages"]
    assert [m["role"] for m in thread] == ["user", "assistant", "tool", "assistant"]


def test_a_screenshot_a_function_returned_reaches_the_model_and_is_kept_with_the_result(server):
    """A tool_result with an image block, as a screenshot tool (Playwright's MCP server) returns it through the SDK."""
    import base64
    from test_images_ui import PNG_3X2
    token = add_user(server, "anthropic-tool-image", 1_000_000)
    sdk = client(server, token)
    question = {"role": "user", "content": "What is on the screen?"}
    first = sdk.messages.create(model="sim", max_tokens=500, messages=[question], tools=[WEATHER])
    use = next(block for block in first.content if block.type == "tool_use")
    result = {"type": "tool_result", "tool_use_id": use.id, "content": [
        {"type": "text", "text": "Screenshot taken"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": base64.b64encode(PNG_3X2).decode()}}]}
    raw = sdk.messages.with_raw_response.create(
        model="sim", max_tokens=500, tools=[WEATHER],
        messages=[question, {"role": "assistant", "content": first.content}, {"role": "user", "content": [result]}])
    answer = raw.parse()
    # The simulator says what it was shown: the image's type, size and a hash of its bytes (FNV-1a, 64 bits).
    digest = 0xcbf29ce484222325
    for byte in PNG_3X2:
        digest = ((digest ^ byte) * 0x100000001b3) % (1 << 64)
    assert answer.content[0].text == (
        f"The functions returned: {use.id} said Screenshot taken. They showed: image: image/png {len(PNG_3X2)} bytes fnv1a {digest:016x}.")
    thread = get(server, token, f"/api/conversations/{raw.headers['x-sluice-conversation-id']}")["messages"]
    tool = next(message for message in thread if message["role"] == "tool")
    assert tool["content"] == "Screenshot taken" and [image["media_type"] for image in tool["images"]] == ["image/png"]


def test_a_streamed_tool_use_block_gives_the_sdk_its_input_in_pieces(server):
    token = add_user(server, "anthropic-tools-stream", 1_000_000)
    with client(server, token).messages.stream(
            model="sim", max_tokens=500, messages=[{"role": "user", "content": "Weather in Rome?"}],
            tools=[WEATHER], tool_choice={"type": "tool", "name": "get_weather"}) as stream:
        pieces = [event for event in stream if event.type == "input_json"]
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    assert [(block.type, block.name, block.input) for block in final.content] == [
        ("tool_use", "get_weather", {"query": "Weather in Rome?"})]
    assert len(pieces) > 1


def test_server_tools_and_unknown_tool_results_are_400s(server):
    token = add_user(server, "anthropic-tools-bad", 1_000_000)
    sdk = client(server, token)
    with pytest.raises(anthropic.BadRequestError) as raised:
        sdk.messages.create(model="sim", max_tokens=50, messages=[{"role": "user", "content": "Hi"}],
                            tools=[{"type": "web_search_20250305", "name": "web_search"}])
    assert "server tool" in raised.value.message
    with pytest.raises(anthropic.BadRequestError) as raised:
        sdk.messages.create(model="sim", max_tokens=50, messages=[
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_nowhere", "content": "x"}]}])
    assert "toolu_nowhere" in raised.value.message


def test_count_tokens_with_the_sdk_is_the_count_the_message_is_held_by(server):
    token = add_user(server, "anthropic-count", 1_000_000)
    sdk = client(server, token)
    request = dict(model="sim", system="You are terse.",
                   messages=[{"role": "user", "content": "Name three rivers in Portugal, please."}],
                   tools=[{"name": "get_map", "description": "A map of a region",
                           "input_schema": {"type": "object", "properties": {"region": {"type": "string"}}}}])
    counted = sdk.messages.count_tokens(**request).input_tokens
    without_tools = sdk.messages.count_tokens(**{**request, "tools": []}).input_tokens
    assert counted > without_tools > 0
    # Counting stored nothing: the user has no conversation yet.
    assert get(server, token, "/api/conversations")["conversations"] == []
    with sdk.messages.stream(max_tokens=50, **request) as stream:
        start = next(event for event in stream if event.type == "message_start")
        assert start.message.usage.input_tokens == counted


def test_the_anthropic_sdk_lists_and_retrieves_the_models_the_user_may_use(server):
    token = add_user(server, "anthropic-models", 1_000_000)
    sdk = client(server, token)
    listed = sdk.models.list()
    assert [model.id for model in listed.data] == ["sim"] and listed.has_more is False and listed.first_id == "sim"
    assert listed.data[0].type == "model" and listed.data[0].display_name == "sim"
    assert sdk.models.retrieve("sim").id == "sim"
    with pytest.raises(anthropic.NotFoundError) as missing:
        sdk.models.retrieve("claude-none")
    assert missing.value.body["type"] == "error" and missing.value.body["error"]["type"] == "not_found_error"


def test_a_reasoning_models_thinking_reaches_the_sdk_as_thinking_blocks_when_enabled(server):
    sdk = client(server, add_user(server, "anthropic-thinking", 1_000_000))
    messages = [{"role": "user", "content": "Why?"}]
    with sdk.messages.stream(model="sim-reasoning", max_tokens=2000, messages=messages,
                             thinking={"type": "enabled", "budget_tokens": 1024}) as stream:
        thoughts = "".join(event.delta.thinking for event in stream
                           if event.type == "content_block_delta" and event.delta.type == "thinking_delta")
        final = stream.get_final_message()
    assert [block.type for block in final.content] == ["thinking", "text"]
    assert final.content[0].thinking == thoughts and thoughts.startswith("Let me think. The user wrote: Why?")
    # Sent back with the answer, as Claude Code does, the thinking block is accepted and not sent upstream again.
    following = sdk.messages.create(
        model="sim-reasoning", max_tokens=2000, thinking={"type": "enabled", "budget_tokens": 1024},
        messages=messages + [{"role": "assistant", "content": [block.model_dump() for block in final.content]},
                             {"role": "user", "content": "And then?"}])
    assert [block.type for block in following.content] == ["thinking", "text"]
    # Not asked for: no thinking block.
    plain = sdk.messages.create(model="sim-reasoning", max_tokens=2000, messages=messages)
    assert [block.type for block in plain.content] == ["text"]
