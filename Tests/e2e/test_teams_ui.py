"""Teams on the administrator's Users page: make a team with a daily limit, put a user in it from their row, change
its limit, see what it spent; a member's calls are held to the team's day (the SDK surfaces the refusal), the member's
Usage page says where the team stands, and a deleted team leaves its members in no team."""
import openai
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from conftest import menu_item
from test_chat_ui import WebDriverWait
from test_gateway import client
from test_users_ui import open_everyones_usage, open_users, row, user_named


def team_row(page, name):
    return row(page, name, "teams-table")


def team_named(server, name):
    return next((team for team in server.api("GET", "/api/admin/teams")["teams"] if team["name"] == name), None)


def test_an_administrator_makes_a_team_puts_a_user_in_it_and_its_limit_holds_their_calls(browser, server):
    member = server.api("POST", "/api/admin/users", {"name": "team-ui-member"})
    page = open_users(browser, server)
    # Markup in a team's name stays text ('/' is not allowed in one: names go in paths).
    name = "<img src=x onerror=alert(1)> lab"
    panel = page.find_element(By.CLASS_NAME, "teams-panel")
    panel.find_element(By.CLASS_NAME, "teams-name").send_keys(name)
    panel.find_element(By.CLASS_NAME, "teams-daily").send_keys("0.05")
    panel.find_element(By.CSS_SELECTOR, ".teams-form button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda d: team_row(page, name) is not None)
    assert not page.find_elements(By.CSS_SELECTOR, ".teams-table img, .users-row-team img")
    cells = [cell.text for cell in team_row(page, name).find_elements(By.TAG_NAME, "td")]
    assert cells[0] == name and cells[1] == "$0.05 a day" and cells[2].endswith("$0 (0 %)") and cells[3] == "$0"
    assert cells[4] == "all" and cells[5].startswith("nobody yet")
    assert team_named(server, name)["daily_usd_limit"] == "0.05"

    # The member, from the Team picker in their row; "in no team" no longer shows them.
    WebDriverWait(browser, 10).until(lambda d: row(page, "team-ui-member") is not None)
    Select(row(page, "team-ui-member").find_element(By.CLASS_NAME, "users-row-team")).select_by_visible_text(name)
    WebDriverWait(browser, 10).until(lambda d: user_named(server, "team-ui-member")["team"] == name)
    WebDriverWait(browser, 10).until(lambda d: team_row(page, name).find_elements(By.TAG_NAME, "td")[5].text == "team-ui-member")
    assert "in the team" in page.find_element(By.CLASS_NAME, "users-status").text
    Select(page.find_element(By.CLASS_NAME, "users-show")).select_by_value("no-team")
    assert not row(page, "team-ui-member").is_displayed()
    # "in team …" shows its members only.
    Select(page.find_element(By.CLASS_NAME, "users-show")).select_by_visible_text(f"in team {name}")
    shown = [item.get_attribute("data-name") for item in page.find_elements(By.CSS_SELECTOR, ".users-table tbody tr") if item.is_displayed()]
    assert shown == ["team-ui-member"]
    assert page.find_element(By.CLASS_NAME, "users-count").text.startswith("1 of ")
    Select(page.find_element(By.CLASS_NAME, "users-show")).select_by_value("all")

    # A lower daily limit and a monthly one, from Edit.
    team_row(page, name).find_element(By.CSS_SELECTOR, "button[aria-label^='Change the name, limits or models']").click()
    editor = page.find_element(By.CLASS_NAME, "teams-edit")
    WebDriverWait(browser, 5).until(lambda d: editor.is_displayed())
    daily = editor.find_element(By.CLASS_NAME, "teams-edit-daily")
    assert daily.get_attribute("value") == "0.05"
    daily.clear()
    daily.send_keys("0.03")
    editor.find_element(By.CLASS_NAME, "teams-edit-monthly").send_keys("0.5")
    editor.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda d: not editor.is_displayed())
    changed = team_named(server, name)
    assert (changed["daily_usd_limit"], changed["monthly_usd_limit"], changed["models"]) == ("0.03", "0.5", None)
    WebDriverWait(browser, 10).until(
        lambda d: team_row(page, name).find_elements(By.TAG_NAME, "td")[1].text == "$0.03 a day, $0.5 a month")

    # At $1 000 per million tokens, the member's first call is cut to what the team's $0.03 allows, the next refused.
    sdk = client(server, member["token"])
    first = sdk.chat.completions.create(model="priced-sim", messages=[{"role": "user", "content": "Spend it"}])
    assert first.usage.completion_tokens < 30 and first.choices[0].finish_reason == "length"
    with pytest.raises(openai.RateLimitError) as refused:
        sdk.chat.completions.create(model="priced-sim", messages=[{"role": "user", "content": "More"}])
    assert f"Your team '{name}' has spent $0.03 of the $0.03" in str(refused.value)
    assert team_named(server, name)["spent_today_usd"] == "0.03"

    # The member's Usage page says where the team stands.
    browser.get("about:blank")
    browser.get(f"{server.base}/#token={member['token']}")
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "account-name").text == "team-ui-member")
    menu_item(browser, "usage-open").click()
    usage = browser.find_element(By.ID, "usage-page")
    line = usage.find_element(By.CLASS_NAME, "usage-dollar-limits")
    WebDriverWait(browser, 10).until(lambda d: line.is_displayed())
    assert f"Your team {name} has spent $0.03 of $0.03 (100 %) of its daily limit today." in line.text
    assert f"Your team {name} has spent $0.03 of $0.5 (6 %) of its monthly limit this month." in line.text

    # The administrator sees everyone's usage per team, then deletes the team: the member stays, in no team.
    page = open_users(browser, server)
    WebDriverWait(browser, 10).until(lambda d: team_row(page, name) is not None)
    cells = [cell.text for cell in team_row(page, name).find_elements(By.TAG_NAME, "td")]
    assert cells[2].endswith("$0.03 (100 %)") and cells[3].endswith("$0.03 (6 %)")

    # One model for the team, from Edit: the member may use that one only, at once.
    team_row(page, name).find_element(By.CSS_SELECTOR, "button[aria-label^='Change the name, limits or models']").click()
    editor = page.find_element(By.CLASS_NAME, "teams-edit")
    WebDriverWait(browser, 5).until(lambda d: editor.is_displayed())
    Select(editor.find_element(By.CLASS_NAME, "teams-edit-models")).select_by_value("sim")
    editor.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda d: team_row(page, name).find_elements(By.TAG_NAME, "td")[4].text == "sim")
    assert team_named(server, name)["models"] == ["sim"] and team_named(server, name)["daily_usd_limit"] == "0.03"
    assert [model.id for model in sdk.models.list()] == ["sim"]
    with pytest.raises(openai.PermissionDeniedError) as denied:
        sdk.chat.completions.create(model="priced-sim", messages=[{"role": "user", "content": "And this one?"}])
    assert "It may use: sim." in str(denied.value) and "your team's models" in str(denied.value)
    team_row(page, name).find_element(By.CSS_SELECTOR, "button[aria-label^='Delete team']").click()
    browser.switch_to.alert.accept()
    WebDriverWait(browser, 10).until(lambda d: team_row(page, name) is None)
    assert team_named(server, name) is None
    assert user_named(server, "team-ui-member")["team"] is None
    WebDriverWait(browser, 10).until(
        lambda d: Select(row(page, "team-ui-member").find_element(By.CLASS_NAME, "users-row-team")).first_selected_option.text == "none")


def test_everyones_usage_is_listed_per_team(browser, server):
    team = server.api("POST", "/api/admin/teams", {"name": "usage-team-ui"})
    added = server.api("POST", "/api/admin/users", {"name": "usage-team-member"})
    server.api("PATCH", "/api/admin/users/usage-team-member", {"team": "usage-team-ui"})
    assert team["members"] == []
    client(server, added["token"]).chat.completions.create(model="sim", messages=[{"role": "user", "content": "Hi"}])
    # And someone in no team.
    loner = server.api("POST", "/api/admin/users", {"name": "usage-no-team"})
    client(server, loner["token"]).chat.completions.create(model="sim", messages=[{"role": "user", "content": "Hi"}])
    page = open_everyones_usage(browser, server)
    teams = page.find_element(By.CLASS_NAME, "usage-teams")
    WebDriverWait(browser, 10).until(lambda d: teams.is_displayed())
    lines = [item.text for item in teams.find_elements(By.TAG_NAME, "li")]
    assert any(line.startswith("usage-team-ui: ") and "1 answer" in line for line in lines), lines
    assert any(line.startswith("(no team): ") for line in lines), lines


def test_a_teams_limits_per_minute_from_the_panel_hold_its_members_together(browser, server):
    page = open_users(browser, server)
    panel = page.find_element(By.CLASS_NAME, "teams-panel")
    panel.find_element(By.CLASS_NAME, "teams-name").send_keys("rpm-team-ui")
    panel.find_element(By.CLASS_NAME, "teams-rpm").send_keys("2")
    panel.find_element(By.CSS_SELECTOR, ".teams-form button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda d: team_row(page, "rpm-team-ui") is not None)
    assert team_row(page, "rpm-team-ui").find_elements(By.TAG_NAME, "td")[1].text == "2 requests/min"
    made = team_named(server, "rpm-team-ui")
    assert (made["requests_per_minute"], made["tokens_per_minute"], made["max_parallel_requests"]) == (2, None, None)

    # Answers at once too, from Edit; the requests a minute are kept as they were.
    team_row(page, "rpm-team-ui").find_element(By.CSS_SELECTOR, "button[aria-label^='Change the name, limits or models']").click()
    editor = page.find_element(By.CLASS_NAME, "teams-edit")
    WebDriverWait(browser, 5).until(lambda d: editor.is_displayed())
    assert editor.find_element(By.CLASS_NAME, "teams-edit-rpm").get_attribute("value") == "2"
    editor.find_element(By.CLASS_NAME, "teams-edit-parallel").send_keys("3")
    editor.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 10).until(
        lambda d: team_row(page, "rpm-team-ui").find_elements(By.TAG_NAME, "td")[1].text == "2 requests/min, 3 answers at once")
    assert team_named(server, "rpm-team-ui")["max_parallel_requests"] == 3

    # Two members: two requests between them, the third refused naming the team (the SDK's RateLimitError).
    tokens = []
    for name in ("rpm-team-a", "rpm-team-b"):
        tokens.append(server.api("POST", "/api/admin/users", {"name": name})["token"])
        server.api("PATCH", f"/api/admin/users/{name}", {"team": "rpm-team-ui"})
    for token in tokens:
        client(server, token).chat.completions.create(model="sim", messages=[{"role": "user", "content": "Hi"}])
    with pytest.raises(openai.RateLimitError) as refused:
        client(server, tokens[0]).chat.completions.create(model="sim", messages=[{"role": "user", "content": "Again"}])
    assert "Your team 'rpm-team-ui' has sent 2 requests in the last minute" in str(refused.value)
    assert 1 <= int(refused.value.response.headers["retry-after"]) <= 60

    # The member's Usage page shows the team's minute.
    browser.get("about:blank")
    browser.get(f"{server.base}/#token={tokens[1]}")
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "account-name").text == "rpm-team-b")
    menu_item(browser, "usage-open").click()
    line = browser.find_element(By.CSS_SELECTOR, "#usage-page .usage-rate-limits")
    WebDriverWait(browser, 10).until(lambda d: line.is_displayed())
    assert "Your team rpm-team-ui's limits per minute: 2 of 2 requests used in the last minute by all its members." in line.text
    assert "Your team rpm-team-ui has 0 of 3 answers at once running now." in line.text
