"""The API keys page: a user makes a key, uses it with the OpenAI SDK, sees its usage, and revokes it."""
import datetime
import json
import subprocess
import urllib.request

import openai
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from conftest import SLUICE, menu_item
from test_chat_ui import WebDriverWait
from test_gateway import client
from test_usage_ui import add_user


def open_keys(browser, server, token):
    browser.get(f"{server.base}/#token={token}")
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "input").is_displayed())
    menu_item(browser, "keys-open").click()
    page = browser.find_element(By.ID, "keys-page")
    WebDriverWait(browser, 10).until(lambda d: page.is_displayed())
    return page


def rows(page):
    return [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
            for row in page.find_elements(By.CSS_SELECTOR, ".keys-table tbody tr")]


def test_a_key_made_on_the_page_is_shown_once_works_counts_its_usage_and_stops_when_revoked(browser, server):
    token = add_user(server, "keys-page", 1_000_000)
    page = open_keys(browser, server, token)
    WebDriverWait(browser, 10).until(lambda d: page.find_element(By.CLASS_NAME, "keys-empty").is_displayed())
    assert page.find_element(By.CLASS_NAME, "keys-base-url").text == f"{server.base}/v1"

    label = "<b>ci</b> bot"
    page.find_element(By.CLASS_NAME, "keys-label").send_keys(label)
    page.find_element(By.CSS_SELECTOR, ".keys-form button[type=submit]").click()
    shown = page.find_element(By.CLASS_NAME, "keys-new")
    WebDriverWait(browser, 10).until(lambda d: shown.is_displayed())
    key = page.find_element(By.CLASS_NAME, "keys-new-value").get_attribute("value")
    assert key.startswith("sluice_")
    # Copy says what it did: copied, or (without clipboard access) left selected for the user to copy.
    copy = page.find_element(By.CLASS_NAME, "keys-copy")
    copy.click()
    WebDriverWait(browser, 10).until(lambda d: copy.text in ("Copied", "Selected: press Ctrl+C"))
    assert browser.execute_script("return getSelection().toString() || document.activeElement.value") == key
    # The label is text: its markup stays inert, in the list too.
    assert page.find_element(By.CLASS_NAME, "keys-new-label").text == label
    WebDriverWait(browser, 10).until(lambda d: rows(page) and rows(page)[0][0] == label)
    assert not page.find_elements(By.CSS_SELECTOR, ".keys-table b")
    assert rows(page)[0][2:11] == ["never", "all", "none", "none", "none", "never", "0", "0", "$0"]

    # The key works with the OpenAI SDK as the user, and its turns are its own.
    answer = client(server, key).chat.completions.create(model="sim", messages=[{"role": "user", "content": "Hi"}])
    page.find_element(By.CLASS_NAME, "keys-close").click()
    menu_item(browser, "keys-open").click()
    WebDriverWait(browser, 10).until(lambda d: rows(page) and rows(page)[0][8] == "1")
    assert rows(page)[0][9] == f"{answer.usage.total_tokens:,}" and rows(page)[0][7] != "never"
    # Reopened, the page no longer shows the secret.
    assert not shown.is_displayed() and page.find_element(By.CLASS_NAME, "keys-new-value").get_attribute("value") == ""

    page.find_element(By.CSS_SELECTOR, ".keys-table tbody button[aria-label^='Revoke']").click()
    alert = WebDriverWait(browser, 10).until(lambda d: d.switch_to.alert)
    assert "cannot be undone" in alert.text
    alert.accept()
    WebDriverWait(browser, 10).until(lambda d: rows(page)[0][11].startswith("revoked "))
    assert not page.find_elements(By.CSS_SELECTOR, ".keys-table tbody button")
    with pytest.raises(openai.AuthenticationError):
        client(server, key).chat.completions.create(model="sim", messages=[{"role": "user", "content": "Hi"}])


def test_a_taken_label_is_refused_with_the_servers_message_and_nothing_is_made(browser, server):
    token = add_user(server, "keys-page-taken", 1_000_000)
    page = open_keys(browser, server, token)
    for _ in range(2):
        field = page.find_element(By.CLASS_NAME, "keys-label")
        field.clear()
        field.send_keys("laptop")
        page.find_element(By.CSS_SELECTOR, ".keys-form button[type=submit]").click()
    banner = WebDriverWait(browser, 10).until(
        lambda d: next((b for b in d.find_elements(By.CSS_SELECTOR, ".banner") if "already have a key" in b.text), None))
    assert "Pick another label" in banner.text
    request = urllib.request.Request(server.base + "/api/keys", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert [key["label"] for key in json.loads(response.read())["keys"]] == ["laptop"]
    WebDriverWait(browser, 10).until(lambda d: [row[0] for row in rows(page)] == ["laptop"])


def test_a_key_made_to_expire_for_one_model_with_daily_and_rate_limits_shows_them_all_and_works(browser, server):
    token = add_user(server, "keys-page-expiry", 1_000_000)
    page = open_keys(browser, server, token)
    page.find_element(By.CLASS_NAME, "keys-label").send_keys("contractor")
    Select(page.find_element(By.CLASS_NAME, "keys-expiry")).select_by_value("30")
    # Limited to a model: the list offers the user's models.
    WebDriverWait(browser, 10).until(lambda d: page.find_elements(By.CSS_SELECTOR, ".keys-models option"))
    Select(page.find_element(By.CLASS_NAME, "keys-models")).select_by_value("sim")
    page.find_element(By.CLASS_NAME, "keys-daily").send_keys("2.5")
    page.find_element(By.CLASS_NAME, "keys-rpm").send_keys("1")
    page.find_element(By.CLASS_NAME, "keys-parallel").send_keys("3")
    page.find_element(By.CLASS_NAME, "keys-tags").send_keys("ci, nightly ,")
    page.find_element(By.CSS_SELECTOR, ".keys-form button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda d: rows(page) and rows(page)[0][0] == "contractor")
    assert "(until " in page.find_element(By.CLASS_NAME, "keys-new-label").text
    request = urllib.request.Request(server.base + "/api/keys", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        listed = json.loads(response.read())["keys"]
    expires = datetime.datetime.fromisoformat(listed[0]["expires_at"].replace("Z", "+00:00"))
    days = (expires - datetime.datetime.now(datetime.timezone.utc)).total_seconds() / 86_400
    assert 29.9 < days <= 30
    assert rows(page)[0][2] not in ("never", "") and not rows(page)[0][2].startswith("expired")
    assert rows(page)[0][3] == "sim" and listed[0]["models"] == ["sim"]
    assert rows(page)[0][4] == "$2.5 ($0 today)" and listed[0]["daily_usd_limit"] == "2.5"
    assert rows(page)[0][5] == "1 requests/min (0 in the last minute), 3 at once (0 running)"
    assert (listed[0]["requests_per_minute"], listed[0].get("tokens_per_minute"), listed[0]["max_parallel_requests"]) == (1, None, 3)
    assert rows(page)[0][6] == "ci, nightly" and listed[0]["tags"] == ["ci", "nightly"]
    # The form is cleared for the next key.
    assert page.find_element(By.CLASS_NAME, "keys-rpm").get_attribute("value") == ""
    key = page.find_element(By.CLASS_NAME, "keys-new-value").get_attribute("value")
    assert [model.id for model in client(server, key).models.list().data] == ["sim"]
    # Its one request a minute: the second call is refused with a message that names the key (no SDK retries).
    keyed = client(server, key).with_options(max_retries=0)
    keyed.chat.completions.create(model="sim", messages=[{"role": "user", "content": "Hi"}])
    with pytest.raises(openai.RateLimitError) as refused:
        keyed.chat.completions.create(model="sim", messages=[{"role": "user", "content": "Hi"}])
    assert "The API key 'contractor' has sent 1 request in the last minute" in str(refused.value)
    # The key's tags went with its call, beside the call's own.
    request = urllib.request.Request(server.base + "/api/usage?period=today&group=tag",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        per_tag = {row["key"]: row["turns"] for row in json.loads(response.read())["series"]}
    assert per_tag == {"ci": 1, "nightly": 1}

    # Edited in place: the form takes the key's terms, the limit is raised and one removed; the secret stays.
    page.find_element(By.CSS_SELECTOR, ".keys-table tbody button[aria-label='Edit the key contractor']").click()
    assert page.find_element(By.CLASS_NAME, "keys-label").get_attribute("value") == "contractor"
    assert page.find_element(By.CLASS_NAME, "keys-rpm").get_attribute("value") == "1"
    assert page.find_element(By.CLASS_NAME, "keys-daily").get_attribute("value") == "2.5"
    tags = page.find_element(By.CLASS_NAME, "keys-tags")
    assert tags.get_attribute("value") == "ci, nightly"
    tags.clear()
    tags.send_keys("ci")
    assert Select(page.find_element(By.CLASS_NAME, "keys-expiry")).first_selected_option.text == "unchanged"
    rpm = page.find_element(By.CLASS_NAME, "keys-rpm")
    rpm.clear()
    rpm.send_keys("5")
    page.find_element(By.CLASS_NAME, "keys-parallel").clear()
    save = page.find_element(By.CLASS_NAME, "keys-submit")
    assert save.text == "Save changes"
    save.click()
    # The refused call made no request: the one granted is the key's use of its new limit.
    WebDriverWait(browser, 10).until(lambda d: rows(page)[0][5] == "5 requests/min (1 in the last minute)")
    assert rows(page)[0][2] not in ("never", "") and rows(page)[0][4].startswith("$2.5 ") and rows(page)[0][6] == "ci"
    assert page.find_element(By.CLASS_NAME, "keys-submit").text == "Create key"
    assert page.find_element(By.CLASS_NAME, "keys-label").get_attribute("value") == ""
    keyed.chat.completions.create(model="sim", messages=[{"role": "user", "content": "Hi"}])


def test_signed_in_with_a_key_the_page_lists_keys_and_says_why_it_cannot_make_or_revoke_them(browser, server):
    token = add_user(server, "keys-page-with-key", 1_000_000)
    added = subprocess.run([SLUICE, "user", "key", "add", "keys-page-with-key", "laptop", "--db", server.db],
                           check=True, capture_output=True, text=True)
    key = added.stdout.strip().splitlines()[-1]
    page = open_keys(browser, server, key)
    note = page.find_element(By.CLASS_NAME, "keys-signed-in-with-key")
    WebDriverWait(browser, 10).until(lambda d: note.is_displayed())
    assert note.text == "You are signed in with the key “laptop”. Sign in with your own token to make or revoke keys."
    assert not page.find_element(By.CLASS_NAME, "keys-form").is_displayed()
    assert [row[0] for row in rows(page)] == ["laptop"]
    assert not page.find_elements(By.CSS_SELECTOR, ".keys-table tbody button")
