"""Reasoning effort end to end. The "Thinking" picker in a real headless Chromium: offered only for models that may
reason, sent with the message and with a regeneration, remembered, and an Anthropic model's extended thinking shown
as its thinking. The official `openai` and `anthropic` SDKs: `reasoning_effort`, `reasoning.effort` and `thinking`
reach the model, and an Anthropic model's thinking comes back in each wire's form."""
import os

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from conftest import running_sluice
from test_chat_ui import WebDriverWait, click, last_text
from test_usage_ui import wait_for_answer_end

# `sim-echo` answers with what it was sent; `claude-sim` is the simulator speaking Anthropic's Messages API, which
# thinks when asked (and refuses, as Anthropic does, a thinking request that breaks the API's rules).
MODELS_FILE = """models:
  - name: sim-echo
    kind: openai
    base_url: http://127.0.0.1:{port}/v1
    reasoning: true
  - name: claude-sim
    kind: anthropic
    base_url: http://127.0.0.1:{port}/v1
  - name: text-sim
    kind: openai
    base_url: http://127.0.0.1:{port}/v1
    reasoning: false
"""


@pytest.fixture(scope="module")
def thinking_models():
    def serve_args(simulator_port, workdir):
        models = os.path.join(workdir, "models.yaml")
        with open(models, "w") as file:
            file.write(MODELS_FILE.format(port=simulator_port))
        return ["--models", models, "--model", "sim-echo"]

    with running_sluice(serve_args, simulator_args=("--tokens", "12", "--delay-ms", "5"), user="thinker") as running:
        yield running


def effort(browser):
    return Select(browser.find_element(By.ID, "effort-picker"))


def effort_shown(browser):
    return browser.find_element(By.ID, "effort-label").is_displayed()


def pick_model(browser, name):
    Select(browser.find_element(By.ID, "model-picker")).select_by_value(name)


def new_conversation(browser):
    browser.find_element(By.ID, "new-conversation").click()
    WebDriverWait(browser, 10).until(lambda d: not d.find_elements(By.CSS_SELECTOR, ".message"))


def send(browser, text, answers):
    box = browser.find_element(By.ID, "input")
    box.send_keys(text, Keys.ENTER)
    WebDriverWait(browser, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".message.assistant")) >= answers)
    wait_for_answer_end(browser)


def latest_answer(server):
    conversations = server.api("GET", "/api/conversations")["conversations"]
    return server.api("GET", f"/api/conversations/{conversations[0]['id']}")["messages"][-1]


def test_the_effort_is_offered_where_a_model_may_reason_and_goes_with_the_message_and_the_regeneration(browser, thinking_models):
    browser.get(f"{thinking_models.base}/#token={thinking_models.token}")
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "model-picker").is_displayed())
    pick_model(browser, "text-sim")
    assert not effort_shown(browser)
    pick_model(browser, "sim-echo")
    assert effort_shown(browser)
    assert "reasons" in browser.find_element(By.ID, "model-facts").text
    assert effort(browser).first_selected_option.text == "model's default"

    new_conversation(browser)
    effort(browser).select_by_value("high")
    send(browser, "Think hard", 1)
    WebDriverWait(browser, 10).until(lambda d: "reasoning effort: high" in last_text(d, ".message.assistant .text"))
    assert latest_answer(thinking_models)["content"] == "user: Think hard\nreasoning effort: high\n"

    # A regeneration goes with the effort picked now; the model's default sends none.
    effort(browser).select_by_value("")
    click(browser, ".message.assistant .regenerate")
    WebDriverWait(browser, 30).until(
        lambda d: latest_answer(thinking_models)["status"] == "complete"
        and latest_answer(thinking_models)["content"] == "user: Think hard\n")
    wait_for_answer_end(browser)

    # Remembered across a reload.
    effort(browser).select_by_value("low")
    browser.refresh()
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "model-picker").is_displayed())
    WebDriverWait(browser, 10).until(lambda d: effort_shown(d))
    assert effort(browser).first_selected_option.get_attribute("value") == "low"


def test_an_anthropic_models_extended_thinking_is_shown_as_its_thinking(browser, thinking_models):
    browser.get(f"{thinking_models.base}/#token={thinking_models.token}")
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "model-picker").is_displayed())
    pick_model(browser, "claude-sim")
    # Nobody said whether it reasons: the effort is offered, and the model decides.
    assert effort_shown(browser)
    new_conversation(browser)
    effort(browser).select_by_value("medium")
    send(browser, "Why is the sky blue?", 1)
    answer = latest_answer(thinking_models)
    assert answer["status"] == "complete", answer
    assert answer["reasoning"] == "Let me think about: Why is the sky blue?"
    details = WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".message.assistant details.reasoning"))[-1]
    assert browser.execute_script("return arguments[0].querySelector('.reasoning-text').textContent", details) == answer["reasoning"]
    assert "Let me think" not in last_text(browser, ".message.assistant .text")


def test_the_openai_sdk_sends_reasoning_effort_on_chat_completions_and_responses(thinking_models):
    import openai
    sdk = openai.OpenAI(base_url=thinking_models.base + "/v1", api_key=thinking_models.token, max_retries=0, timeout=60)
    chat = sdk.chat.completions.create(
        model="sim-echo", messages=[{"role": "user", "content": "Hi"}], reasoning_effort="high")
    assert chat.choices[0].message.content == "user: Hi\nreasoning effort: high\n"
    response = sdk.responses.create(model="sim-echo", input="Hi", reasoning={"effort": "low"})
    assert response.output_text == "user: Hi\nreasoning effort: low\n"
    assert response.reasoning.effort == "low"
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.chat.completions.create(model="sim-echo", messages=[{"role": "user", "content": "Hi"}], reasoning_effort="extreme")
    assert refused.value.body["param"] == "reasoning_effort"

    # To an Anthropic model: its extended thinking comes back as reasoning_content, as LiteLLM gives it.
    thought = sdk.chat.completions.create(
        model="claude-sim", messages=[{"role": "user", "content": "Why?"}], reasoning_effort="low", temperature=0.2)
    assert thought.choices[0].message.model_extra["reasoning_content"] == "Let me think about: Why?"
    assert thought.choices[0].message.content and "Let me think" not in thought.choices[0].message.content


def test_the_anthropic_sdk_asks_an_anthropic_model_to_think_and_gets_its_thinking_blocks(thinking_models):
    import anthropic
    sdk = anthropic.Anthropic(base_url=thinking_models.base, api_key=thinking_models.token, max_retries=0, timeout=60)
    with sdk.messages.stream(model="claude-sim", max_tokens=3000, thinking={"type": "enabled", "budget_tokens": 2048},
                             messages=[{"role": "user", "content": "Why?"}]) as stream:
        thoughts = "".join(event.delta.thinking for event in stream
                           if event.type == "content_block_delta" and event.delta.type == "thinking_delta")
        final = stream.get_final_message()
    assert thoughts == "Let me think about: Why?"
    assert [block.type for block in final.content] == ["thinking", "text"] and final.content[0].thinking == thoughts
    with pytest.raises(anthropic.BadRequestError) as refused:
        sdk.messages.create(model="claude-sim", max_tokens=1000, thinking={"type": "enabled", "budget_tokens": 1024},
                            messages=[{"role": "user", "content": "Why?"}])
    assert "must be greater than 'thinking.budget_tokens'" in refused.value.body["error"]["message"]


def test_the_anthropic_sdk_keeps_an_anthropic_model_thinking_through_a_function_calling_loop(thinking_models):
    # As Claude Code works: streamed, with tools and thinking, the answer's blocks sent back as the SDK returned them.
    import anthropic
    sdk = anthropic.Anthropic(base_url=thinking_models.base, api_key=thinking_models.token, max_retries=0, timeout=60)
    tools = [{"name": "lookup", "description": "Looks it up.", "input_schema": {"type": "object"}}]
    ask = dict(model="claude-sim", max_tokens=3000, tools=tools, thinking={"type": "enabled", "budget_tokens": 1024})
    with sdk.messages.stream(messages=[{"role": "user", "content": "Find it"}], **ask) as stream:
        first = stream.get_final_message()
    assert [block.type for block in first.content] == ["thinking", "tool_use"]
    assert first.content[0].thinking == "Let me think about: Find it" and first.content[0].signature
    call = first.content[1]
    result = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "42"}]}
    with sdk.messages.stream(
            messages=[{"role": "user", "content": "Find it"}, {"role": "assistant", "content": first.content}, result],
            **ask) as stream:
        second = stream.get_final_message()
    assert [block.type for block in second.content] == ["thinking", "text"]
    assert "42" in second.content[1].text
    # A block changed on the way is refused, as Anthropic refuses it.
    changed = [{"type": "thinking", "thinking": "Something else", "signature": first.content[0].signature},
               {"type": "tool_use", "id": call.id, "name": "lookup", "input": {}}]
    with pytest.raises(anthropic.BadRequestError) as refused:
        sdk.messages.create(
            messages=[{"role": "user", "content": "Find it"}, {"role": "assistant", "content": changed}, result],
            metadata={"user_id": "another"}, **ask)
    assert "signature" in refused.value.body["error"]["message"]


def test_the_openai_sdk_gets_and_sends_back_thinking_blocks_as_litellm_has_them(thinking_models):
    import openai
    sdk = openai.OpenAI(base_url=thinking_models.base + "/v1", api_key=thinking_models.token, max_retries=0, timeout=60)
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]
    first = sdk.chat.completions.create(
        model="claude-sim", messages=[{"role": "user", "content": "Find it"}], tools=tools, reasoning_effort="low",
        user="sdk-first").choices[0].message
    blocks = first.model_extra["thinking_blocks"]
    assert [block["type"] for block in blocks] == ["thinking"] and blocks[0]["signature"]
    assert blocks[0]["thinking"] == first.model_extra["reasoning_content"]
    call = first.tool_calls[0]
    answer = {"role": "assistant", "content": None, "thinking_blocks": blocks,
              "tool_calls": [{"id": call.id, "type": "function", "function": {"name": "lookup", "arguments": call.function.arguments}}]}
    second = sdk.chat.completions.create(
        model="claude-sim", tools=tools, reasoning_effort="low", user="sdk-second",
        messages=[{"role": "user", "content": "Find it"}, answer, {"role": "tool", "tool_call_id": call.id, "content": "42"}])
    assert second.choices[0].message.model_extra["reasoning_content"] == "Let me think about: "
    assert "42" in second.choices[0].message.content


def test_the_openai_sdk_keeps_thinking_through_a_stateless_responses_loop(thinking_models):
    # As Codex CLI works: store=False, the reasoning items' encrypted_content included and sent back.
    import openai
    sdk = openai.OpenAI(base_url=thinking_models.base + "/v1", api_key=thinking_models.token, max_retries=0, timeout=60)
    tools = [{"type": "function", "name": "lookup", "parameters": {"type": "object"}}]
    ask = dict(model="claude-sim", tools=tools, reasoning={"effort": "low"}, store=False,
               include=["reasoning.encrypted_content"])
    question = [{"role": "user", "content": "Find it"}]
    first = sdk.responses.create(input=question, **ask)
    assert [item.type for item in first.output] == ["reasoning", "function_call"]
    assert first.output[0].encrypted_content
    call = first.output[1]
    sent_back = [item.model_dump(exclude_none=True) for item in first.output]
    second = sdk.responses.create(
        input=question + sent_back + [{"type": "function_call_output", "call_id": call.call_id, "output": "42"}], **ask)
    assert [item.type for item in second.output] == ["reasoning", "message"]
    assert "42" in second.output_text
