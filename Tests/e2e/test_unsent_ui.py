"""A message Sluice did not take — the server could not be reached — comes back to the message box with a banner that
says so, instead of staying on the page as if sent and vanishing at the next reload. (The database-down case is in
test_postgres.py, which stops a PostgreSQL under a running Sluice.)"""
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
