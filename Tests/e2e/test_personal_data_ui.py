"""Personal data masking end to end: a real `sluice serve --mask-personal-data` with a models file, the simulator as
both models' upstream and a real headless Chromium. The model that masks says so in the picker; a message with an
email address and a card number reaches the simulator with placeholders (its `GET /last-request` shows what it got),
the answer shows the details as the user wrote them, and says what was masked — after a reload too; the model the
file exempts gets the message as written."""
import json
import os
import urllib.request

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from conftest import running_sluice
from test_chat_ui import WebDriverWait, click, last_text
from test_usage_ui import wait_for_answer_end

# `sim-echo` answers with the messages it was sent; `sim` with made-up words. Both are OpenAI-compatible models, so
# --mask-personal-data covers both unless the file says otherwise.
MODELS_FILE = """models:
  - name: sim-echo
    kind: openai
    base_url: http://127.0.0.1:{port}/v1
  - name: sim
    kind: openai
    base_url: http://127.0.0.1:{port}/v1
    mask_personal_data: false
"""

MESSAGE = "Charge 4242 4242 4242 4242 and send the receipt to dana@example.com"


@pytest.fixture(scope="module")
def masking():
    def serve_args(simulator_port, workdir):
        models = os.path.join(workdir, "models.yaml")
        with open(models, "w") as file:
            file.write(MODELS_FILE.format(port=simulator_port))
        return ["--models", models, "--model", "sim-echo", "--mask-personal-data"]

    with running_sluice(serve_args, simulator_args=("--tokens", "12", "--delay-ms", "5"), user="masker") as running:
        yield running


def last_request(server):
    with urllib.request.urlopen(f"http://127.0.0.1:{server.simulator_port}/last-request", timeout=10) as response:
        return json.loads(response.read())


def sent_text(server):
    return "\n".join(message.get("content") or "" for message in last_request(server)["messages"])


def send(browser, text):
    box = browser.find_element(By.ID, "input")
    box.send_keys(text)
    box.send_keys(Keys.ENTER)
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".message.user"))
    wait_for_answer_end(browser)


def test_a_masking_model_gets_placeholders_and_the_answer_says_what_was_masked(browser, masking):
    browser.get(f"{masking.base}/#token={masking.token}")
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "model-picker").is_displayed())
    assert "personal data masked" in browser.find_element(By.ID, "model-facts").text

    send(browser, MESSAGE)
    sent = sent_text(masking)
    assert "Charge [CARD_1] and send the receipt to [EMAIL_1]" in sent
    assert "dana@example.com" not in sent and "4242 4242" not in sent

    WebDriverWait(browser, 10).until(lambda d: MESSAGE in last_text(d, ".message.assistant .text"))
    assert "[EMAIL_1]" not in last_text(browser, ".message.assistant .text")
    WebDriverWait(browser, 10).until(lambda d: "2 personal details masked" in last_text(d, ".message.assistant .meta"))

    def details_say_what_was_masked():
        click(browser, ".message.assistant .usage-details summary")
        WebDriverWait(browser, 10).until(lambda d: "went to the model as placeholders" in last_text(d, ".usage-details dl"))
        assert ("1 email address and 1 card number went to the model as placeholders, and were put back in its answer"
                in last_text(browser, ".usage-details dl"))

    details_say_what_was_masked()
    # The answer keeps it: a reload shows the same.
    browser.refresh()
    WebDriverWait(browser, 10).until(lambda d: "2 personal details masked" in last_text(d, ".message.assistant .meta"))
    details_say_what_was_masked()


def test_a_model_the_file_exempts_gets_the_message_as_written(browser, masking):
    browser.get(f"{masking.base}/#token={masking.token}")
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "model-picker").is_displayed())
    browser.find_element(By.ID, "new-conversation").click()
    Select(browser.find_element(By.ID, "model-picker")).select_by_value("sim")
    WebDriverWait(browser, 10).until(lambda d: "personal data masked" not in d.find_element(By.ID, "model-facts").text)
    send(browser, MESSAGE)
    assert MESSAGE in sent_text(masking)
    assert "masked" not in last_text(browser, ".message.assistant .meta")
