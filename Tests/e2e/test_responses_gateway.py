"""OpenAI's Responses API on the gateway (`/v1/responses`), driven by the official `openai` SDK: its own stream
accumulator checks the events' order and identities, so a malformed stream fails here."""
import json
import urllib.request

import openai
import pytest

from test_gateway import client
from test_usage_ui import add_user

TOOLS = [{"type": "function", "name": "get_weather", "description": "The weather in a city.",
          "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}}]


def test_responses_create_answers_and_previous_response_id_continues_the_conversation(server):
    token = add_user(server, "responses-sdk", 1_000_000)
    sdk = client(server, token)
    first = sdk.responses.with_raw_response.create(model="sim", instructions="Be brief.", input="Name a colour.")
    response = first.parse()
    assert response.status == "completed" and response.output_text and response.id.startswith("resp_")
    assert response.usage.input_tokens > 0 and response.usage.output_tokens == 120
    second = sdk.responses.with_raw_response.create(
        model="sim", instructions="Be brief.", input="Another one?", previous_response_id=response.id)
    following = second.parse()
    assert following.previous_response_id == response.id and following.usage.input_tokens > response.usage.input_tokens
    conversation_id = first.headers["x-sluice-conversation-id"]
    assert second.headers["x-sluice-conversation-id"] == conversation_id
    request = urllib.request.Request(f"{server.base}/api/conversations/{conversation_id}",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        conversation = json.loads(reply.read())
    assert [m["content"] for m in conversation["messages"]] == [
        "Name a colour.", response.output_text, "Another one?", following.output_text]
    assert conversation["system_prompt"] == "Be brief."
    counted = sdk.responses.input_tokens.count(model="sim", instructions="Be brief.", input="Name a colour.")
    assert counted.object == "response.input_tokens" and counted.input_tokens > 0
    longer = sdk.responses.input_tokens.count(
        model="sim", instructions="Be brief.", input="Another one?", previous_response_id=response.id)
    assert longer.input_tokens > counted.input_tokens
    items = sdk.responses.input_items.list(following.id, order="asc")
    assert [(item.type, item.role) for item in items.data] == [("message", "user"), ("message", "assistant"), ("message", "user")]
    assert [item.content[0].text for item in items.data] == ["Name a colour.", response.output_text, "Another one?"]
    assert items.has_more is False and items.first_id == items.data[0].id
    retrieved = sdk.responses.retrieve(response.id)
    assert retrieved.id == response.id and retrieved.output_text == response.output_text and retrieved.status == "completed"
    # Deleting the second response takes its answer and its question; the first stays, and so does what it cost.
    sdk.responses.delete(following.id)
    with pytest.raises(openai.NotFoundError):
        sdk.responses.retrieve(following.id)
    with urllib.request.urlopen(request, timeout=10) as reply:
        assert [m["content"] for m in json.loads(reply.read())["messages"]] == ["Name a colour.", response.output_text]
    assert sdk.responses.retrieve(response.id).output_text == response.output_text


def test_responses_store_false_keeps_nothing_but_the_cost(server):
    """As OpenAI's Codex CLI calls: `store=False`, the whole input each time, nothing to retrieve afterwards."""
    token = add_user(server, "responses-unstored", 1_000_000)
    sdk = client(server, token)
    response = sdk.responses.create(model="sim", input="Name a colour.", store=False)
    assert response.store is False and response.status == "completed" and response.output_text
    with pytest.raises(openai.NotFoundError):
        sdk.responses.retrieve(response.id)
    with pytest.raises(openai.NotFoundError):
        sdk.responses.create(model="sim", input="Another one?", previous_response_id=response.id, store=False)
    with sdk.responses.stream(model="sim", store=False, input=[
            {"role": "user", "content": "Name a colour."},
            {"role": "assistant", "content": response.output_text},
            {"role": "user", "content": "Another one?"}]) as stream:
        final = stream.get_final_response()
    assert final.store is False and final.output_text
    request = urllib.request.Request(f"{server.base}/api/conversations", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        listed = json.loads(reply.read())
    assert listed["conversations"] == []
    limits = urllib.request.Request(f"{server.base}/api/usage/limits", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(limits, timeout=10) as reply:
        assert json.loads(reply.read())["used"] == response.usage.total_tokens + final.usage.total_tokens


def test_responses_stream_through_the_sdks_accumulator_gives_the_final_response(server):
    token = add_user(server, "responses-stream", 1_000_000)
    with client(server, token).responses.stream(model="sim", input="Hi") as stream:
        deltas = [event.delta for event in stream if event.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert len(deltas) > 1 and "".join(deltas) == final.output_text
    assert final.status == "completed" and final.usage.output_tokens == 120


def test_responses_log_probabilities_through_the_sdk_whole_and_streamed(server):
    sdk = client(server, add_user(server, "responses-logprobs", 1_000_000))
    response = sdk.responses.create(model="sim", input="Hi", include=["message.output_text.logprobs"], top_logprobs=2)
    entries = response.output[0].content[0].logprobs
    assert len(entries) == 120 and "".join(entry.token for entry in entries) == response.output_text
    assert all(len(entry.top_logprobs) == 2 and entry.top_logprobs[0].token == entry.token for entry in entries)
    with sdk.responses.stream(model="sim", input="Hi", include=["message.output_text.logprobs"]) as stream:
        streamed = [entry for event in stream if event.type == "response.output_text.delta" for entry in event.logprobs]
        final = stream.get_final_response()
    assert [entry.token for entry in streamed] == [entry.token for entry in final.output[0].content[0].logprobs]
    assert "".join(entry.token for entry in streamed) == final.output_text and len(streamed) == 120


def test_an_agent_loop_with_function_calls_streamed_and_continued_by_previous_response_id(server):
    token = add_user(server, "responses-tools", 1_000_000)
    sdk = client(server, token)
    with sdk.responses.stream(model="sim", input="Lisbon", tools=TOOLS) as stream:
        asked = stream.get_final_response()
    calls = [item for item in asked.output if item.type == "function_call"]
    assert [call.name for call in calls] == ["get_weather"] and json.loads(calls[0].arguments) == {"query": "Lisbon"}
    answered = sdk.responses.create(
        model="sim", tools=TOOLS, previous_response_id=asked.id,
        input=[{"type": "function_call_output", "call_id": calls[0].call_id, "output": "22 degrees and sunny"}])
    assert "22 degrees and sunny" in answered.output_text


def test_a_budget_refusal_and_bad_input_are_errors_the_sdk_raises(server):
    token = add_user(server, "responses-budget", 20)
    with pytest.raises(openai.RateLimitError) as raised:
        client(server, token).responses.create(model="sim", input="Tell me everything about the history of tea. " * 4)
    assert raised.value.code == "budget_exceeded"
    with pytest.raises(openai.BadRequestError) as bad:
        client(server, token).responses.create(model="sim", input="hi", tools=[{"type": "web_search"}])
    assert bad.value.param == "tools.0.type" and "built-in" in bad.value.message
    with pytest.raises(openai.NotFoundError) as missing:
        client(server, token).responses.retrieve("resp_00000000-0000-7000-8000-000000000000")
    assert missing.value.code == "response_not_found"


def test_an_answer_cut_by_max_output_tokens_is_an_incomplete_response(server):
    token = add_user(server, "responses-incomplete", 1_000_000)
    response = client(server, token).responses.create(model="sim", input="Tell me a long story.", max_output_tokens=5)
    assert response.status == "incomplete" and response.incomplete_details.reason == "max_output_tokens"
    assert response.output_text and response.usage.output_tokens == 5
    stream = client(server, token).responses.create(model="sim", input="Again.", max_output_tokens=5, stream=True)
    events = [event.type for event in stream]
    assert events[-1] == "response.incomplete" and "response.output_text.delta" in events


def test_a_failure_after_text_is_a_failed_response_and_the_partial_answer_is_kept(server):
    token = add_user(server, "responses-failed", 1_000_000)
    sdk = client(server, token)
    stream = sdk.responses.create(model="sim-reset-mid", input="Tell me a story", stream=True)
    events = list(stream)
    deltas = "".join(event.delta for event in events if event.type == "response.output_text.delta")
    failed = events[-1]
    assert failed.type == "response.failed" and failed.response.status == "failed"
    assert failed.response.error.code == "upstream_disconnected" and deltas
    # The items that were open are closed as incomplete, with the text that came.
    assert failed.response.output[0].status == "incomplete" and failed.response.output[0].content[0].text == deltas
    retrieved = sdk.responses.retrieve(failed.response.id)
    assert retrieved.status == "failed" and retrieved.error.code == "upstream_disconnected" and retrieved.output_text == deltas


def test_a_reasoning_models_thinking_is_a_reasoning_item_the_sdks_accumulator_reads(server):
    sdk = client(server, add_user(server, "responses-reasoning", 1_000_000))
    with sdk.responses.stream(model="sim-reasoning", input="Why?") as stream:
        thoughts = "".join(event.delta for event in stream if event.type == "response.reasoning_text.delta")
        final = stream.get_final_response()
    assert [item.type for item in final.output] == ["reasoning", "message"]
    assert final.output[0].content[0].text == thoughts and thoughts.startswith("Let me think. The user wrote: Why?")
    assert "Let me think" not in final.output_text and final.output_text
    # Sent back as input (as Codex CLI does), the reasoning item is passed over.
    following = sdk.responses.create(model="sim-reasoning", input=[
        {"role": "user", "content": "Why?"}, final.output[0].model_dump(exclude_none=True),
        {"role": "assistant", "content": final.output_text}, {"role": "user", "content": "And then?"}])
    assert following.status == "completed" and following.output[0].type == "reasoning"


def test_reasoning_summaries_asked_as_codex_does_reach_the_sdk_as_summary_events_and_items(server):
    # Codex CLI asks `reasoning: {"summary": "auto"}` and shows only summary events: the thinking comes as the summary.
    sdk = client(server, add_user(server, "responses-summary", 1_000_000))
    with sdk.responses.stream(model="sim-reasoning", input="Why?", reasoning={"effort": "low", "summary": "auto"}) as stream:
        events = list(stream)
        final = stream.get_final_response()
    summary = "".join(event.delta for event in events if event.type == "response.reasoning_summary_text.delta")
    assert summary.startswith("Let me think. The user wrote: Why?")
    assert not [event for event in events if event.type == "response.reasoning_text.delta"]
    assert [event.type for event in events if "reasoning_summary_part" in event.type] == [
        "response.reasoning_summary_part.added", "response.reasoning_summary_part.done"]
    assert final.output[0].type == "reasoning" and final.output[0].summary[0].text == summary
    assert not final.output[0].content and final.reasoning.summary == "auto"
    assert "Let me think" not in final.output_text and final.output_text
