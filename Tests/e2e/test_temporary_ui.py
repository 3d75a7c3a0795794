"""A temporary chat: the header's "Temporary chat" starts one, which answers as any conversation but is never listed,
and is deleted when the user leaves it — for another conversation, or by reloading or closing the page."""
import sqlite3
import time
import urllib.error
import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from test_chat_ui import WebDriverWait, answer_text
from test_usage_ui import add_user, wait_for_answer_end


def unkept_ids(server):
    """The conversations the store marks not to be kept (a temporary chat's mark)."""
    with sqlite3.connect(server.db) as db:
        return [row[0] for row in db.execute("SELECT conversation_id FROM unkept_conversations")]


def status(server, token, path):
    request = urllib.request.Request(server.base + path, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def wait_until_gone(server, token, conversation_id):
    deadline = time.monotonic() + 15
    while status(server, token, f"/api/conversations/{conversation_id}") != 404:
        assert time.monotonic() < deadline, "the temporary chat was not deleted"
        time.sleep(0.1)


def start_temporary_chat(browser, question):
    browser.find_element(By.ID, "temporary-toggle").click()
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "temporary-notice").is_displayed())
    assert browser.find_element(By.ID, "temporary-toggle").get_attribute("aria-pressed") == "true"
    browser.find_element(By.ID, "input").send_keys(question, Keys.ENTER)
    WebDriverWait(browser, 10).until(lambda d: answer_text(d))
    wait_for_answer_end(browser)


def test_a_temporary_chat_answers_stays_out_of_the_list_and_is_deleted_when_left_or_reloaded(browser, server):
    token = add_user(server, "temporary-ui", 1_000_000)
    browser.get(f"{server.base}/#token={token}")
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "input").is_displayed())
    assert not browser.find_element(By.ID, "temporary-notice").is_displayed()
    marked_before = set(unkept_ids(server))

    start_temporary_chat(browser, "A secret about plovers")
    [chat] = set(unkept_ids(server)) - marked_before
    assert status(server, token, f"/api/conversations/{chat}") == 200
    # Never in the sidebar, nor found by search.
    assert "plovers" not in browser.find_element(By.ID, "conversation-list").text
    search = browser.find_element(By.ID, "conversation-search")
    search.send_keys("plovers")
    WebDriverWait(browser, 10).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "#conversation-list li"))
    search.send_keys(Keys.ESCAPE)

    # Leaving it for a new conversation deletes it; the page no longer says it is temporary.
    browser.find_element(By.ID, "new-conversation").click()
    WebDriverWait(browser, 10).until(lambda d: not d.find_element(By.ID, "temporary-notice").is_displayed())
    assert browser.find_element(By.ID, "temporary-toggle").get_attribute("aria-pressed") == "false"
    wait_until_gone(server, token, chat)

    # Reloading the page leaves it too.
    start_temporary_chat(browser, "Another secret")
    [second] = set(unkept_ids(server)) - marked_before
    browser.refresh()
    wait_until_gone(server, token, second)
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "input").is_displayed())
    assert not browser.find_element(By.ID, "temporary-notice").is_displayed()
    assert "secret" not in browser.find_element(By.ID, "conversation-list").text.lower()

    # Pressed again inside a temporary chat, the toggle goes back to a conversation that is kept.
    start_temporary_chat(browser, "A third")
    [third] = set(unkept_ids(server)) - marked_before
    browser.find_element(By.ID, "temporary-toggle").click()
    WebDriverWait(browser, 10).until(lambda d: not d.find_element(By.ID, "temporary-notice").is_displayed())
    wait_until_gone(server, token, third)
    assert set(unkept_ids(server)) <= marked_before


def marked_at(server, conversation_id):
    with sqlite3.connect(server.db) as db:
        row = db.execute("SELECT created_at FROM unkept_conversations WHERE conversation_id = ?", (conversation_id,)).fetchone()
        return row[0] if row else None


def test_an_open_temporary_chat_tells_the_server_it_is_still_open(browser, server):
    token = add_user(server, "temporary-alive-ui", 1_000_000)
    browser.get(f"{server.base}/#token={token}")
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "input").is_displayed())
    start_temporary_chat(browser, "Keep this open")
    [conversation_id] = [i for i in unkept_ids(server) if status(server, token, f"/api/conversations/{i}") == 200]
    # As if the page had been open for two hours: the server's sweep would delete it an hour after its mark.
    with sqlite3.connect(server.db) as db:
        db.execute("UPDATE unkept_conversations SET created_at = created_at - 7200000 WHERE conversation_id = ?", (conversation_id,))
    old = marked_at(server, conversation_id)
    # The tab shown again (as after a while in the background): the page says the chat is still open.
    browser.execute_script("document.dispatchEvent(new Event('visibilitychange'))")
    WebDriverWait(browser, 10).until(lambda d: marked_at(server, conversation_id) > old + 7_000_000)
    # Leaving it still deletes it.
    browser.find_element(By.ID, "temporary-toggle").click()
    wait_until_gone(server, token, conversation_id)
