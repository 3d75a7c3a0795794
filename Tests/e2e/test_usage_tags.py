"""Tags on gateway calls, from the official `openai` SDK (its `metadata`, and the `x-sluice-tags` header as extra
headers): usage per tag on the Usage page in a real headless Chromium and from `sluice usage report --group tag`."""
import subprocess

import openai
import pytest
from selenium.webdriver.common.by import By

from conftest import SLUICE, menu_item
from test_chat_ui import WebDriverWait
from test_conversation_edit_ui import new_user, open_as
from test_gateway import client


def test_tagged_calls_are_summed_per_tag_on_the_usage_page_and_by_the_cli(browser, server):
    token = new_user(server, "tags-ui")
    sdk = client(server, token)
    ask = [{"role": "user", "content": "tag me"}]
    # OpenAI's SDK types `metadata` as strings by key: the text form; LiteLLM's list form goes as an extra body.
    sdk.chat.completions.create(model="sim", messages=ask, metadata={"tags": "checkout,prod"}, max_tokens=8)
    sdk.chat.completions.create(model="sim", messages=ask, extra_body={"metadata": {"tags": ["checkout"]}}, max_tokens=8)
    sdk.chat.completions.create(model="sim", messages=ask, extra_headers={"x-sluice-tags": "<b>bold</b>"}, max_tokens=8)
    sdk.chat.completions.create(model="sim", messages=ask, max_tokens=8)
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.chat.completions.create(model="sim", messages=ask, extra_body={"metadata": {"tags": ["a" * 65]}})
    assert refused.value.param == "metadata.tags"

    open_as(browser, server, token)
    menu_item(browser, "usage-open").click()
    section = browser.find_element(By.CSS_SELECTOR, "#usage-page .usage-tags")
    WebDriverWait(browser, 15).until(lambda _: section.is_displayed())
    lines = [item.text for item in section.find_elements(By.TAG_NAME, "li")]
    assert len(lines) == 4
    assert lines[0].startswith("checkout: ") and lines[0].endswith("2 answers")
    assert any(line.startswith("prod: ") and line.endswith("1 answer") for line in lines)
    assert any(line.startswith("(untagged): ") for line in lines)
    # A tag is text: no element was made of it.
    assert any(line.startswith("<b>bold</b>: ") for line in lines) and not section.find_elements(By.TAG_NAME, "b")

    report = subprocess.run([SLUICE, "usage", "report", "--user", "tags-ui", "--group", "tag", "--db", server.db],
                            check=True, capture_output=True, text=True).stdout.splitlines()
    assert report[0].split("\t")[:2] == ["tag", "turns"]
    rows = {line.split("\t")[0]: int(line.split("\t")[1]) for line in report[1:]}
    # The total is the whole: four turns, though the rows count five.
    assert rows == {"checkout": 2, "prod": 1, "<b>bold</b>": 1, "(untagged)": 1, "total": 4}
