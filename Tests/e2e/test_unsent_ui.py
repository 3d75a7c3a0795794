"""A message Sluice did not take — the server could not be reached — comes back to the message box with a banner that
says so, instead of staying on the page as if sent and vanishing at the next reload. (The database-down case is in
test_postgres.py, which stops a PostgreSQL under a running Sluice.)"""
from contextlib import contextmanager

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from conftest import running_sluice
from test_chat_ui import WebDriverWait
from test_conversation_edit_ui import api, open_as


def assert_given_back(browser, text, says):
    WebDriverWait(browser, 15).until(lambda d: d.find_element(By.ID, "input").get_attribute("value") == text)
    WebDriverWait(browser, 5).until(lambda d: says in d.find_element(By.ID, "banner").text)
    # Not left in the thread as if it had been sent, nor an answer's failure under it.
    shown = [element.text for element in browser.find_elements(By.CSS_SELECTOR, "#messages .message")]
    assert not any(text in message for message in shown), shown


def test_a_message_sluice_could_not_be_reached_for_comes_back_to_the_box(browser):
    with running_sluice(lambda simulator_port, _: [
            "--model", "sim", "--upstream", f"http://127.0.0.1:{simulator_port}/v1"], user="unsent") as own:
        api(own, own.token, "POST", "/api/conversations", {})
        open_as(browser, own, own.token)
        own.process.kill()
        own.process.wait(timeout=10)
        text = "Keep these words even though the server is gone"
        browser.find_element(By.ID, "input").send_keys(text, Keys.ENTER)
        assert_given_back(browser, text, "could not be reached, so your message was not sent")


def answered_thread(browser, own):
    """Opens a conversation of `own` with one question answered, and returns (question, answer) as the page shows them."""
    api(own, own.token, "POST", "/api/conversations", {})
    open_as(browser, own, own.token)
    browser.find_element(By.ID, "input").send_keys("Name three rivers", Keys.ENTER)
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".message.assistant button.regenerate"))
    return (browser.find_element(By.CSS_SELECTOR, ".message.user .text").text,
            browser.find_element(By.CSS_SELECTOR, ".message.assistant .text").text)


@contextmanager
def answered_then_gone(browser):
    """A Sluice of its own, one question answered on the page, then the server killed: yields (question, answer) as
    the page shows them."""
    with running_sluice(lambda simulator_port, _: [
            "--model", "sim", "--upstream", f"http://127.0.0.1:{simulator_port}/v1"],
            simulator_args=("--tokens", "12", "--delay-ms", "5"), user="unsent") as own:
        shown = answered_thread(browser, own)
        own.process.kill()
        own.process.wait(timeout=10)
        yield shown


def thread(browser):
    return [(element.get_attribute("class").split()[1], element.find_element(By.CSS_SELECTOR, ".text").text)
            for element in browser.find_elements(By.CSS_SELECTOR, "#messages .message")]


def test_a_regenerate_sluice_could_not_be_reached_for_leaves_the_answer_that_was_there(browser):
    with answered_then_gone(browser) as (question, answer):
        browser.find_element(By.CSS_SELECTOR, ".message.assistant button.regenerate").click()
        WebDriverWait(browser, 15).until(
            lambda d: "so no new answer was asked for" in d.find_element(By.ID, "banner").text)
        # The answer is back as it was, not an empty one with a failure under it; and the buttons work again.
        assert thread(browser) == [("user", question), ("assistant", answer)]
        assert not browser.find_elements(By.CSS_SELECTOR, ".message.error, .message.streaming")
        assert browser.find_element(By.CSS_SELECTOR, ".message.assistant button.regenerate").is_enabled()


def test_an_edit_sluice_could_not_be_reached_for_comes_back_to_the_edit_box(browser):
    with answered_then_gone(browser) as (question, answer):
        browser.find_element(By.CSS_SELECTOR, ".message.user .edit").click()
        field = browser.find_element(By.CSS_SELECTOR, ".edit-form textarea")
        field.clear()
        edited = "Name three rivers in Portugal"
        field.send_keys(edited)
        browser.find_element(By.CSS_SELECTOR, ".edit-form button[type=submit]").click()
        WebDriverWait(browser, 15).until(
            lambda d: "so your edit was not sent. It is back in the edit box" in d.find_element(By.ID, "banner").text)
        # The edited words wait in the question's edit box; the answer under it is the one that was there.
        field = browser.find_element(By.CSS_SELECTOR, ".message.user .edit-form textarea")
        assert field.get_attribute("value") == edited
        assert browser.find_element(By.CSS_SELECTOR, ".message.assistant .text").text == answer
        assert not browser.find_elements(By.CSS_SELECTOR, ".message.error, .message.streaming")
        # Cancelled, the question shows what was asked and stored, not the edit that was not sent.
        browser.find_element(By.CSS_SELECTOR, ".edit-form button[type=button]").click()
        assert thread(browser) == [("user", question), ("assistant", answer)]
