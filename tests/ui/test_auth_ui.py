"""http.auth_tokens in the browser: a 401 from any API call brings up the sign-in prompt with the
server's reason (not a broken page); a wrong token is refused with its own message; the right one
is then sent as `Authorization: Bearer` on every call and the page works."""
import uuid

import pytest

from conftest import start_tracefeed, stop_tracefeed
from ui_helpers import check_accessibility, screenshot

TOKEN = "alice-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def secured():
    tf = start_tracefeed(http_yaml=f'auth_tokens: [{{user: alice, token: "{TOKEN}"}}]')
    yield tf
    stop_tracefeed(tf)


def test_401_leads_to_sign_in_and_the_token_is_sent(secured, page):
    api_auth = []  # Authorization header of every API request the page makes
    page.on("request", lambda r: "/api/" in r.url and api_auth.append(r.headers.get("authorization")))

    page.goto(secured.url + "/#/labeling/sessions")
    prompt = page.get_by_role("alert").filter(has_text="requires an API token")
    prompt.wait_for()
    assert "authentication required" in prompt.inner_text()  # the server's own reason
    assert page.get_by_role("form", name="Create labeling session").count() == 0  # no half-broken page behind it
    screenshot(page, "sign_in_required")
    check_accessibility(page, "the sign-in prompt")

    # A wrong token: refused, said so.
    form = page.get_by_role("form", name="Sign in")
    form.get_by_label("Your name").fill("alice")
    form.get_by_label("Token").fill("not-the-token")
    form.get_by_role("button", name="Sign in").click()
    page.get_by_role("alert").filter(has_text="did not accept your token").wait_for()
    assert "invalid token" in page.get_by_role("alert").first.inner_text()
    assert page.get_by_label("Your name").input_value() == "alice"  # kept for the retry

    # The right one: the page comes back and every call carries it.
    api_auth.clear()
    page.get_by_label("Token").fill(TOKEN)
    page.get_by_label("Token").press("Enter")
    page.get_by_role("form", name="Create labeling session").wait_for()
    page.get_by_text("No sessions yet.").wait_for()
    assert "Signed in as alice" in page.locator(".who").inner_text()
    assert api_auth and all(h == f"Bearer {TOKEN}" for h in api_auth), api_auth

    # Other pages too, without another prompt.
    page.get_by_role("link", name="Traces", exact=True).click()
    page.locator("table.traces").wait_for()
    page.get_by_text("No traces yet").wait_for()
    assert page.get_by_role("alert").count() == 0
    assert all(h == f"Bearer {TOKEN}" for h in api_auth), api_auth

    # Signing out drops the token: the next call is refused and the prompt is back.
    page.get_by_role("button", name="Sign out").click()
    page.reload()
    page.get_by_role("alert").filter(has_text="requires an API token").wait_for()
