"""Token usage in the browser: the budget bar and its thresholds, the estimate while typing, and the limit."""
import subprocess

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from conftest import SLUICE
from test_chat_ui import WebDriverWait, answer_text


def add_user(server, name, limit):
    """A free-plan user with a small token limit, added to the running server's database."""
    added = subprocess.run([SLUICE, "user", "add", name, "--db", server.db], check=True, capture_output=True, text=True)
    subprocess.run([SLUICE, "user", "set-plan", name, "free", "--limit", str(limit), "--db", server.db],
                   check=True, capture_output=True, text=True)
    return added.stdout.strip().splitlines()[-1]


def usage_text(browser):
    return browser.find_element(By.CSS_SELECTOR, "#usage .usage-text").text


def wait_for_answer_end(browser):
    WebDriverWait(browser, 30).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".message.assistant")
        and not d.find_elements(By.CSS_SELECTOR, ".message.streaming"))


def test_budget_bar_warns_at_75_percent_and_the_limit_disables_the_input(browser, server):
    # Each turn here costs 8 input tokens ("hello" with its framing) plus the answer: 120 tokens from the
    # simulator, unless the budget cuts it shorter.
    token = add_user(server, "budget-ui", 160)
    browser.get(f"{server.base}/#token={token}")
    box = browser.find_element(By.ID, "input")
    WebDriverWait(browser, 10).until(lambda d: box.is_displayed())
    browser.find_element(By.ID, "new-conversation").click()
    WebDriverWait(browser, 10).until(lambda d: "0 / 160 tokens today (0 %)" in usage_text(d))

    box.send_keys("hello")
    WebDriverWait(browser, 10).until(lambda d: "≈ 8 tokens to send" in d.find_element(By.ID, "estimate").text)
    box.send_keys(Keys.ENTER)
    wait_for_answer_end(browser)
    WebDriverWait(browser, 10).until(lambda d: "128 / 160 tokens today (80 %)" in usage_text(d))
    assert "warn-75" in browser.find_element(By.ID, "usage").get_attribute("class")
    banner = browser.find_element(By.ID, "banner")
    assert banner.is_displayed() and "80 % of today's 160 tokens" in banner.text
    assert browser.find_element(By.ID, "input").is_enabled()

    # 32 tokens are left: the next answer is cut to 24 so that the budget is never overspent.
    browser.find_element(By.ID, "new-conversation").click()
    WebDriverWait(browser, 10).until(lambda d: not d.find_elements(By.CSS_SELECTOR, ".message"))
    box = browser.find_element(By.ID, "input")
    box.send_keys("hello", Keys.ENTER)
    wait_for_answer_end(browser)
    assert len(answer_text(browser).split()) == 24
    WebDriverWait(browser, 10).until(lambda d: "160 / 160 tokens today (100 %)" in usage_text(d))
    assert "exceeded" in browser.find_element(By.ID, "usage").get_attribute("class")
    # At the limit: no more typing or sending, and the page says why and when it resets.
    WebDriverWait(browser, 10).until(lambda d: not d.find_element(By.ID, "input").is_enabled())
    assert not browser.find_element(By.ID, "send").is_enabled()
    options = browser.find_element(By.ID, "limit-options")
    assert options.is_displayed()
    assert "used all 160 tokens" in options.text and "reset in" in options.text
    assert "set-plan" in options.text
