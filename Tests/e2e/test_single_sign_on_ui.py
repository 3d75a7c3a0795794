"""Signing in with an OpenID Connect provider in a real headless Chromium: the sign-in page's "Continue with …" button
takes the browser to the provider (`sluice simulate --identity-provider`, a real HTTP server that signs its ID tokens
with an RSA key) and back, signed in, the token gone from the address bar; an answer that comes back without its
attempt is said on the sign-in page."""
import contextlib
import subprocess

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select

from conftest import SLUICE, free_port, menu_item, running_sluice, wait_for
from test_chat_ui import WebDriverWait
from test_cli import me_status as status
from test_conversation_edit_ui import api, new_user, open_as
from test_sign_in_ui import kept_token, signed_out_page
from test_users_ui import open_users, row


@contextlib.contextmanager
def identity_provider():
    port = free_port()
    process = subprocess.Popen(
        [SLUICE, "simulate", "--identity-provider", "--port", str(port), "--client-id", "sluice-web",
         "--client-secret", "e2e-secret"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(f"http://127.0.0.1:{port}/.well-known/openid-configuration")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextlib.contextmanager
def sluice_with_provider(*more):
    with identity_provider() as issuer, running_sluice(lambda simulator_port, _: [
            "--model", "sim", "--upstream", f"http://127.0.0.1:{simulator_port}/v1", "--oidc-issuer", issuer,
            "--oidc-client-id", "sluice-web", "--oidc-client-secret", "e2e-secret", "--oidc-name", "Acme SSO", *more]) as running:
        yield running


@pytest.fixture(scope="module")
def sso_server():
    with sluice_with_provider() as running:
        yield running


def test_continue_with_the_provider_signs_in_and_makes_the_account(browser, sso_server):
    signed_out_page(browser, sso_server)
    button = browser.find_element(By.CSS_SELECTOR, "#sign-in .sso-button")
    WebDriverWait(browser, 10).until(lambda _: button.is_displayed())
    assert button.text == "Continue with Acme SSO"
    button.click()
    # To the provider, which signs Casey in at once, and back: the page takes the session's token.
    WebDriverWait(browser, 15).until(lambda d: d.find_element(By.ID, "account-name").text == "casey")
    assert not browser.find_element(By.ID, "sign-in").is_displayed()
    assert browser.execute_script("return location.hash") == ""
    assert "token=" not in browser.current_url
    session = kept_token(browser)
    assert session.startswith("sluice_") and status(sso_server, session) == 200

    # Sign out, and in again: the same account (no "casey-2"), a new session.
    menu_item(browser, "sign-out").click()
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "sign-in").is_displayed())
    assert status(sso_server, session) == 401
    browser.find_element(By.CSS_SELECTOR, "#sign-in .sso-button").click()
    WebDriverWait(browser, 15).until(lambda d: d.find_element(By.ID, "account-name").text == "casey")
    assert kept_token(browser) != session

    # The administrator's Users page marks who signs in through the provider, and shows only them when asked.
    page = open_users(browser, sso_server)
    WebDriverWait(browser, 10).until(lambda _: row(page, "casey") is not None)
    assert "single sign-on" in row(page, "casey").text and "single sign-on" not in row(page, "tester").text
    Select(page.find_element(By.CSS_SELECTOR, ".users-show")).select_by_value("sso")
    assert row(page, "casey").is_displayed() and not row(page, "tester").is_displayed()


def test_an_answer_without_its_attempt_is_said_on_the_sign_in_page(browser, sso_server):
    signed_out_page(browser, sso_server)
    # As a forged link would arrive: a code and a state that no attempt of this browser's started.
    browser.get(sso_server.base + "/api/sign-in/oidc/callback?code=forged&state=forged")
    error = browser.find_element(By.CSS_SELECTOR, "#password-sign-in .sign-in-error")
    WebDriverWait(browser, 10).until(lambda _: "another tab" in error.text)
    assert browser.find_element(By.ID, "sign-in").is_displayed() and kept_token(browser) is None
    assert browser.execute_script("return location.hash") == ""


def test_without_a_provider_the_sign_in_page_offers_none(browser, server):
    signed_out_page(browser, server)
    # The offer was asked for: the password form shows, the provider's button stays hidden.
    WebDriverWait(browser, 10).until(lambda d: d.execute_script(
        "return performance.getEntriesByType('resource').some(e => e.name.endsWith('/api/sign-in/oidc'))"))
    assert not browser.find_element(By.CSS_SELECTOR, "#sign-in .sso-sign-in").is_displayed()


def test_a_signed_in_user_connects_their_provider_account_on_the_password_page(browser):
    # A server of its own: the provider's casey has no account there yet.
    with sluice_with_provider() as server:
        token = new_user(server, "robin")
        api(server, token, "POST", "/api/conversations", {"title": "Robin's notes"})
        open_as(browser, server, token)
        menu_item(browser, "password-open").click()
        section = browser.find_element(By.CSS_SELECTOR, "#password-form .single-sign-on")
        WebDriverWait(browser, 10).until(lambda _: section.is_displayed())
        connect = section.find_element(By.CSS_SELECTOR, ".sso-connect")
        assert connect.text == "Connect Acme SSO" and "Connect your Acme SSO account" in section.text
        connect.click()
        # To the provider and back (a new page: elements are found again): the banner says so, the address bar is clean.
        WebDriverWait(browser, 15).until(lambda d: "Single sign-on is connected" in d.find_element(By.ID, "banner").text)
        assert browser.execute_script("return location.hash") == "" and kept_token(browser) == token

        # Signed out, the provider's button signs in as robin — the same account, with its conversation.
        menu_item(browser, "sign-out").click()
        WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "sign-in").is_displayed())
        browser.find_element(By.CSS_SELECTOR, "#sign-in .sso-button").click()
        WebDriverWait(browser, 15).until(lambda d: d.find_element(By.ID, "account-name").text == "robin")
        WebDriverWait(browser, 10).until(lambda d: "Robin's notes" in d.find_element(By.ID, "conversation-list").text)

        # Disconnecting needs a password: said on the page, nothing changed.
        menu_item(browser, "password-open").click()
        section = browser.find_element(By.CSS_SELECTOR, "#password-form .single-sign-on")
        disconnect = section.find_element(By.CSS_SELECTOR, ".sso-disconnect")
        WebDriverWait(browser, 10).until(lambda _: disconnect.is_displayed())
        assert "Your Acme SSO account signs you in here." in section.text
        disconnect.click()
        status_line = browser.find_element(By.CSS_SELECTOR, "#password-form .password-status")
        WebDriverWait(browser, 10).until(lambda _: "Set a password first" in status_line.text)
        assert disconnect.is_displayed()


def test_with_password_sign_in_off_the_page_offers_only_the_provider(browser):
    with sluice_with_provider("--password-sign-in", "off") as server:
        signed_out_page(browser, server)
        button = browser.find_element(By.CSS_SELECTOR, "#sign-in .sso-button")
        WebDriverWait(browser, 10).until(lambda _: button.is_displayed())
        assert not browser.find_element(By.ID, "password-sign-in").is_displayed()
        assert not browser.find_element(By.CSS_SELECTOR, "#sign-in .sso-or").is_displayed()
        button.click()
        WebDriverWait(browser, 15).until(lambda d: d.find_element(By.ID, "account-name").text == "casey")
        # The Password page keeps the provider and the browsers, without password fields to mislead.
        menu_item(browser, "password-open").click()
        section = browser.find_element(By.CSS_SELECTOR, "#password-form .single-sign-on")
        WebDriverWait(browser, 10).until(lambda _: section.is_displayed())
        assert "Your Acme SSO account signs you in here." in section.text
        assert not section.find_element(By.CSS_SELECTOR, ".sso-disconnect").is_displayed()
        form = browser.find_element(By.ID, "password-form")
        assert not form.find_element(By.NAME, "password").is_displayed()
        assert not form.find_element(By.CSS_SELECTOR, "button[type=submit]").is_displayed()
