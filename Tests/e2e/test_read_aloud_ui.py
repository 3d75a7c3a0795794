"""Read aloud on an answer: the browser's speech reads the answer's words (not its Markdown), the button stops it, and
one answer is read at a time. The browser's speechSynthesis is watched (its speak and cancel recorded, the end of an
utterance sent by the test) — headless Chromium has no voice to hear."""
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from test_chat_ui import WebDriverWait, on_last, open_new_conversation
from test_usage_ui import wait_for_answer_end

WATCH = """
  window.__spoken = []; window.__cancelled = 0;
  speechSynthesis.speak = (utterance) => { window.__spoken.push(utterance); };
  speechSynthesis.cancel = () => { window.__cancelled += 1; };
"""


def label(browser):
    return on_last(browser, ".message.assistant .read-aloud", lambda button: button.text)


def test_read_aloud_speaks_the_shown_answer_and_stops(browser, server):
    open_new_conversation(browser, server)
    browser.find_element(By.ID, "input").send_keys("Say something", Keys.ENTER)
    wait_for_answer_end(browser)
    browser.execute_script(WATCH)
    assert label(browser) == "Read aloud"

    on_last(browser, ".message.assistant .read-aloud", lambda button: button.click())
    spoken = browser.execute_script("return window.__spoken.map((u) => u.text)")
    shown = on_last(browser, ".message.assistant .text", lambda text: browser.execute_script("return arguments[0].innerText.trim()", text))
    assert spoken == [shown] and shown
    assert label(browser) == "Stop reading"
    # The utterance ends by itself: the button is ready again.
    browser.execute_script("window.__spoken[0].dispatchEvent(new Event('end'))")
    WebDriverWait(browser, 5).until(lambda d: label(d) == "Read aloud")

    # Clicked while reading, it stops the reading.
    on_last(browser, ".message.assistant .read-aloud", lambda button: button.click())
    assert label(browser) == "Stop reading"
    cancelled = browser.execute_script("return window.__cancelled")
    on_last(browser, ".message.assistant .read-aloud", lambda button: button.click())
    assert browser.execute_script("return window.__cancelled") == cancelled + 1
    assert label(browser) == "Read aloud"
    assert len(browser.execute_script("return window.__spoken")) == 2


def test_a_formula_is_read_once_and_a_code_blocks_copy_button_not_at_all(browser, server):
    from test_chat_ui import open_conversation_with_model
    open_conversation_with_model(browser, server, "sim-echo")
    # The echo model answers with the messages it was sent: a formula and a code block.
    box = browser.find_element(By.ID, "input")
    for line in ["Energy is $E = mc^2$.", "", "```", "print(1)"]:
        box.send_keys(line)
        box.send_keys(Keys.SHIFT, Keys.ENTER)  # a new line; Enter alone sends
    box.send_keys("```", Keys.ENTER)
    wait_for_answer_end(browser)
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".message.assistant .katex"))
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".message.assistant pre .copy-code"))
    browser.execute_script(WATCH)
    on_last(browser, ".message.assistant .read-aloud", lambda button: button.click())
    [spoken] = browser.execute_script("return window.__spoken.map((u) => u.text)")
    assert spoken.count("E=mc2") == 1 and "mc^2" not in spoken
    assert "print(1)" in spoken and "Copy" not in spoken
