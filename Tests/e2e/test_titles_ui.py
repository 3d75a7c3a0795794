"""Titles written by a model: after a conversation's first answer the web app has the server's title model name it
(as ChatGPT and Open WebUI do; a page that opens a conversation whose first answer ended unwatched asks then), and
the rename field's sparkles button asks for one at any time."""
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from conftest import conversation_action, running_sluice, menu_item
from test_chat_ui import WebDriverWait
from test_conversation_edit_ui import api, new_user, open_as, send_message, titles
from test_usage_ui import wait_for_answer_end

# The simulator answers a title call (32 tokens at most) with its usual words, all on one line.
MODEL_TITLE_START = "Sluice streams every token as it arrives"


@pytest.fixture(scope="module")
def titled_server():
    with running_sluice(lambda simulator_port, _: ["--model", "sim", "--upstream", f"http://127.0.0.1:{simulator_port}/v1"],
                        simulator_args=("--tokens", "40", "--delay-ms", "5"), titles=True) as running:
        yield running


def test_a_first_answer_names_the_conversation_and_the_call_is_charged(browser, titled_server):
    server = titled_server
    token = new_user(server, "titles-first")
    open_as(browser, server, token)
    browser.find_element(By.ID, "input").send_keys("Plan a weekend in Lisbon", Keys.ENTER)
    wait_for_answer_end(browser)
    # First the question's first line, then the model's title, in the sidebar and in the API.
    WebDriverWait(browser, 15).until(lambda d: titles(d) and titles(d)[0].startswith(MODEL_TITLE_START))
    [conversation] = api(server, token, "GET", "/api/conversations")["conversations"]
    assert conversation["title"] == titles(browser)[0] and len(conversation["title"]) <= 61
    # The title's call is in the ledger beside the answer.
    totals = api(server, token, "GET", "/api/usage?period=today&group=day")["totals"]
    assert totals["turns"] == 2


@pytest.fixture(scope="module")
def slow_titled_server():
    """Answers slow enough (60 tokens, 50 ms apart) to leave the page while the first one is being written."""
    with running_sluice(lambda simulator_port, _: ["--model", "sim", "--upstream", f"http://127.0.0.1:{simulator_port}/v1"],
                        simulator_args=("--tokens", "60", "--delay-ms", "50"), titles=True) as running:
        yield running


def ask_first_question(browser, server, user, question):
    """A new user's first question, sent from the page, which then shows the first words of its answer."""
    token = new_user(server, user)
    open_as(browser, server, token)
    browser.find_element(By.ID, "input").send_keys(question, Keys.ENTER)
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".message.assistant.streaming .text")
                                     and d.find_element(By.CSS_SELECTOR, ".message.assistant .text").text)
    return token


def test_a_first_answer_followed_after_a_reload_names_the_conversation_at_its_end(browser, slow_titled_server):
    # The page that sent the question is gone when the answer ends.
    server = slow_titled_server
    token = ask_first_question(browser, server, "titles-reload", "Plan a weekend in Porto")
    browser.refresh()
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".message.assistant"))
    wait_for_answer_end(browser)
    WebDriverWait(browser, 15).until(lambda d: titles(d) and titles(d)[0].startswith(MODEL_TITLE_START))
    [conversation] = api(server, token, "GET", "/api/conversations")["conversations"]
    assert conversation["title"] == titles(browser)[0]


def test_a_first_answer_written_while_no_page_followed_it_names_the_conversation_when_it_is_opened(browser, slow_titled_server):
    # The tab closed mid-answer: nothing asked for a title when the answer ended, so the page that opens the
    # conversation next asks, once (the question's first line is still its name).
    server = slow_titled_server
    token = ask_first_question(browser, server, "titles-closed", "Plan a weekend in Braga")
    browser.get("about:blank")
    [listed] = api(server, token, "GET", "/api/conversations")["conversations"]
    WebDriverWait(browser, 30).until(lambda _: api(server, token, "GET", f"/api/conversations/{listed['id']}")["messages"][-1]["status"] == "complete")
    assert api(server, token, "GET", f"/api/conversations/{listed['id']}")["title"] == "Plan a weekend in Braga"
    assert api(server, token, "GET", "/api/usage?period=today&group=day")["totals"]["turns"] == 1
    open_as(browser, server, token)
    WebDriverWait(browser, 15).until(lambda d: titles(d) and titles(d)[0].startswith(MODEL_TITLE_START))
    conversation = api(server, token, "GET", f"/api/conversations/{listed['id']}")
    assert conversation["title"] == titles(browser)[0] and "title_from_question" not in conversation
    # Named once: opening it again asks nothing more.
    open_as(browser, server, token)
    assert api(server, token, "GET", "/api/usage?period=today&group=day")["totals"]["turns"] == 2


def test_the_rename_fields_sparkle_has_the_model_name_it(browser, titled_server):
    server = titled_server
    token = new_user(server, "titles-rename")
    conversation = api(server, token, "POST", "/api/conversations", {"title": "Old name"})
    send_message(server, token, conversation["id"], "What is a sluice gate?")
    open_as(browser, server, token)
    WebDriverWait(browser, 10).until(lambda d: titles(d) == ["Old name"])
    conversation_action(browser, browser.find_element(By.CSS_SELECTOR, "#conversation-list li[data-id]"), "rename")
    browser.find_element(By.CSS_SELECTOR, "#conversation-list .conversation-name").click()
    WebDriverWait(browser, 15).until(lambda d: titles(d) and titles(d)[0].startswith(MODEL_TITLE_START))
    assert api(server, token, "GET", f"/api/conversations/{conversation['id']}")["title"] == titles(browser)[0]


def test_without_a_title_model_there_is_no_sparkle_and_the_first_line_stays(browser, server):
    token = new_user(server, "titles-off")
    open_as(browser, server, token)
    browser.find_element(By.ID, "input").send_keys("Plan a weekend in Lisbon", Keys.ENTER)
    wait_for_answer_end(browser)
    WebDriverWait(browser, 10).until(lambda d: titles(d) == ["Plan a weekend in Lisbon"])
    conversation_action(browser, browser.find_element(By.CSS_SELECTOR, "#conversation-list li[data-id]"), "rename")
    assert browser.find_elements(By.CSS_SELECTOR, "#conversation-list .rename-field")
    assert not browser.find_elements(By.CSS_SELECTOR, "#conversation-list .conversation-name")


# Counts the page's automatic title calls: made, and ended (refused or not).
COUNT_TITLE_CALLS = """
window.titleCalls = { made: 0, ended: 0 };
const fetchAsBefore = window.fetch;
window.fetch = (url, ...rest) => {
  if (!String(url).includes("/title?automatic")) return fetchAsBefore(url, ...rest);
  window.titleCalls.made += 1;
  return fetchAsBefore(url, ...rest).finally(() => { window.titleCalls.ended += 1; });
};
"""


def auto_titles_box(browser):
    return browser.find_element(By.CSS_SELECTOR, "#personal-instructions .auto-titles input")


def test_automatic_titles_turned_off_in_personalize_leave_the_first_line_and_the_sparkle_still_names(browser, titled_server):
    server = titled_server
    token = new_user(server, "titles-personal")
    open_as(browser, server, token)
    menu_item(browser, "personalize-open").click()
    WebDriverWait(browser, 10).until(lambda d: auto_titles_box(d).is_displayed())
    assert auto_titles_box(browser).is_selected()
    auto_titles_box(browser).click()
    WebDriverWait(browser, 10).until(lambda d: api(server, token, "GET", "/api/me/settings")["auto_titles"] is False)
    # The page says so once the server's answer reaches it, a moment after the setting is stored.
    WebDriverWait(browser, 10).until(
        lambda d: "keep their first line" in d.find_element(By.CSS_SELECTOR, "#personal-instructions .instructions-status").text)

    # Kept with the user: after a reload the box reads the stored setting (the page's default is ticked).
    browser.refresh()
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "input").is_displayed())
    menu_item(browser, "personalize-open").click()
    WebDriverWait(browser, 10).until(lambda d: auto_titles_box(d).is_displayed() and not auto_titles_box(d).is_selected())
    menu_item(browser, "personalize-open").click()

    browser.execute_script(COUNT_TITLE_CALLS)
    browser.find_element(By.ID, "input").send_keys("Plan a weekend in Lisbon", Keys.ENTER)
    wait_for_answer_end(browser)
    WebDriverWait(browser, 10).until(lambda d: titles(d) == ["Plan a weekend in Lisbon"])
    # The page's automatic call, refused, is not made again each time the conversation opens (a reload may).
    WebDriverWait(browser, 10).until(lambda d: d.execute_script("return window.titleCalls") == {"made": 1, "ended": 1})
    browser.find_element(By.ID, "new-conversation").click()
    lisbon = '#conversation-list .conversation-open[title="Plan a weekend in Lisbon"]'
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.CSS_SELECTOR, lisbon).get_attribute("aria-current") == "false")
    browser.find_element(By.CSS_SELECTOR, lisbon).click()
    # The page puts the focus in the message box as it ends opening a conversation, just before it would ask.
    WebDriverWait(browser, 10).until(lambda d: d.switch_to.active_element.get_attribute("id") == "input")
    assert browser.execute_script("return window.titleCalls") == {"made": 1, "ended": 1}
    # ✨ still asks the model by hand.
    conversation_action(browser, browser.find_element(By.CSS_SELECTOR, lisbon).find_element(By.XPATH, ".."), "rename")
    browser.find_element(By.CSS_SELECTOR, "#conversation-list .conversation-name").click()
    WebDriverWait(browser, 15).until(lambda d: any(title.startswith(MODEL_TITLE_START) for title in titles(d)))
    # The answer and the title asked by hand: the page's automatic call was refused before it went upstream.
    assert api(server, token, "GET", "/api/usage?period=today&group=day")["totals"]["turns"] == 2
