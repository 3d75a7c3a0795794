"""Rewriting an answer in place (Open WebUI's edit of a response), in a real Chromium: its Markdown in a field, saved,
rendered, marked as edited, and kept after a reload; Escape leaves it as it was."""
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from test_chat_ui import WebDriverWait
from test_conversation_edit_ui import api, new_user, open_as, send_message


def answer(browser):
    return browser.find_element(By.CSS_SELECTOR, ".message.assistant")


def test_an_answer_is_rewritten_in_place_and_marked_edited(browser, server):
    token = new_user(server, "answer-edit-ui")
    conversation = api(server, token, "POST", "/api/conversations", {})
    send_message(server, token, conversation["id"], "Plan a trip to Lisbon")
    [_, stored] = api(server, token, "GET", f"/api/conversations/{conversation['id']}")["messages"]
    open_as(browser, server, token)
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".message.assistant .edit-answer"))

    # Escape: nothing changes.
    answer(browser).find_element(By.CSS_SELECTOR, ".edit-answer").click()
    field = answer(browser).find_element(By.CSS_SELECTOR, ".edit-form textarea")
    assert field.get_attribute("value") == stored["content"]
    field.send_keys(Keys.ESCAPE)
    WebDriverWait(browser, 5).until(lambda d: not d.find_elements(By.CSS_SELECTOR, ".edit-form"))

    answer(browser).find_element(By.CSS_SELECTOR, ".edit-answer").click()
    field = answer(browser).find_element(By.CSS_SELECTOR, ".edit-form textarea")
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys("**Lisbon** for two days, then Porto.")
    answer(browser).find_element(By.CSS_SELECTOR, ".edit-form button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".message.assistant .text strong"))
    assert answer(browser).find_element(By.CSS_SELECTOR, ".text strong").text == "Lisbon"
    assert answer(browser).find_element(By.CSS_SELECTOR, ".text").text == "Lisbon for two days, then Porto."
    assert "Edited by you" in answer(browser).find_element(By.CSS_SELECTOR, ".meta").text
    message = api(server, token, "GET", f"/api/messages/{stored['id']}")
    assert message["content"] == "**Lisbon** for two days, then Porto." and message["edited_at"]

    browser.refresh()
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".message.assistant .text strong"))
    assert "Edited by you" in answer(browser).find_element(By.CSS_SELECTOR, ".meta").text
