"""What the page marks `hidden` is not shown: a class's own `display` once kept the conversation's instructions form
open for good and an empty list of attachments taking room under the message box."""
from test_chat_ui import open_signed_in


def test_nothing_marked_hidden_is_shown(browser, server):
    open_signed_in(browser, server)
    shown = browser.execute_script("""
      return [...document.querySelectorAll('[hidden]')].filter((element) => getComputedStyle(element).display !== 'none')
        .map((element) => element.id || element.className || element.tagName);""")
    assert shown == []
