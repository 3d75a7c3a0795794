"""Token usage in the browser: the budget bar and its thresholds, the estimate while typing, and the limit."""
import subprocess

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from conftest import SLUICE, menu_item
from selenium.webdriver.support.ui import Select
from test_chat_ui import WebDriverWait, answer_text, open_signed_in


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


def test_the_usage_page_draws_three_charts_and_downloads_the_csv(browser, server):
    open_signed_in(browser, server)
    browser.find_element(By.ID, "input").send_keys("count me in the charts", Keys.ENTER)
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".message.assistant .usage-details"))
    browser.execute_script("""
        window.__downloads = [];
        HTMLAnchorElement.prototype.click = function () {
          if (this.download) fetch(this.href).then((r) => r.text()).then((text) => window.__downloads.push([this.download, text]));
        };
    """)
    menu_item(browser, "usage-open").click()
    WebDriverWait(browser, 10).until(lambda d: "tokens" in d.find_element(By.CSS_SELECTOR, "#usage-page .usage-totals").text)
    expected = server.api("GET", "/api/usage?period=week&group=day")["totals"]
    totals = browser.find_element(By.CSS_SELECTOR, "#usage-page .usage-totals").text
    assert f"{expected['total_tokens']:,} tokens" in totals and f"${expected['cost_usd']}" in totals
    kinds = browser.execute_script(
        "return [...document.querySelectorAll('#usage-page canvas')].map((c) => Chart.getChart(c)?.config.type)")
    assert kinds == ["bar", "pie", "line"]
    daily = browser.execute_script(
        "return Chart.getChart(document.querySelector('canvas[data-chart=daily]')).data.datasets[0].data")
    assert sum(daily) == expected["total_tokens"]
    browser.find_element(By.CSS_SELECTOR, "#usage-page .usage-csv").click()
    WebDriverWait(browser, 10).until(lambda d: d.execute_script("return window.__downloads.length"))
    name, text = browser.execute_script("return window.__downloads[0]")
    assert name == "sluice-usage-week.csv"
    assert text.splitlines()[0] == "day,input_tokens,output_tokens,total_tokens,cost_usd,turns,cache_hits,saved_tokens,saved_cost_usd,rated_good,rated_bad,cached_input_tokens" and len(text.splitlines()) >= 2
    # Another period reloads the figures.
    Select(browser.find_element(By.CSS_SELECTOR, "#usage-page .usage-period")).select_by_value("today")
    WebDriverWait(browser, 10).until(
        lambda d: len(d.execute_script("return Chart.getChart(document.querySelector('canvas[data-chart=daily]')).data.labels")) == 1)


def test_the_usage_page_says_what_the_response_cache_saved(browser):
    """Two identical gateway calls with the response cache on: the second is charged nothing, and the usage page
    says how many answers came from the cache and the tokens and dollars they saved."""
    from conftest import running_sluice
    with running_sluice(lambda simulator_port, _: [
            "--model", "sim", "--price", "sim=2.5/10", "--response-cache-seconds", "600",
            "--upstream", f"http://127.0.0.1:{simulator_port}/v1"], simulator_args=("--tokens", "20")) as server:
        call = {"model": "sim", "temperature": 0, "messages": [{"role": "user", "content": "What is a sluice gate?"}]}
        first = server.api("POST", "/v1/chat/completions", call)
        second = server.api("POST", "/v1/chat/completions", call)
        assert second["choices"][0]["message"]["content"] == first["choices"][0]["message"]["content"]
        totals = server.api("GET", "/api/usage?period=week&group=day")["totals"]
        used = first["usage"]["total_tokens"]
        assert (totals["turns"], totals["total_tokens"], totals["cache_hits"], totals["saved_tokens"]) == (2, used, 1, used)
        assert totals["saved_cost_usd"] == totals["cost_usd"] != "0"

        open_signed_in(browser, server)
        menu_item(browser, "usage-open").click()
        line = browser.find_element(By.CSS_SELECTOR, "#usage-page .usage-totals")
        WebDriverWait(browser, 10).until(lambda d: "tokens" in line.text)
        assert f"2 answers · 1 answer from the response cache saved {used:,} tokens, ${totals['saved_cost_usd']}" in line.text



def test_over_budget_summarise_this_conversation_folds_the_older_messages_into_its_summary(browser, server):
    # Two turns (the second reads the first) leave under 350 of 600 tokens; a long message on top of this
    # conversation's history does not fit, though it would in a new conversation: the options offer a smaller context.
    from test_conversation_edit_ui import api  # (that module imports this one)
    token = add_user(server, "summarise-ui", 600)
    browser.get(f"{server.base}/#token={token}")
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "input").is_displayed())
    browser.find_element(By.ID, "new-conversation").click()
    for turn in range(2):
        browser.find_element(By.ID, "input").send_keys("hello", Keys.ENTER)
        WebDriverWait(browser, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".message.assistant")) == turn + 1
                                         and not d.find_elements(By.CSS_SELECTOR, ".message.streaming"))
    [conversation] = api(server, token, "GET", "/api/conversations")["conversations"]
    assert api(server, token, "GET", f"/api/conversations/{conversation['id']}/context").get("summary") is None

    browser.find_element(By.ID, "input").send_keys("more " * 200)
    summarise = browser.find_element(By.ID, "limit-summarize")
    WebDriverWait(browser, 10).until(lambda _: summarise.is_displayed())
    summarise.click()
    # The first turn is folded into the summary; the last two messages stay in full, and no error is shown.
    WebDriverWait(browser, 60).until(
        lambda _: (api(server, token, "GET", f"/api/conversations/{conversation['id']}/context").get("summary") or {}).get("messages") == 2)
    banner = browser.find_element(By.ID, "banner")
    WebDriverWait(browser, 10).until(lambda _: not banner.is_displayed())
    assert browser.find_element(By.ID, "input").get_attribute("value").startswith("more more")
