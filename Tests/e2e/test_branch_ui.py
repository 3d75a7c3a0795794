"""Branch in new chat (ChatGPT's), in a real Chromium: "Branch" on an answer opens a new conversation with the thread up
to that answer, listed first; the original keeps all its turns."""
from selenium.webdriver.common.by import By

from test_chat_ui import WebDriverWait
from test_conversation_edit_ui import api, new_user, open_as, send_message


def shown_texts(browser):
    return [m.find_element(By.CSS_SELECTOR, ".text").text for m in browser.find_elements(By.CSS_SELECTOR, "#messages .message")]


def test_branch_opens_a_new_conversation_up_to_the_answer(browser, server):
    token = new_user(server, "branch-ui")
    conversation = api(server, token, "POST", "/api/conversations", {"title": "Lisbon"})
    send_message(server, token, conversation["id"], "Plan a day in Lisbon")
    send_message(server, token, conversation["id"], "And Sintra the day after?")
    original = api(server, token, "GET", f"/api/conversations/{conversation['id']}")["messages"]
    assert len(original) == 4
    open_as(browser, server, token)
    WebDriverWait(browser, 10).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#messages .message .branch")) == 2)

    browser.find_elements(By.CSS_SELECTOR, "#messages .message.assistant")[0].find_element(By.CSS_SELECTOR, ".branch").click()
    WebDriverWait(browser, 10).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#messages .message")) == 2)
    assert shown_texts(browser)[0] == "Plan a day in Lisbon"
    current = WebDriverWait(browser, 10).until(
        lambda d: d.find_element(By.CSS_SELECTOR, '#conversation-list .conversation-open[aria-current="true"]'))
    assert current.text == "Branch · Lisbon"
    # Listed first, above the original, which keeps its four messages.
    listed = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#conversation-list .conversation-open")]
    assert listed[:2] == ["Branch · Lisbon", "Lisbon"]
    branches = api(server, token, "GET", "/api/conversations")["conversations"]
    assert branches[0]["title"] == "Branch · Lisbon"
    copied = api(server, token, "GET", f"/api/conversations/{branches[0]['id']}")["messages"]
    assert [m["content"] for m in copied] == [m["content"] for m in original[:2]]
    assert len(api(server, token, "GET", f"/api/conversations/{conversation['id']}")["messages"]) == 4

    # The branch says where it came from; the link opens the original, which says nothing of the kind.
    origin = WebDriverWait(browser, 10).until(lambda d: d.find_element(By.CSS_SELECTOR, "#messages .branched-from"))
    assert origin.text == "Branched from “Lisbon”"
    origin.find_element(By.CSS_SELECTOR, "button").click()
    WebDriverWait(browser, 10).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#messages .message")) == 4)
    assert browser.find_elements(By.CSS_SELECTOR, "#messages .branched-from") == []
    assert browser.find_element(By.CSS_SELECTOR, '#conversation-list .conversation-open[aria-current="true"]').text == "Lisbon"
