"""The model picker in a real headless Chromium, against a server with two models (both the simulator) from a models file."""
import json
import os
import subprocess
import urllib.request

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from conftest import SLUICE, project_action, running_sluice
from test_chat_ui import WebDriverWait, click, last_text
from test_images_ui import PNG_3X2
from test_usage_ui import wait_for_answer_end

MODELS_FILE = """models:
  - name: sim
    kind: openai
    base_url: http://127.0.0.1:{port}/v1
    context_window: 8192
    vision: false
    input_per_million: "0"
    output_per_million: "0"
  - name: large-sim
    kind: openai
    base_url: http://127.0.0.1:{port}/v1
    context_window: 128000
    vision: true
    input_per_million: "0.15"
    output_per_million: "0.60"
    cached_input_per_million: "0.075"
"""


@pytest.fixture(scope="module")
def two_models():
    def serve_args(simulator_port, workdir):
        models = os.path.join(workdir, "models.yaml")
        with open(models, "w") as file:
            file.write(MODELS_FILE.format(port=simulator_port))
        return ["--models", models, "--model", "sim"]

    with running_sluice(serve_args, simulator_args=("--tokens", "12", "--delay-ms", "5"), user="picker") as running:
        yield running


def picker(browser):
    return Select(browser.find_element(By.ID, "model-picker"))


def facts(browser):
    return browser.find_element(By.ID, "model-facts").text


def open_page(browser, server, token=None):
    browser.get(f"{server.base}/#token={token or server.token}")
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "model-picker").is_displayed())


def send(browser, text):
    box = browser.find_element(By.ID, "input")
    box.send_keys(text)
    box.send_keys(Keys.ENTER)
    WebDriverWait(browser, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".message.user")) >= 1)
    wait_for_answer_end(browser)


def latest_conversation(server):
    conversations = server.api("GET", "/api/conversations")["conversations"]
    return server.api("GET", f"/api/conversations/{conversations[0]['id']}")


def test_the_picker_lists_the_models_with_their_facts_and_a_new_conversation_uses_the_pick(browser, two_models):
    open_page(browser, two_models)
    assert [option.text for option in picker(browser).options] == ["sim", "large-sim"]
    assert picker(browser).first_selected_option.text == "sim"
    assert facts(browser) == "8,192-token window · free · text only"

    picker(browser).select_by_visible_text("large-sim")
    assert facts(browser) == "128,000-token window · $0.15 in ($0.075 cached) / $0.6 out per million tokens · sees images"
    browser.find_element(By.ID, "new-conversation").click()
    WebDriverWait(browser, 10).until(lambda d: not d.find_elements(By.CSS_SELECTOR, ".message"))
    send(browser, "hello")

    conversation = latest_conversation(two_models)
    assert conversation["model"] == "large-sim"
    assert [m["model"] for m in conversation["messages"] if m["role"] == "assistant"] == ["large-sim"]
    # The answer says which model wrote it.
    WebDriverWait(browser, 10).until(lambda d: last_text(d, ".message.assistant .meta").startswith("large-sim · "))


def test_a_pick_mid_conversation_answers_the_next_message_and_is_remembered(browser, two_models):
    open_page(browser, two_models)
    picker(browser).select_by_visible_text("sim")
    browser.find_element(By.ID, "new-conversation").click()
    WebDriverWait(browser, 10).until(lambda d: not d.find_elements(By.CSS_SELECTOR, ".message"))
    send(browser, "first question")
    WebDriverWait(browser, 10).until(lambda d: last_text(d, ".message.assistant .meta").startswith("sim · "))

    picker(browser).select_by_visible_text("large-sim")
    send(browser, "second question")
    WebDriverWait(browser, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".message.assistant")) == 2)
    conversation = latest_conversation(two_models)
    assert [m["model"] for m in conversation["messages"] if m["role"] == "assistant"] == ["sim", "large-sim"]
    assert conversation["model"] == "large-sim"

    # Regenerate the latest answer with the other model: the picker says which model answers next.
    picker(browser).select_by_visible_text("sim")
    click(browser, ".message.assistant .regenerate")
    WebDriverWait(browser, 30).until(
        lambda d: latest_conversation(two_models)["messages"][-1].get("model") == "sim"
        and latest_conversation(two_models)["messages"][-1]["status"] == "complete")
    wait_for_answer_end(browser)

    # After a reload the open conversation shows its model; a new conversation starts with the last pick.
    picker(browser).select_by_visible_text("large-sim")
    browser.refresh()
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "model-picker").is_displayed()
                                     and d.find_elements(By.CSS_SELECTOR, ".message.assistant"))
    assert picker(browser).first_selected_option.text == "sim"
    browser.find_element(By.ID, "new-conversation").click()
    WebDriverWait(browser, 10).until(lambda d: picker(d).first_selected_option.text == "large-sim")
    assert latest_conversation(two_models)["model"] == "large-sim"


def test_a_user_limited_to_some_models_sees_only_those(browser, two_models):
    added = subprocess.run([SLUICE, "user", "add", "limited", "--db", two_models.db], check=True, capture_output=True, text=True)
    token = added.stdout.strip().splitlines()[-1]
    subprocess.run([SLUICE, "user", "set-models", "limited", "large-sim", "--db", two_models.db], check=True, capture_output=True)
    open_page(browser, two_models, token)
    assert [option.text for option in picker(browser).options] == ["large-sim"]
    browser.find_element(By.ID, "new-conversation").click()
    WebDriverWait(browser, 10).until(lambda d: not d.find_elements(By.CSS_SELECTOR, ".message"))
    send(browser, "hello")
    WebDriverWait(browser, 10).until(lambda d: last_text(d, ".message.assistant .meta").startswith("large-sim · "))


def test_an_image_for_a_text_only_model_is_flagged_refused_with_the_reason_and_kept_for_one_that_sees(browser, two_models, tmp_path):
    """`vision:` in the models file: the picker says which model sees images; an image added for one that does not is
    flagged at once, the send is refused with the reason and the image comes back, and the model that sees answers."""
    photo = tmp_path / "photo.png"
    photo.write_bytes(PNG_3X2)
    open_page(browser, two_models)
    picker(browser).select_by_visible_text("sim")
    browser.find_element(By.ID, "new-conversation").click()
    WebDriverWait(browser, 10).until(lambda d: not d.find_elements(By.CSS_SELECTOR, ".message"))
    browser.find_element(By.ID, "attach-input").send_keys(str(photo))
    WebDriverWait(browser, 5).until(lambda d: "does not see images" in d.find_element(By.ID, "banner").text)
    box = browser.find_element(By.ID, "input")
    box.send_keys("What is it?", Keys.ENTER)
    WebDriverWait(browser, 10).until(lambda d: "'sim' does not see images" in d.find_element(By.ID, "banner").text)
    # The words and the image are back in the composer; nothing was kept.
    WebDriverWait(browser, 5).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#attachments li img.thumb"))
    assert browser.find_element(By.ID, "input").get_attribute("value") == "What is it?"
    picker(browser).select_by_visible_text("large-sim")
    browser.find_element(By.ID, "input").send_keys(Keys.ENTER)
    wait_for_answer_end(browser)
    conversation = latest_conversation(two_models)
    assert [m["role"] for m in conversation["messages"]] == ["user", "assistant"]
    assert conversation["messages"][0]["images"][0]["width"] == 3



def test_a_projects_form_says_whether_its_files_go_whole_for_the_picked_model(browser, two_models):
    """The picked model's window decides: for `sim` (8 192 tokens) 10 000 characters are more than a quarter, and go as
    the passages that match each message; for `large-sim` (128 000) they go whole. A turn in the project is answered."""
    server = two_models
    project = server.api("POST", "/api/projects", {"name": "Handbook"})
    lines = [f"Section {index}: the rules of the shed and the greenhouse, item {index}." for index in range(150)]
    server.api("POST", f"/api/projects/{project['id']}/files", {"name": "handbook.md", "text": "\n".join(lines)})
    characters = len("\n".join(lines))
    assert 6144 < characters < 96000
    open_page(browser, server)

    def form_note(model):
        picker(browser).select_by_value(model)
        project_action(browser, "Handbook", "edit")
        note = browser.find_element(By.CSS_SELECTOR, "#project-form .project-files-note")
        WebDriverWait(browser, 5).until(lambda d: note.is_displayed() and note.text)
        text = note.text
        browser.find_element(By.CSS_SELECTOR, "#project-form .instructions-cancel").click()
        return text

    small = form_note("sim")
    assert f"{characters:,} characters" in small
    assert "best match" in small and "8,192-token window" in small and "6,144 characters" in small
    large = form_note("large-sim")
    assert "sent whole" in large and "96,000 characters" in large

    # A message in the project on the small model is answered with excerpts: fewer words go up than the file has.
    def input_tokens(body):
        conversation = server.api("POST", "/api/conversations", body)
        request = urllib.request.Request(
            f"{server.base}/api/conversations/{conversation['id']}/messages", method="POST",
            data=json.dumps({"content": "What are the rules of the shed?"}).encode(),
            headers={"Authorization": f"Bearer {server.token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert b"event: done" in response.read()
        answer = server.api("GET", f"/api/conversations/{conversation['id']}")["messages"][-1]
        assert answer["status"] == "complete", answer
        return answer["usage"]["input_tokens"]

    alone = input_tokens({"model": "sim"})
    with_excerpts = input_tokens({"model": "sim", "project_id": project["id"]})
    assert 0 < with_excerpts - alone < len("\n".join(lines).split())

    # The answer names its sources: under the stored answer (the one above, the newest conversation opens first), and
    # under a new one once it is done. (A page loaded anew: the same address again would only change its hash.)
    browser.get("about:blank")
    open_page(browser, server)
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".message.assistant .answer-sources"))
    box = browser.find_element(By.ID, "input")
    box.send_keys("Which rules hold for the greenhouse?")
    box.send_keys(Keys.ENTER)
    WebDriverWait(browser, 30).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, ".message.assistant .answer-sources")) == 2)
    latest = browser.find_elements(By.CSS_SELECTOR, ".message.assistant .answer-sources")[-1]
    summary = latest.find_element(By.TAG_NAME, "summary")
    assert summary.text.startswith("Sources (") and "of the project's files" in summary.text
    summary.click()
    items = WebDriverWait(browser, 5).until(lambda d: [li.text for li in latest.find_elements(By.TAG_NAME, "li") if li.text])
    assert all(item.startswith("handbook.md, line") for item in items), items
    stored = server.api("GET", f"/api/conversations/{server.api('GET', '/api/conversations')['conversations'][0]['id']}")
    assert len(items) == len(stored["messages"][-1]["sources"])
