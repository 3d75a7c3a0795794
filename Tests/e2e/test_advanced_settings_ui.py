"""A conversation's advanced settings (its sampling parameters, Open WebUI's "Advanced Params") in a real headless
Chromium: set under its instructions, kept, sent with each message (the simulator's `sampling` model answers with
what it was sent), shown again after a reload, the regenerate slider starting at the conversation's temperature, and
removed by emptying them."""
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from test_chat_ui import WebDriverWait
from test_conversation_edit_ui import api, new_user, open_as
from test_usage_ui import wait_for_answer_end


def field(browser, name):
    return browser.find_element(By.CSS_SELECTOR, f"#instructions .advanced-settings [name={name}]")


def test_advanced_settings_are_kept_and_sent_with_every_message(browser, server):
    token = new_user(server, "advanced-ui")
    conversation = api(server, token, "POST", "/api/conversations", {"title": "Tuned", "model": "sim-sampling"})
    open_as(browser, server, token)
    browser.find_element(By.ID, "instructions-toggle").click()
    advanced = browser.find_element(By.CSS_SELECTOR, "#instructions .advanced-settings")
    assert not field(browser, "temperature").is_displayed(), "folded away while none is set"
    advanced.find_element(By.TAG_NAME, "summary").click()
    field(browser, "temperature").send_keys("0.3")
    field(browser, "max_tokens").send_keys("300")
    field(browser, "seed").send_keys("42")
    field(browser, "stop").send_keys("END", Keys.ENTER, "STOP")
    browser.find_element(By.CSS_SELECTOR, "#instructions button[type=submit]").click()
    WebDriverWait(browser, 10).until(
        lambda d: "these settings" in d.find_element(By.CSS_SELECTOR, ".instructions-status").text)
    assert browser.find_element(By.ID, "instructions-toggle").text == "Instructions (set)"
    stored = api(server, token, "GET", f"/api/conversations/{conversation['id']}")["parameters"]
    assert stored == {"temperature": 0.3, "max_tokens": 300, "seed": 42, "stop": ["END", "STOP"]}

    box = browser.find_element(By.ID, "input")
    box.send_keys("What went upstream?", Keys.ENTER)
    wait_for_answer_end(browser)
    sent = ["temperature: 0.3", "seed: 42", 'stop: ["END", "STOP"]', "max_tokens: 300"]
    stored = api(server, token, "GET", f"/api/conversations/{conversation['id']}")["messages"][-1]["content"]
    assert stored.splitlines() == sent, stored
    # (Markdown shows the lines as one paragraph.)
    assert browser.find_element(By.CSS_SELECTOR, ".message.assistant .text").text == " ".join(sent)
    # Regenerate starts at the conversation's temperature.
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".message.assistant input.temperature"))
    assert browser.find_element(By.CSS_SELECTOR, ".message.assistant input.temperature").get_attribute("value") == "0.3"

    # After a reload they are shown again, open; emptied, they are gone.
    browser.refresh()
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "instructions-toggle").text == "Instructions (set)")
    browser.find_element(By.ID, "instructions-toggle").click()
    assert field(browser, "temperature").is_displayed() and field(browser, "temperature").get_attribute("value") == "0.3"
    assert field(browser, "stop").get_attribute("value") == "END\nSTOP"
    for name in ["temperature", "max_tokens", "seed", "stop"]:
        field(browser, name).clear()
    browser.find_element(By.CSS_SELECTOR, "#instructions button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "instructions-toggle").text == "Instructions")
    assert "parameters" not in api(server, token, "GET", f"/api/conversations/{conversation['id']}")


def test_a_setting_out_of_range_is_not_sent(browser, server):
    token = new_user(server, "advanced-range-ui")
    conversation = api(server, token, "POST", "/api/conversations", {"title": "Tuned"})
    open_as(browser, server, token)
    browser.find_element(By.ID, "instructions-toggle").click()
    browser.find_element(By.CSS_SELECTOR, "#instructions .advanced-settings summary").click()
    field(browser, "temperature").send_keys("5")
    browser.find_element(By.CSS_SELECTOR, "#instructions button[type=submit]").click()
    # The browser holds the form back and says why, at the field.
    assert browser.execute_script("return arguments[0].validationMessage", field(browser, "temperature"))
    assert "parameters" not in api(server, token, "GET", f"/api/conversations/{conversation['id']}")
