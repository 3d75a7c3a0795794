"""Tag budgets on the administrator's Users page: give a tag a daily limit, see a caller's tagged calls cut to it and
then refused (the `openai` SDK surfaces the refusal naming the tag), raise it from Edit, remove it; each change is in
the audit log, and the tag is shown as text."""
import openai
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from test_chat_ui import WebDriverWait
from test_gateway import client
from test_users_ui import open_users, row


def budget_row(page, tag):
    return row(page, tag, "tag-budgets-table")


def budget_named(server, tag):
    return next((item for item in server.api("GET", "/api/admin/tag-budgets")["tag_budgets"] if item["tag"] == tag), None)


def test_an_administrator_gives_a_tag_a_budget_that_holds_every_tagged_call(browser, server):
    caller = server.api("POST", "/api/admin/users", {"name": "tag-budget-caller"})
    page = open_users(browser, server)
    # Markup in a tag stays text.
    tag = "<img src=x onerror=alert(1)> checkout"
    panel = page.find_element(By.CLASS_NAME, "tag-budgets-panel")
    panel.find_element(By.CLASS_NAME, "tag-budgets-tag").send_keys(tag)
    panel.find_element(By.CLASS_NAME, "tag-budgets-daily").send_keys("0.03")
    panel.find_element(By.CSS_SELECTOR, ".tag-budgets-form button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda d: budget_row(page, tag) is not None)
    assert not page.find_elements(By.CSS_SELECTOR, ".tag-budgets-table img")
    cells = [cell.text for cell in budget_row(page, tag).find_elements(By.TAG_NAME, "td")]
    assert cells[0] == tag and cells[1].endswith("$0 of $0.03 (0 %)") and cells[2] == "no limit ($0 spent)"
    assert "may spend $0.03 a day together" in page.find_element(By.CLASS_NAME, "users-status").text
    assert budget_named(server, tag)["daily_usd_limit"] == "0.03"

    # At $1 000 per million tokens, the first tagged call is cut to the tag's $0.03, the next refused naming it;
    # the same caller's untagged calls go on.
    sdk = client(server, caller["token"])
    ask = [{"role": "user", "content": "Spend it"}]
    first = sdk.chat.completions.create(model="priced-sim", messages=ask, extra_headers={"x-sluice-tags": tag})
    assert first.usage.completion_tokens < 30 and first.choices[0].finish_reason == "length"
    with pytest.raises(openai.RateLimitError) as refused:
        sdk.chat.completions.create(model="priced-sim", messages=ask, extra_headers={"x-sluice-tags": f"eu,{tag}"})
    assert f"The tag '{tag}' has spent $0.03 of the $0.03 calls tagged with it may spend together a day" in str(refused.value)
    assert sdk.chat.completions.create(model="sim", messages=ask, max_tokens=4).choices[0].message.content

    # The panel shows the day spent; Edit raises the limit and adds a monthly one: the tagged calls go on.
    page = open_users(browser, server)
    WebDriverWait(browser, 10).until(lambda d: budget_row(page, tag) is not None)
    assert budget_row(page, tag).find_elements(By.TAG_NAME, "td")[1].text.endswith("$0.03 of $0.03 (100 %)")
    meter = budget_row(page, tag).find_element(By.TAG_NAME, "meter")
    assert meter.get_attribute("value") == "100"
    budget_row(page, tag).find_element(By.CSS_SELECTOR, "button[aria-label^='Change the limits of the tag']").click()
    daily = page.find_element(By.CLASS_NAME, "tag-budgets-daily")
    assert daily.get_attribute("value") == "0.03" and page.find_element(By.CLASS_NAME, "tag-budgets-tag").get_attribute("value") == tag
    daily.clear()
    daily.send_keys("1")
    page.find_element(By.CLASS_NAME, "tag-budgets-monthly").send_keys("5")
    page.find_element(By.CSS_SELECTOR, ".tag-budgets-form button[type=submit]").click()
    WebDriverWait(browser, 10).until(
        lambda d: budget_row(page, tag) is not None and budget_row(page, tag).find_elements(By.TAG_NAME, "td")[2].text.endswith("$0.03 of $5 (1 %)"))
    assert (budget_named(server, tag)["daily_usd_limit"], budget_named(server, tag)["monthly_usd_limit"]) == ("1", "5")
    assert sdk.chat.completions.create(model="priced-sim", messages=ask, max_tokens=4, extra_headers={"x-sluice-tags": tag}).usage

    # Removed: the row goes, and the audit log says what was done, with the tag as text.
    budget_row(page, tag).find_element(By.CSS_SELECTOR, "button[aria-label^='Remove the budget of the tag']").click()
    browser.switch_to.alert.accept()
    WebDriverWait(browser, 10).until(lambda d: budget_row(page, tag) is None)
    assert budget_named(server, tag) is None
    Select(page.find_element(By.CLASS_NAME, "audit-kind")).select_by_value("tag")
    log = page.find_element(By.CLASS_NAME, "audit-log")
    WebDriverWait(browser, 10).until(lambda d: f"removed the budget of tag {tag}" in log.text)
    assert f"set the budget of tag {tag}" in log.text and not log.find_elements(By.TAG_NAME, "img")
