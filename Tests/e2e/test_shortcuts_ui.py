"""The page's keyboard shortcuts (ChatGPT's) and its "↓ Latest" button, in a real Chromium."""
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from test_chat_ui import WebDriverWait
from test_conversation_edit_ui import api, new_user, open_as, send_message, titles


def press(browser, *keys):
    """Holds the modifier keys in order, presses the last key, and lets go."""
    actions = ActionChains(browser)
    for key in keys[:-1]:
        actions.key_down(key)
    actions.send_keys(keys[-1])
    for key in reversed(keys[:-1]):
        actions.key_up(key)
    actions.perform()


def distance_from_end(browser):
    return browser.execute_script("const log = document.getElementById('messages'); return log.scrollHeight - log.scrollTop - log.clientHeight")


def test_latest_shows_when_scrolled_up_and_goes_back_to_the_end(browser, server):
    token = new_user(server, "jump-ui")
    conversation = api(server, token, "POST", "/api/conversations", {})
    for question in ["One", "Two", "Three", "Four"]:
        send_message(server, token, conversation["id"], question)
    open_as(browser, server, token)
    jump = browser.find_element(By.ID, "jump-latest")
    # Opened at its end, and kept there while the bars below the messages settle.
    WebDriverWait(browser, 10).until(lambda d: distance_from_end(d) < 5)
    WebDriverWait(browser, 5).until(lambda d: not jump.is_displayed())
    browser.execute_script("document.getElementById('messages').scrollTop = 0")
    WebDriverWait(browser, 5).until(lambda d: jump.is_displayed())
    jump.click()
    WebDriverWait(browser, 5).until(lambda d: distance_from_end(d) < 5)
    WebDriverWait(browser, 5).until(lambda d: not jump.is_displayed())


def test_chatgpts_shortcuts_copy_focus_list_and_delete(browser, server):
    token = new_user(server, "shortcuts-keys")
    kept = api(server, token, "POST", "/api/conversations", {"title": "Keep me"})
    conversation = api(server, token, "POST", "/api/conversations", {"model": "sim-markdown", "title": "Doomed"})
    send_message(server, token, conversation["id"], "Plan a trip")
    [_, answer] = api(server, token, "GET", f"/api/conversations/{conversation['id']}")["messages"]
    open_as(browser, server, token)
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".message.assistant .copy-code"))
    browser.execute_script("""
        window.__copied = null;
        Object.defineProperty(navigator, 'clipboard', {value: {writeText: async (text) => { window.__copied = text; }}});
    """)
    # Ctrl+Shift+C: the last answer, as the model wrote it.
    press(browser, Keys.CONTROL, Keys.SHIFT, "c")
    WebDriverWait(browser, 5).until(lambda d: d.execute_script("return window.__copied") == answer["content"])
    # Ctrl+Shift+;: its last code block.
    press(browser, Keys.CONTROL, Keys.SHIFT, ";")
    WebDriverWait(browser, 5).until(lambda d: (d.execute_script("return window.__copied") or "").startswith("def budget(days, per_day):"))
    # Shift+Esc: back to the message box from anywhere.
    browser.find_element(By.ID, "conversation-search").click()
    press(browser, Keys.SHIFT, Keys.ESCAPE)
    WebDriverWait(browser, 5).until(lambda d: d.switch_to.active_element == d.find_element(By.ID, "input"))
    # Ctrl+/: the list of shortcuts, closed with Escape.
    press(browser, Keys.CONTROL, "/")
    WebDriverWait(browser, 5).until(lambda d: d.find_element(By.ID, "shortcuts").is_displayed())
    assert "Copy the last code block" in browser.find_element(By.ID, "shortcuts").text
    press(browser, Keys.ESCAPE)
    WebDriverWait(browser, 5).until(lambda d: not d.find_element(By.ID, "shortcuts").is_displayed())
    # Ctrl+Shift+Backspace: deletes the open conversation, after asking.
    press(browser, Keys.CONTROL, Keys.SHIFT, Keys.BACKSPACE)
    alert = WebDriverWait(browser, 5).until(lambda d: d.switch_to.alert)
    assert "Doomed" in alert.text
    alert.accept()
    WebDriverWait(browser, 10).until(lambda d: titles(d) == ["Keep me"])
    assert [c["id"] for c in api(server, token, "GET", "/api/conversations")["conversations"]] == [kept["id"]]
