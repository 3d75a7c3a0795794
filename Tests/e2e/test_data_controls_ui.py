"""ChatGPT's "Archive all chats" and "Delete all chats" in a real headless Chromium: each asks first, says how many,
and the page follows (the open conversation shown as archived, then gone)."""
from selenium.webdriver.common.by import By

from conftest import menu_item

from test_chat_ui import WebDriverWait
from test_conversation_edit_ui import api, new_user, open_as, send_message


def listed(browser):
    return [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#conversation-list .conversation-open")]


def test_archive_all_then_delete_all(browser, server):
    token = new_user(server, "data-controls-ui")
    for title in ["Alpha", "Beta"]:
        conversation = api(server, token, "POST", "/api/conversations", {"title": title})
        send_message(server, token, conversation["id"], "Hi")
    open_as(browser, server, token)
    WebDriverWait(browser, 10).until(lambda d: sorted(listed(d)) == ["Alpha", "Beta"])

    # Asked first: dismissed, nothing changes.
    menu_item(browser, "archive-all").click()
    WebDriverWait(browser, 5).until(lambda d: d.switch_to.alert).dismiss()
    assert len(api(server, token, "GET", "/api/conversations")["conversations"]) == 2

    menu_item(browser, "archive-all").click()
    WebDriverWait(browser, 5).until(lambda d: d.switch_to.alert).accept()
    WebDriverWait(browser, 5).until(lambda d: d.find_element(By.ID, "banner").text == "2 conversations archived.")
    WebDriverWait(browser, 5).until(lambda d: listed(d) == [])
    # The open conversation says it is archived and can be read, not continued.
    WebDriverWait(browser, 5).until(lambda d: d.find_element(By.ID, "archived-notice").is_displayed())
    assert api(server, token, "GET", "/api/conversations")["conversations"] == []
    assert len(api(server, token, "GET", "/api/conversations?archived=true")["conversations"]) == 2

    menu_item(browser, "delete-all").click()
    alert = WebDriverWait(browser, 5).until(lambda d: d.switch_to.alert)
    assert "cannot be undone" in alert.text
    alert.accept()
    WebDriverWait(browser, 5).until(lambda d: d.find_element(By.ID, "banner").text == "2 conversations deleted.")
    WebDriverWait(browser, 5).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#messages .message") == [])
    assert not browser.find_element(By.ID, "archived-notice").is_displayed()
    assert api(server, token, "GET", "/api/conversations?archived=true")["conversations"] == []
