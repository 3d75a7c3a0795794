"""Function calling through the gateway, driven by the official `openai` SDK as an agent drives it: offer tools,
run the calls the model makes, send the results back, read the answer. The simulator plays a model that calls the
offered functions with {"query": <the question>} and then reports what they returned."""
import json

from selenium.webdriver.common.by import By

from test_chat_ui import WebDriverWait
from test_conversation_edit_ui import export
from test_anthropic_gateway import get
from test_gateway import client
from test_usage_ui import add_user

TOOLS = [
    {"type": "function", "function": {
        "name": "get_weather", "description": "The weather in a city.",
        "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}}},
    {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}},
]


def run(call):
    """The agent's side: what each function returns."""
    query = json.loads(call.function.arguments)["query"]
    return {"get_weather": f"sunny where '{query}' asks", "get_time": "noon"}[call.function.name]


def test_an_agent_loop_with_the_sdk_calls_functions_and_answers_their_results_in_one_conversation(server):
    token = add_user(server, "tools-agent", 1_000_000)
    sdk = client(server, token)
    messages = [{"role": "user", "content": "Weather and time in Oslo?"}]
    raw = sdk.chat.completions.with_raw_response.create(model="sim", messages=messages, tools=TOOLS)
    first = raw.parse()
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    assert [call.function.name for call in choice.message.tool_calls] == ["get_weather", "get_time"]
    assert all(json.loads(call.function.arguments) == {"query": "Weather and time in Oslo?"} for call in choice.message.tool_calls)
    assert first.usage.completion_tokens > 0

    # The SDK's own message goes back as the history, with the results.
    messages.append(choice.message.model_dump(exclude_none=True))
    for call in choice.message.tool_calls:
        messages.append({"role": "tool", "tool_call_id": call.id, "content": run(call)})
    # Streamed this time, read with the SDK's helper that assembles the stream.
    with sdk.chat.completions.stream(model="sim", messages=messages, tools=TOOLS) as stream:
        final = stream.get_final_completion()
    answer = final.choices[0].message.content
    ids = [call.id for call in choice.message.tool_calls]
    assert answer == f"The functions returned: {ids[0]} said sunny where 'Weather and time in Oslo?' asks; {ids[1]} said noon."
    assert final.choices[0].finish_reason == "stop" and not final.choices[0].message.tool_calls

    # One conversation, every step stored.
    conversations = get(server, token, "/api/conversations")["conversations"]
    assert [c["id"] for c in conversations] == [raw.headers["x-sluice-conversation-id"]]
    conversation = get(server, token, f"/api/conversations/{conversations[0]['id']}")
    roles = [m["role"] for m in conversation["messages"]]
    assert roles == ["user", "assistant", "tool", "tool", "assistant"], roles
    assert conversation["messages"][-1]["content"] == answer
    assert [c["name"] for c in conversation["messages"][1]["tool_calls"]] == ["get_weather", "get_time"]
    assert conversation["messages"][2]["tool_call_id"] == ids[0]


def test_streamed_calls_arrive_as_openai_tool_call_deltas_the_sdk_assembles(server):
    sdk = client(server, add_user(server, "tools-stream", 1_000_000))
    with sdk.chat.completions.stream(
            model="sim", messages=[{"role": "user", "content": "Time?"}], tools=TOOLS,
            tool_choice={"type": "function", "function": {"name": "get_time"}}) as stream:
        pieces = [event for event in stream if event.type == "tool_calls.function.arguments.delta"]
        final = stream.get_final_completion()
    calls = final.choices[0].message.tool_calls
    assert [call.function.name for call in calls] == ["get_time"]
    assert json.loads(calls[0].function.arguments) == {"query": "Time?"}
    # The arguments came in several pieces, as a model writes them.
    assert len(pieces) > 1
    assert final.choices[0].finish_reason == "tool_calls"


def test_the_web_app_shows_a_gateway_conversations_calls_and_results_as_text(browser, server):
    token = add_user(server, "tools-web", 1_000_000)
    sdk = client(server, token)
    # Markup in the arguments and the result must stay inert.
    question = "<img src=x onerror=alert(1)> Weather?"
    first = sdk.chat.completions.create(model="sim", messages=[{"role": "user", "content": question}], tools=TOOLS[:1])
    call = first.choices[0].message.tool_calls[0]
    messages = [{"role": "user", "content": question}, first.choices[0].message.model_dump(exclude_none=True),
                {"role": "tool", "tool_call_id": call.id, "content": "<b>rain</b>"}]
    sdk.chat.completions.create(model="sim", messages=messages, tools=TOOLS[:1])
    browser.get(f"{server.base}/#token={token}")
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "input").is_displayed())
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".message.tool"))
    summary = browser.find_element(By.CSS_SELECTOR, ".message.assistant details.tool-call summary")
    assert summary.text == "Called get_weather"
    summary.click()
    arguments = browser.find_element(By.CSS_SELECTOR, ".message.assistant details.tool-call pre").text
    assert json.loads(arguments) == {"query": question}
    result = browser.find_element(By.CSS_SELECTOR, ".message.tool details summary")
    assert result.text == f"Result of {call.id}"
    result.click()
    assert browser.find_element(By.CSS_SELECTOR, ".message.tool details pre").text == "<b>rain</b>"
    # Text, not HTML: no element came from the model's or the function's words.
    assert not browser.find_elements(By.CSS_SELECTOR, ".message img, .message b")
    assert browser.find_elements(By.CSS_SELECTOR, ".message.assistant")[-1].text.startswith("The functions returned:")
    # The Markdown export names the calls and the results.
    _, text = export(browser, "markdown")
    assert f"Called `get_weather` ({call.id}):\n\n```json\n{call.function.arguments}\n```" in text
    assert f"**Function result ({call.id})**" in text and "<b>rain</b>" in text
