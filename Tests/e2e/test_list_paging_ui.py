"""The sidebar's list a page at a time, in a real headless Chromium: 50 conversations first, the next ones as its end
scrolls into view, what was shown kept after a turn (the one answered at the top, none twice), and a large project's
fold paged the same way, its head counting them all."""
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions

from test_chat_ui import WebDriverWait
from test_conversation_edit_ui import api, new_user, open_as
from test_projects_ui import listed
from test_usage_ui import wait_for_answer_end


def scroll_to_more(browser, where):
    more = browser.find_element(By.CSS_SELECTOR, f"{where} > .list-more")
    browser.execute_script("arguments[0].scrollIntoView()", more)


def test_the_list_and_a_project_are_read_a_page_at_a_time(browser, server):
    token = new_user(server, "paging-ui")
    project = api(server, token, "POST", "/api/projects", {"name": "Big"})
    for index in range(1, 56):
        api(server, token, "POST", "/api/conversations", {"title": f"p{index:03}", "project_id": project["id"]})
    for index in range(1, 121):
        api(server, token, "POST", "/api/conversations", {"title": f"c{index:03}"})
    newest_first = [f"c{index:03}" for index in range(120, 0, -1)]

    open_as(browser, server, token)
    # The first page only, the newest first, and a "Show more" at its end.
    assert listed(browser, "#conversation-list") == newest_first[:50]
    assert browser.find_elements(By.CSS_SELECTOR, "#conversation-list > .list-more .show-more")
    head = browser.find_element(By.CSS_SELECTOR, "#project-list .project-open")
    assert head.text == "Big 55" and head.get_attribute("aria-expanded") == "false"

    # Scrolled to its end, the list reads the next page, then the last one; then no "Show more".
    scroll_to_more(browser, "#conversation-list")
    WebDriverWait(browser, 10).until(lambda d: len(listed(d, "#conversation-list")) == 100)
    scroll_to_more(browser, "#conversation-list")
    WebDriverWait(browser, 10).until(lambda d: len(listed(d, "#conversation-list")) == 120)
    assert listed(browser, "#conversation-list") == newest_first
    assert not browser.find_elements(By.CSS_SELECTOR, "#conversation-list > .list-more")

    # The oldest, answered: at the top after the turn, the whole list still shown, none twice.
    oldest = browser.find_elements(By.CSS_SELECTOR, "#conversation-list .conversation-open")[-1]
    browser.execute_script("arguments[0].scrollIntoView()", oldest)
    oldest.click()
    WebDriverWait(browser, 10).until(
        lambda d: d.find_element(By.CSS_SELECTOR, '#conversation-list .conversation-open[aria-current="true"]').text == "c001")
    browser.find_element(By.ID, "input").send_keys("Hello", Keys.ENTER)
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#messages .message.assistant"))
    wait_for_answer_end(browser)
    WebDriverWait(browser, 10).until(lambda d: listed(d, "#conversation-list")[:1] == ["c001"])
    assert listed(browser, "#conversation-list") == ["c001"] + newest_first[:-1]

    # The project's fold reads its own conversations a page at a time too.
    head = browser.find_element(By.CSS_SELECTOR, "#project-list .project-open")
    head.click()
    fold = "#project-list .project-conversations"
    WebDriverWait(browser, 10).until(lambda d: len(listed(d, fold)) == 50)
    assert listed(browser, fold) == [f"p{index:03}" for index in range(55, 5, -1)]
    scroll_to_more(browser, fold)
    WebDriverWait(browser, 10).until(lambda d: len(listed(d, fold)) == 55)
    assert not browser.find_elements(By.CSS_SELECTOR, f"{fold} > .list-more")
    assert len(listed(browser, "#conversation-list")) == 120, "the list keeps what it showed while the fold is read"


def test_the_list_is_grouped_by_when_each_conversation_was_last_active(browser, server):
    """ChatGPT's and Open WebUI's headings: Today, Yesterday, Previous 7 days, Previous 30 days, then by month (with
    the year for an earlier one), in the browser's time zone; pinned ones above them all."""
    from datetime import datetime, timedelta, timezone

    token = new_user(server, "periods-ui")
    browser.get("about:blank")
    offset = timedelta(minutes=-browser.execute_script("return new Date().getTimezoneOffset()"))
    local = timezone(offset)
    now = datetime.now(local)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    moments = {
        "today": max(now - timedelta(seconds=30), midnight + timedelta(seconds=1)),
        "yesterday": midnight - timedelta(hours=12),
        "four days ago": midnight - timedelta(days=4) + timedelta(hours=12),
        "twenty days ago": midnight - timedelta(days=20) + timedelta(hours=12),
        "a hundred days ago": midnight - timedelta(days=100),
        "two years ago": midnight - timedelta(days=2 * 366),
    }
    exported = [{"title": title, "messages": [
        {"role": "user", "content": f"Asked {title}", "created_at": at.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")},
        {"role": "assistant", "content": "Answered", "created_at": at.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")}]}
        for title, at in moments.items()]
    imported = api(server, token, "POST", "/api/conversations/import", exported)["conversations"]
    pinned = next(c for c in imported if c["title"] == "twenty days ago")
    api(server, token, "PATCH", f"/api/conversations/{pinned['id']}", {"pinned": True})

    open_as(browser, server, token)
    old = moments["a hundred days ago"]
    month = old.strftime("%B") if old.year == now.year else old.strftime("%B %Y")
    oldest = moments["two years ago"].strftime("%B %Y")
    rows = [(e.get_attribute("class"), e.text) for e in browser.find_elements(By.CSS_SELECTOR, "#conversation-list > li")]
    shown = [text.upper() if "list-heading" in kind else text.split("\n")[0] for kind, text in rows]
    assert shown == ["PINNED", "twenty days ago", "TODAY", "today", "YESTERDAY", "yesterday", "PREVIOUS 7 DAYS",
                     "four days ago", month.upper(), "a hundred days ago", oldest.upper(), "two years ago"]


def test_the_open_conversation_is_deleted_by_its_shortcut_when_the_list_does_not_show_it(browser, server):
    from test_shortcuts_ui import press

    token = new_user(server, "paging-delete-ui")
    oldest = api(server, token, "POST", "/api/conversations", {"title": "Oldest one"})
    for index in range(1, 56):
        api(server, token, "POST", "/api/conversations", {"title": f"c{index:03}"})
    open_as(browser, server, token)
    # Found by a search and opened; the search cleared, the first page does not reach it.
    box = browser.find_element(By.ID, "conversation-search")
    box.send_keys("Oldest")
    WebDriverWait(browser, 10).until(lambda d: listed(d, "#conversation-list") == ["Oldest one"])
    browser.find_element(By.CSS_SELECTOR, "#conversation-list .conversation-open").click()
    WebDriverWait(browser, 10).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, '#conversation-list .conversation-open[aria-current="true"]'))
    box.send_keys(Keys.ESCAPE)
    WebDriverWait(browser, 10).until(lambda d: len(listed(d, "#conversation-list")) == 50)
    assert "Oldest one" not in listed(browser, "#conversation-list")

    press(browser, Keys.CONTROL, Keys.SHIFT, Keys.BACKSPACE)
    alert = WebDriverWait(browser, 5).until(expected_conditions.alert_is_present())
    assert "Oldest one" in alert.text
    alert.accept()
    WebDriverWait(browser, 10).until(
        lambda d: oldest["id"] not in [c["id"] for c in api(server, token, "GET", "/api/conversations")["conversations"]])
    assert len(api(server, token, "GET", "/api/conversations")["conversations"]) == 55


def test_a_long_title_takes_one_line_cut_with_an_ellipsis_and_shows_whole_on_hover(browser, server):
    token = new_user(server, "long-title-ui")
    long_title = "Write a short Python function that reverses a string, and a table of two examples of it"
    api(server, token, "POST", "/api/conversations", {"title": "Short"})
    api(server, token, "POST", "/api/conversations", {"title": long_title})
    open_as(browser, server, token)
    WebDriverWait(browser, 10).until(lambda d: len(listed(d, "#conversation-list")) == 2)
    titles = browser.find_elements(By.CSS_SELECTOR, "#conversation-list .conversation-title")
    long_one, short_one = titles
    assert long_one.get_attribute("textContent") == long_title
    # As tall as a title that fits, and cut: the text is wider than what shows of it.
    assert long_one.size["height"] == short_one.size["height"]
    assert browser.execute_script("return arguments[0].scrollWidth > arguments[0].clientWidth", long_one)
    assert browser.execute_script("return getComputedStyle(arguments[0]).textOverflow", long_one) == "ellipsis"
    opener = browser.find_element(By.CSS_SELECTOR, "#conversation-list .conversation-open")
    assert opener.get_attribute("title") == long_title
