"""Instructions for all of a user's conversations (ChatGPT's custom instructions) in a real headless Chromium: set under
Personalize, sent before every conversation's messages, kept across a reload, and removed again."""
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from conftest import running_sluice, menu_item
from test_chat_ui import WebDriverWait, last_text
from test_usage_ui import wait_for_answer_end

INSTRUCTIONS = "I write Swift for a living. Show the code first, then explain briefly."


@pytest.fixture(scope="module")
def personal_server():
    def serve_args(simulator_port, _):
        return ["--model", "sim", "--upstream", f"http://127.0.0.1:{simulator_port}/v1"]

    with running_sluice(serve_args, simulator_args=("--tokens", "12", "--delay-ms", "5"), user="personal") as running:
        yield running


def open_page(browser, server):
    browser.get(f"{server.base}/#token={server.token}")
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "input").is_displayed())


def ask_in_new_echo_conversation(browser, server, text):
    """A conversation whose model makes the simulator answer with what it was sent (`sim-echo`), asked `text`."""
    server.api("POST", "/api/conversations", {"model": "sim-echo"})
    browser.get("about:blank")  # the same address again would not load the page again
    open_page(browser, server)
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#conversation-list button[aria-current='true']"))
    browser.find_element(By.ID, "input").send_keys(text, Keys.ENTER)
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".message.assistant"))
    wait_for_answer_end(browser)
    conversations = server.api("GET", "/api/conversations")["conversations"]
    return server.api("GET", f"/api/conversations/{conversations[0]['id']}")["messages"][-1]


def save(browser, text):
    box = browser.find_element(By.ID, "personal-instructions-text")
    box.clear()
    if text:
        box.send_keys(text)
    browser.find_element(By.CSS_SELECTOR, "#personal-instructions button[type='submit']").click()


def test_instructions_for_all_conversations_are_set_sent_kept_and_removed(browser, personal_server):
    open_page(browser, personal_server)
    button = menu_item(browser, "personalize-open")
    assert button.text == "Personalize"
    assert not browser.find_element(By.ID, "personal-instructions").is_displayed()
    button.click()
    form = browser.find_element(By.ID, "personal-instructions")
    WebDriverWait(browser, 5).until(lambda d: form.is_displayed())
    assert browser.find_element(By.ID, "personal-instructions-text").get_attribute("value") == ""
    save(browser, INSTRUCTIONS)
    WebDriverWait(browser, 5).until(lambda d: d.find_element(By.CSS_SELECTOR, "#personal-instructions .instructions-status").text.startswith("Saved"))
    assert personal_server.api("GET", "/api/me/instructions") == {"instructions": INSTRUCTIONS}
    assert menu_item(browser, "personalize-open").text == "Personalize (set)"
    browser.find_element(By.ID, "account-menu-button").click()  # closes the menu again

    # Sent before the conversation's messages: the simulator quotes the system prompt it got, which Sluice redacts
    # (a system prompt quoted whole), and counts its words (13) in the prompt's tokens.
    answer = ask_in_new_echo_conversation(browser, personal_server, "Hi")
    assert answer["content"] == "system: [system prompt redacted]\nuser: Hi\n"
    assert answer["usage"]["input_tokens"] == 3 + (4 + 13) + (4 + 1)

    # Kept across a reload; removed with an empty box, and the next conversation goes without them.
    browser.refresh()
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "input").is_displayed())
    menu_item(browser, "personalize-open").click()
    WebDriverWait(browser, 5).until(
        lambda d: d.find_element(By.ID, "personal-instructions-text").get_attribute("value") == INSTRUCTIONS)
    # Cancel puts back what is saved and closes; Escape closes.
    box = browser.find_element(By.ID, "personal-instructions-text")
    box.send_keys(" And always in French.")
    browser.find_element(By.CSS_SELECTOR, "#personal-instructions .instructions-cancel").click()
    assert not browser.find_element(By.ID, "personal-instructions").is_displayed()
    assert box.get_attribute("value") == INSTRUCTIONS
    menu_item(browser, "personalize-open").click()
    WebDriverWait(browser, 5).until(lambda d: d.find_element(By.ID, "personal-instructions").is_displayed())
    box.send_keys(Keys.ESCAPE)
    WebDriverWait(browser, 5).until(lambda d: not d.find_element(By.ID, "personal-instructions").is_displayed())
    assert personal_server.api("GET", "/api/me/instructions") == {"instructions": INSTRUCTIONS}
    menu_item(browser, "personalize-open").click()
    WebDriverWait(browser, 5).until(lambda d: d.find_element(By.ID, "personal-instructions").is_displayed())
    save(browser, "")
    WebDriverWait(browser, 5).until(lambda d: d.find_element(By.CSS_SELECTOR, "#personal-instructions .instructions-status").text.startswith("Removed"))
    assert personal_server.api("GET", "/api/me/instructions") == {"instructions": None}
    answer = ask_in_new_echo_conversation(browser, personal_server, "Hi")
    assert answer["content"] == "user: Hi\n"
    assert "Personalize" == menu_item(browser, "personalize-open").text
    browser.find_element(By.ID, "account-menu-button").click()
