"""Memory (ChatGPT's saved memories) in a real headless Chromium: remembered under Personalize, rewritten in place,
saved by a message that begins "Remember that …" and forgotten by one that begins "Forget that …" (each noted above its
answer), forgotten one by one and all at once,
and turned off."""
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from conftest import menu_item
from test_chat_ui import WebDriverWait
from test_conversation_edit_ui import api, new_user, open_as
from test_usage_ui import wait_for_answer_end


def memories_shown(browser):
    return [item.text for item in browser.find_elements(By.CSS_SELECTOR, "#personal-instructions .memory-list .memory-text")]


def memories_kept(server, token):
    return [memory["content"] for memory in api(server, token, "GET", "/api/memories")["memories"]]


def open_personalize(browser):
    menu_item(browser, "personalize-open").click()
    WebDriverWait(browser, 5).until(lambda d: d.find_element(By.ID, "personal-instructions").is_displayed())


def status(browser):
    return browser.find_element(By.CSS_SELECTOR, "#personal-instructions .instructions-status").text


def test_memories_are_remembered_rewritten_saved_from_a_message_and_forgotten(browser, server):
    token = new_user(server, "memory-ui")
    open_as(browser, server, token)
    open_personalize(browser)
    WebDriverWait(browser, 5).until(lambda d: d.find_element(By.CSS_SELECTOR, ".memory-empty").is_displayed())
    assert browser.find_element(By.CSS_SELECTOR, ".memory-enabled input").is_selected()
    assert not browser.find_element(By.CSS_SELECTOR, ".memory-delete-all").is_displayed()

    # Enter in the box remembers it (and does not submit the Personalize form around it).
    box = browser.find_element(By.CSS_SELECTOR, ".memory-new")
    box.send_keys("I am vegetarian.", Keys.ENTER)
    WebDriverWait(browser, 5).until(lambda d: memories_shown(d) == ["I am vegetarian."])
    assert status(browser).startswith("Remembered")
    assert memories_kept(server, token) == ["I am vegetarian."]
    assert api(server, token, "GET", "/api/me/instructions") == {"instructions": None}
    assert box.get_attribute("value") == ""

    # Edit puts a field in its place: Escape keeps it as it was, Enter saves.
    browser.find_element(By.CSS_SELECTOR, ".memory-list .memory-edit").click()
    field = browser.find_element(By.CSS_SELECTOR, ".memory-list li input")
    field.send_keys(" And I cook on Sundays.", Keys.ESCAPE)
    WebDriverWait(browser, 5).until(lambda d: memories_shown(d) == ["I am vegetarian."])
    assert browser.find_element(By.ID, "personal-instructions").is_displayed(), "Escape in the field leaves the panel open"
    browser.find_element(By.CSS_SELECTOR, ".memory-list .memory-edit").click()
    field = browser.find_element(By.CSS_SELECTOR, ".memory-list li input")
    field.clear()
    field.send_keys("I am vegan.", Keys.ENTER)
    WebDriverWait(browser, 5).until(lambda d: memories_shown(d) == ["I am vegan."])
    assert memories_kept(server, token) == ["I am vegan."]
    browser.find_element(By.CSS_SELECTOR, "#personal-instructions .instructions-cancel").click()

    # A message that begins "Remember that …" saves its first sentence: noted above the answer, while it streams
    # and once the conversation is shown again from the store.
    message = browser.find_element(By.ID, "input")
    message.send_keys("Remember that I am allergic to peanuts. Suggest a snack.", Keys.ENTER)
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".message.assistant .memory-note"))
    wait_for_answer_end(browser)
    note = WebDriverWait(browser, 10).until(lambda d: d.find_element(By.CSS_SELECTOR, ".message.assistant .memory-note"))
    assert note.text.startswith("Memory updated: “I am allergic to peanuts.”"), note.text
    assert memories_kept(server, token) == ["I am allergic to peanuts.", "I am vegan."]
    # Kept with the answer: a reload shows it again.
    browser.refresh()
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".message.assistant .memory-note"))
    assert browser.find_element(By.CSS_SELECTOR, ".message.assistant .memory-note").text.startswith("Memory updated: “I am allergic")
    # "Forget that …" forgets the memories it names, and says which.
    browser.find_element(By.ID, "input").send_keys("Forget that I am vegan.", Keys.ENTER)
    WebDriverWait(browser, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".message.assistant .memory-note")) == 2)
    wait_for_answer_end(browser)
    notes = WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".message.assistant .memory-note"))
    assert len(notes) == 2, "each answer keeps its own"
    assert notes[-1].text.startswith("Memory updated: forgot “I am vegan.”"), notes[-1].text
    assert memories_kept(server, token) == ["I am allergic to peanuts."]
    api(server, token, "POST", "/api/memories", {"content": "I am vegan."})
    notes[-1].find_element(By.CSS_SELECTOR, ".memory-manage").click()
    WebDriverWait(browser, 5).until(lambda d: memories_shown(d) == ["I am vegan.", "I am allergic to peanuts."])

    # Forgotten one by one, then all at once (after asking).
    browser.find_element(By.CSS_SELECTOR, ".memory-list li[data-id] .memory-delete").click()
    WebDriverWait(browser, 5).until(lambda d: memories_shown(d) == ["I am allergic to peanuts."])
    assert memories_kept(server, token) == ["I am allergic to peanuts."]
    browser.find_element(By.CSS_SELECTOR, ".memory-delete-all").click()
    alert = WebDriverWait(browser, 5).until(lambda d: d.switch_to.alert)
    assert "cannot be undone" in alert.text
    alert.accept()
    WebDriverWait(browser, 5).until(lambda d: d.find_element(By.CSS_SELECTOR, ".memory-empty").is_displayed())
    assert status(browser) == "Forgotten: 1 memory."
    assert memories_kept(server, token) == []

    # Turned off: kept with the user, and a "Remember that" message saves nothing and shows no note.
    browser.find_element(By.CSS_SELECTOR, ".memory-enabled input").click()
    WebDriverWait(browser, 5).until(lambda d: status(d).startswith("Saved: your conversations go without"))
    assert api(server, token, "GET", "/api/me/settings")["memory"] is False
    browser.find_element(By.CSS_SELECTOR, "#personal-instructions .instructions-cancel").click()
    answers = len(browser.find_elements(By.CSS_SELECTOR, ".message.assistant"))
    browser.find_element(By.ID, "input").send_keys("Remember that I live in Porto.", Keys.ENTER)
    WebDriverWait(browser, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".message.assistant")) > answers)
    wait_for_answer_end(browser)
    last = browser.find_elements(By.CSS_SELECTOR, ".message.assistant")[-1]
    assert last.find_elements(By.CSS_SELECTOR, ".memory-note") == []
    assert len(browser.find_elements(By.CSS_SELECTOR, ".memory-note")) == 2, "the earlier answers keep theirs"
    assert memories_kept(server, token) == []
    browser.refresh()
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "input").is_displayed())
    open_personalize(browser)
    WebDriverWait(browser, 5).until(lambda d: not d.find_element(By.CSS_SELECTOR, ".memory-enabled input").is_selected())
