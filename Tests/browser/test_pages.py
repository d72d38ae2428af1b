"""Real-browser tests of Hearth's pages (issue 5), against the pages contract.

Run through Tests/browser/run.sh, which starts the service and creates the staff named below.
Every page a browser lands on is screenshotted and checked (axe-core, security headers, nothing
from another origin); a problem found there fails the test during which the page was visited.
"""

from __future__ import annotations

import datetime
import re
import secrets
import warnings
from urllib.parse import urlsplit

import pytest
import requests
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from harness import (
    PHONE_WIDTH, Browser, Client, Environment, Findings, layout_problems, origin, parse_html, security_header_problems
)

# Staff created by run.sh.
SUPERVISOR, CASEWORKER, PRIVACY_OFFICER = "sofia", "casey", "priya"
FORMS_SUPERVISOR, FORMS_CASEWORKER, FORMS_REVIEWER = "sam", "carl", "otto"
INTERVIEWER = "rory"  # a reviewer who invites survivors to interviews

SURVIVOR_COOKIE = "__Host-hearth-survivor"
STAFF_COOKIE = "__Host-hearth-session"
REFERENCE = re.compile(r"^HR-[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$")
RECEIPT = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){6}$")
SCOPES = ("support", "review", "police", "prosecution")
LANGUAGE_COOKIE = "__Host-hearth-lang"
# The languages run.sh's `hearth serve --pseudo-locales` offers, and the direction of each.
LANGUAGES = {"en": "ltr", "cy": "ltr", "en-XA": "ltr", "ar-XB": "rtl"}


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def env() -> Environment:
    environment = Environment.from_environment()
    missing = {SUPERVISOR, CASEWORKER, PRIVACY_OFFICER, FORMS_SUPERVISOR, FORMS_CASEWORKER, FORMS_REVIEWER}
    missing -= set(environment.staff)
    assert not missing, f"run.sh did not create staff {missing}"
    return environment


@pytest.fixture(scope="session")
def findings() -> Findings:
    return Findings()


@pytest.fixture(autouse=True)
def no_new_findings(findings: Findings):
    """Fails a test during which a page or response had a problem (reported after the test)."""
    mark = len(findings.items)
    yield
    new = findings.items[mark:]
    if new:
        pytest.fail(f"{len(new)} problem(s) on pages or responses:\n" + "\n".join(new), pytrace=False)


@pytest.fixture(scope="session")
def browsers(env: Environment, findings: Findings):
    opened: dict[str, Browser] = {}

    def get(name: str) -> Browser:
        if name not in opened:
            opened[name] = Browser(name, javascript=(name == "js"), env=env, findings=findings)
        return opened[name]

    yield get
    for browser in opened.values():
        browser.quit()


@pytest.fixture
def nojs(browsers) -> Browser:
    browser = browsers("nojs")
    browser.fresh()
    return browser


@pytest.fixture
def js(browsers) -> Browser:
    browser = browsers("js")
    browser.fresh()
    return browser


@pytest.fixture
def client(env: Environment, findings: Findings) -> Client:
    return Client(env, findings)


@pytest.fixture(scope="session")
def supervisor_http(env: Environment, findings: Findings) -> Client:
    """The second supervisor, signed in once with requests for the whole run."""
    client = Client(env, findings)
    staff_sign_in_http(client, env, FORMS_SUPERVISOR)
    return client


@pytest.fixture(scope="session")
def caseworker_http(env: Environment, findings: Findings) -> Client:
    """The second caseworker, signed in once with requests for the whole run."""
    client = Client(env, findings)
    staff_sign_in_http(client, env, FORMS_CASEWORKER)
    return client


# --- helpers: survivor ---------------------------------------------------------------------------


def submit_by_api(
    client: Client, env: Environment, consents=("support",), account="I would like to talk.", phrase=None
) -> tuple[str, str]:
    """Creates a request through the JSON API; returns (reference, receipt)."""
    body = {
        "preferredName": "Alex",
        "contact": [{"method": "email", "value": "alex@example.org", "mayLeaveMessage": False}],
        "region": "north-west",
        "wants": ["support"],
        "account": account,
        "consents": [{"scope": scope} for scope in consents],
    }
    if phrase is not None:
        body["verificationPhrase"] = phrase
    response = client.post(f"{env.intake}/api/v1/contact-requests", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    return created["reference"], created["receipt"]


def survivor_api(client: Client, env: Environment, receipt: str, path: str = "") -> dict | None:
    """The survivor's record as the JSON API shows it (None once it is gone)."""
    response = client.get(f"{env.intake}/api/v1/me{path}", headers={"Authorization": f"Receipt {receipt}"})
    if response.status_code == 401:
        return None
    assert response.status_code == 200, response.text
    return response.json()


def live_scopes(client: Client, env: Environment, receipt: str) -> set[str]:
    me = survivor_api(client, env, receipt)
    return {consent["scope"] for consent in me["consents"]}


def sign_in_with_receipt(browser: Browser, env: Environment, receipt: str) -> None:
    browser.visit(f"{env.intake}/return", "return")
    browser.fill("receipt", receipt)
    browser.click("sign-in", "your request")
    assert browser.path == "/your-request", f"signing in with the receipt ended on {browser.url}"


def fill_request_form(browser: Browser, answers: dict) -> None:
    browser.fill("preferredName", answers["preferredName"])
    browser.tick(f"contactMethod-{answers['contactMethod']}")
    browser.fill("contactValue", answers["contactValue"])
    browser.fill("safeTimes", answers["safeTimes"])
    browser.tick(f"mayLeaveMessage-{answers['mayLeaveMessage']}")
    browser.choose("region", answers["region"])
    for want in answers["wants"]:
        browser.tick(f"wants-{want}")
    browser.fill("account", answers["account"])
    for scope in answers["consents"]:
        browser.tick(f"consent-{scope}")


ANSWERS = {
    "preferredName": "Robin",
    "contactMethod": "email",
    "contactValue": "robin@example.org",
    "safeTimes": "Weekday evenings after 7",
    "mayLeaveMessage": "no",
    "region": "north-west",
    "wants": ["support", "information"],
    "account": "It happened when I was twelve. I am ready to talk to someone now.",
    "consents": ["support", "review"],
}


def date_shown(text: str, day: datetime.date) -> bool:
    """True when `text` shows `day` as 2027-01-15, 15 January 2027 or 15 Jan 2027."""
    forms = {day.isoformat(), f"{day.day} {day:%B %Y}", f"{day.day} {day:%b %Y}", f"{day:%d} {day:%B %Y}"}
    return any(form in text for form in forms)


# --- helpers: staff ------------------------------------------------------------------------------


def new_password() -> str:
    return "correct horse " + secrets.token_urlsafe(12)


def staff_sign_in(browser: Browser, env: Environment, username: str) -> None:
    """Signs in through the pages (password, then code; a first sign-in changes the password)."""
    account = env.staff[username]
    browser.visit(f"{env.casework}/login", f"{username} login")
    browser.fill("username", account.username)
    browser.fill("password", account.password)
    browser.click("continue", f"{username} login code")
    assert browser.path == "/login/code", f"after the password: {browser.url}"
    code = browser.by_id("totp")
    assert code.get_attribute("autocomplete") == "one-time-code"
    assert code.get_attribute("inputmode") == "numeric"
    first_time = not account.password_changed
    browser.fill("totp", account.one_time_code())
    browser.click("sign-in", f"{username} change password" if first_time else f"{username} case queue")
    if first_time:
        assert browser.path == "/password", f"a first sign-in must force a password change, not {browser.url}"
        password = new_password()
        browser.fill("password", account.password)
        browser.fill("newPassword", password)
        browser.fill("confirmPassword", password)
        browser.click("change-password", f"{username} case queue")
        account.password, account.password_changed = password, True
    assert browser.path == "/cases", f"after signing in: {browser.url} ({browser.h1()})"


def staff_sign_out(browser: Browser, label: str = "signed out") -> None:
    button = browser.driver.find_element(By.CSS_SELECTOR, 'form[action="/logout"] button')
    browser.click_element(button, label)
    assert browser.path == "/login"


def staff_sign_in_http(client: Client, env: Environment, username: str) -> None:
    """Signs in with requests, changing the one-time password on a first sign-in."""
    account = env.staff[username]
    login = client.page(f"{env.casework}/login").form("/login")
    response = client.post_form(
        f"{env.casework}/login",
        login.values(username=account.username, password=account.password),
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("/login/code"), response.status_code
    form = client.page(f"{env.casework}/login/code").form("/login/code")
    response = client.post_form(f"{env.casework}/login/code", form.values(totp=account.one_time_code()))
    assert response.status_code == 303, f"{username} sign-in: {response.status_code}"
    if response.headers["Location"].endswith("/password"):
        form = client.page(f"{env.casework}/password").form("/password")
        password = new_password()
        response = client.post_form(
            f"{env.casework}/password",
            form.values(password=account.password, newPassword=password, confirmPassword=password),
        )
        assert response.status_code == 303 and response.headers["Location"].endswith("/cases"), response.status_code
        account.password, account.password_changed = password, True
    assert client.cookie(STAFF_COOKIE)


def queue_row_text(client: Client, env: Environment, reference: str) -> str:
    """The text of the queue's row for this case."""
    html = client.get(f"{env.casework}/cases").text
    rows = re.findall(r"<tr\b.*?</tr>", html, flags=re.S)
    row = next((r for r in rows if f"/cases/{reference}" in r), None)
    assert row is not None, f"{reference} is not in the queue"
    return " ".join(re.sub(r"<[^>]+>", " ", row).split())


# ================================================================================================
# The public transparency figures (run.sh seeds and publishes four closed months first)
# ================================================================================================


@pytest.mark.parametrize("browser_name", ["nojs", "js"])
def test_transparency_page(browser_name: str, request, env: Environment) -> None:
    browser: Browser = request.getfixturevalue(browser_name)
    browser.visit(f"{env.intake}/transparency", "transparency")
    browser.h1()
    tables = browser.driver.find_elements(By.TAG_NAME, "table")
    assert len(tables) == 7, f"a table per figure, found {len(tables)}"
    for table in tables:
        assert table.find_elements(By.CSS_SELECTOR, "thead th[scope=col]"), "column headers"
        assert table.find_elements(By.CSS_SELECTOR, "tbody th[scope=row]"), "row headers"
    chart = browser.driver.find_elements(By.CSS_SELECTOR, "svg[role=img] rect")
    assert len(chart) == 4, f"a bar per month, found {len(chart)}"
    text = browser.text()
    assert "rounded to the nearest multiple of 5" in text and "under 10" in text, "the method in plain words"
    assert "HR-" not in text
    links = {a.get_attribute("href").split("/", 3)[-1] for a in browser.driver.find_elements(By.CSS_SELECTOR, "main a")}
    assert {"transparency.csv", "api/v1/transparency"} <= links, links


# ================================================================================================
# The survivor's journey by forms
# ================================================================================================


@pytest.mark.parametrize("browser_name", ["nojs", "js"])
def test_survivor_journey(browser_name: str, request, env: Environment, client: Client) -> None:
    browser: Browser = request.getfixturevalue(browser_name)

    # Start page.
    browser.visit(f"{env.intake}/", "start")
    browser.h1()
    assert browser.by_id("start").get_attribute("href").endswith("/request")
    assert browser.by_id("come-back").get_attribute("href").endswith("/return")
    assert browser.driver.find_elements(By.CSS_SELECTOR, 'a[href="/safety"]'), "no link to /safety"
    start_text = browser.text().lower()
    for topic in ("support", "review", "police", "days", "stop at any time"):
        assert topic in start_text, f"the start page does not mention {topic!r}"
    # Who can read which conversation, in so many words.
    assert "only you and that one group can read your conversation with them" in browser.text("conversations")

    browser.visit(f"{env.intake}/safety", "safety")
    browser.h1()

    # The form: nothing pre-ticked; an empty submit shows the error summary.
    browser.visit(f"{env.intake}/", "start again")
    browser.click("start", "request form")
    assert browser.path == "/request"
    browser.h1()
    for scope in SCOPES:
        assert not browser.by_id(f"consent-{scope}").is_selected(), f"consent {scope} is pre-ticked"
    browser.click("continue", "request form with errors")
    assert browser.last_status == 400, f"empty form answered {browser.last_status}"
    summary = browser.by_id("error-summary")
    assert summary.is_displayed()
    assert summary.get_attribute("role") == "alert"
    assert browser.driver.execute_script(
        "var r = arguments[0].getBoundingClientRect(); return r.top >= 0 && r.top < window.innerHeight;", summary
    ), "error summary is not in view"
    # The contract asks for role="alert" only; focus (tabindex="-1" autofocus) is a recommendation.
    active = browser.driver.switch_to.active_element
    if active != summary:
        warnings.warn(
            f"the error summary is not focused (focus is on <{active.tag_name}>); consider tabindex=-1 autofocus"
        )
    links = summary.find_elements(By.TAG_NAME, "a")
    assert links, "error summary has no links"
    for link in links:
        href = link.get_attribute("href")
        target = urlsplit(href).fragment
        assert target and browser.exists(target), f"error summary link {href} points at no field"
        assert browser.driver.execute_script(
            "var field = document.getElementById(arguments[0]).closest('.field');"
            "return !!(field && field.querySelector('.error-message'));",
            target,
        ), f"the field that {href} points at has no error message beside it"
    assert browser.driver.find_elements(By.CSS_SELECTOR, ".error-message"), "no error message beside the fields"

    # Fill, check answers, change, check again, send.
    fill_request_form(browser, ANSWERS)
    browser.fill("verificationPhrase", "blue door by the sea")
    browser.click("continue", "check answers")
    assert browser.h1() == "Check your answers before sending"
    answers_text = browser.text()
    assert "blue door by the sea" in answers_text, "the check phrase is not shown before sending"
    for value in (ANSWERS["preferredName"], ANSWERS["contactValue"], ANSWERS["safeTimes"]):
        assert value in answers_text, f"check answers page does not show {value!r}"
    browser.click("change", "request form to change")
    assert browser.field("preferredName").get_attribute("value") == ANSWERS["preferredName"]
    assert browser.field("account").get_attribute("value") == ANSWERS["account"]
    assert browser.by_id("consent-support").is_selected() and not browser.by_id("consent-police").is_selected()
    browser.click("continue", "check answers again")
    assert browser.h1() == "Check your answers before sending"
    browser.click("send", "confirmation")
    assert browser.last_status == 201, f"send answered {browser.last_status}"
    assert browser.h1() == "Your request has been sent"
    reference = browser.text("reference")
    receipt = browser.text("receipt")
    assert REFERENCE.match(reference), reference
    assert RECEIPT.match(receipt), receipt
    assert not browser.driver.find_elements(By.CSS_SELECTOR, "a[download]"), "the receipt is offered as a download"
    assert "screenshot" in browser.text().lower(), "no advice on keeping the receipt safe"

    # Come back with the receipt (a new visitor).
    browser.fresh()
    browser.visit(f"{env.intake}/", "start as returning survivor")
    browser.click("come-back", "return")
    browser.fill("receipt", receipt)
    browser.click("sign-in", "your request")
    assert browser.path == "/your-request"
    assert browser.h1() == "Your request"
    page_text = browser.text()
    assert reference in page_text
    assert ANSWERS["contactValue"] in page_text, "what was sent is not shown"
    assert "No one has opened your request yet" in browser.text("access-log")
    assert "blue door by the sea" in browser.text("current-phrase")
    assert "really us" in browser.text("check-phrase")

    # A message to one of the two groups shared with: it appears in that conversation only.
    assert "cannot read your conversation with any other group" in browser.text("who-reads-conversations")
    message = "Thank you. Evenings are best for me."
    browser.tick("reply-group-support")
    browser.fill("text", message)
    browser.click("send-reply", "your request after reply")
    assert browser.path == "/your-request"
    assert message in browser.text("conversation-support")
    assert message not in browser.text("conversation-review")

    # Give a consent with an expiry date, withdraw another.
    expiry = datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=60)  # days are UTC
    assert browser.exists("give-police") and not browser.exists("withdraw-police")
    browser.set_date("expires-police", expiry.isoformat())
    browser.click("give-police", "your request after giving police consent")
    assert browser.path == "/your-request"
    assert browser.exists("withdraw-police"), "police consent was not given"
    assert date_shown(browser.text("scope-police"), expiry), f"expiry not shown: {browser.text('scope-police')}"
    # A live consent's end date can be changed too (an addition to the contract: change-SCOPE).
    if browser.exists("change-support"):
        later = expiry + datetime.timedelta(days=30)
        browser.set_date("change-expires-support", later.isoformat())
        browser.click("change-support", "your request after changing the support end date")
        assert date_shown(browser.text("scope-support"), later), browser.text("scope-support")
    assert browser.exists("withdraw-review")
    browser.click("withdraw-review", "your request after withdrawing review consent")
    assert browser.exists("give-review") and not browser.exists("withdraw-review")
    assert live_scopes(client, env, receipt) == {"support", "police"}

    # Erase, with confirmation.
    browser.click("erase", "erase confirmation")
    assert browser.path == "/your-request/erase"
    browser.h1()
    assert browser.driver.find_elements(By.CSS_SELECTOR, 'main a[href="/your-request"]'), "no way back to keep it"
    browser.click("confirm-erase", "erased")
    assert browser.h1() == "Everything has been erased"
    browser.visit(f"{env.intake}/your-request", "your request after erasing")
    assert browser.path == "/return", f"/your-request after erasing shows {browser.url}"
    assert survivor_api(client, env, receipt) is None, "the record still exists after erasing"


def test_javascript_is_really_off_in_the_no_javascript_browser(nojs: Browser, js: Browser, env: Environment) -> None:
    nojs.visit(f"{env.intake}/", "start without javascript")
    assert not nojs.scripts_loaded, f"scripts ran with JavaScript disabled: {nojs.scripts_loaded}"
    js.visit(f"{env.intake}/", "start with javascript")
    assert any(url.endswith("/assets/exit.js") for url in js.scripts_loaded), js.scripts_loaded


def test_wrong_receipt_is_refused_plainly(env: Environment, client: Client) -> None:
    form = client.page(f"{env.intake}/return").form("/return")
    response = client.post_form(f"{env.intake}/return", form.values(receipt="0000-0000-0000-0000-0000-0000-0000"))
    assert response.status_code == 401, response.status_code
    page = parse_html(response.text, f"{env.intake}/return")
    assert page.has_form("/return"), "the receipt form is not shown again"
    assert len(page.h1) == 1
    assert client.cookie(SURVIVOR_COOKIE) is None


# ================================================================================================
# The caseworker's journey
# ================================================================================================


def test_caseworker_journey(js: Browser, nojs: Browser, env: Environment, client: Client) -> None:
    account = "Something happened at the youth club in 2011."
    reference, receipt = submit_by_api(client, env, consents=("support",), account=account, phrase="kite over the hill")

    # The supervisor assigns the case to the caseworker.
    staff_sign_in(js, env, SUPERVISOR)
    row = js.driver.find_elements(By.CSS_SELECTOR, f'#queue a[href="/cases/{reference}"]')
    assert row, f"{reference} is not in the supervisor's queue"
    js.click_element(row[0], "supervisor case page")
    assert js.path == f"/cases/{reference}"
    js.h1()
    assert not js.exists("open"), "a supervisor is offered to open (decrypt) the case"
    assign = js.by_id("assign-staff")
    if assign.tag_name == "select":
        js.choose("staff", CASEWORKER)
    else:
        js.fill("staff", CASEWORKER)
    js.click("assign", "supervisor case page after assigning")
    assert js.path == f"/cases/{reference}"
    assert CASEWORKER in js.text()
    staff_sign_out(js)

    # The caseworker opens it, replies and sets the status.
    staff_sign_in(js, env, CASEWORKER)
    row = js.driver.find_elements(By.CSS_SELECTOR, f'#queue a[href="/cases/{reference}"]')
    assert row, f"{reference} is not in the caseworker's queue"
    js.click_element(row[0], "caseworker case page")
    reason = "Assigned to me for first contact"
    js.fill("reason", reason)
    js.click("open", "opened case")
    assert js.last_status == 200
    assert account in js.text("request"), "the decrypted request is not shown"
    assert js.exists("messages")
    assert "conversation with the support group only" in js.text("conversation-scope")
    phrase = js.text("verification-phrase")
    assert "kite over the hill" in phrase and "Say this phrase at the start of any call or message" in phrase
    reply = "Hello Alex, I am Casey from the support team. When may I call?"
    js.fill("text", reply)
    js.click("send-reply", "case page after reply")
    assert js.path == f"/cases/{reference}"
    assert reply not in js.text(), "the case page after a reply shows metadata only"
    # The status can be changed from the case page, without opening (and logging) it again.
    js.choose("status", "in-progress")
    js.click("set-status", "case page after status")
    assert js.path == f"/cases/{reference}"
    assert survivor_api(client, env, receipt)["status"] == "in-progress"
    js.fill("reason", "Reading my reply back")
    js.click("open", "opened case again")
    assert reply in js.text("messages")
    staff_sign_out(js)

    # The survivor sees the reply and who opened the request.
    sign_in_with_receipt(nojs, env, receipt)
    assert reply in nojs.text("messages")
    log = nojs.text("access-log")
    assert reason in log, f"access log does not show the reason: {log}"
    assert CASEWORKER not in log, "the access log must show a pseudonym, not the username"


@pytest.mark.parametrize("browser_name", ["js", "nojs"])
def test_survivor_writes_to_one_group(browser_name: str, request, env: Environment, client: Client) -> None:
    """One conversation per group shared with; the survivor chooses whom to write to (SECURITY.md §3.13)."""
    browser: Browser = request.getfixturevalue(browser_name)
    _, receipt = submit_by_api(client, env, consents=("support", "police"))
    sign_in_with_receipt(browser, env, receipt)
    assert browser.exists("conversation-support") and browser.exists("conversation-police")
    assert not browser.exists("conversation-review"), "a conversation with a group not shared with"
    # No group chosen: said plainly, pointing at the choice, and what was written is kept.
    message = f"Please call after six ({browser_name})."
    browser.fill("text", message)
    browser.click("send-reply", "your request: no group chosen")
    assert browser.last_status == 400, f"no group answered {browser.last_status}"
    link = browser.by_id("error-summary").find_elements(By.CSS_SELECTOR, 'a[href="#reply-group"]')
    assert link and "Choose who your message is for" in link[0].text
    assert browser.field("text").get_attribute("value") == message
    browser.tick("reply-group-police")
    browser.click("send-reply", "your request after writing to the police")
    assert browser.path == "/your-request"
    assert message in browser.text("conversation-police")
    assert message not in browser.text("conversation-support")
    assert [m["group"] for m in survivor_api(client, env, receipt, "/messages")["messages"]] == ["police"]


@pytest.mark.parametrize("browser_name", ["js", "nojs"])
def test_survivor_pauses_and_resumes_contact(browser_name: str, request, env: Environment, client: Client) -> None:
    """Pause contact until a day, see it said plainly, start it again (SECURITY.md §4)."""
    browser: Browser = request.getfixturevalue(browser_name)
    _, receipt = submit_by_api(client, env, consents=("support",))
    sign_in_with_receipt(browser, env, receipt)
    assert "not paused" in browser.text("pause-status")
    until = datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=14)
    browser.set_date("pause-until", until.isoformat())
    browser.click("pause-contact", "your request after pausing contact")
    assert browser.path == "/your-request"
    assert date_shown(browser.text("pause-status"), until), browser.text("pause-status")
    assert "Paused" in browser.text("pause-status")
    browser.click("resume", "your request after starting contact again")
    assert "not paused" in browser.text("pause-status")
    assert live_scopes(client, env, receipt) == {"support"}, "pausing changed consent"


@pytest.mark.parametrize("browser_name", ["js", "nojs"])
def test_interview_invitation_and_answer(
    browser_name: str, request, env: Environment, client: Client, supervisor_http: Client
) -> None:
    """A reviewer invites from the opened case; the survivor reads the invitation, declines without a
    reason (nothing else changes), changes their mind and says yes with requests; the reviewer sees it."""
    browser: Browser = request.getfixturevalue(browser_name)
    reference, receipt = submit_by_api(client, env, consents=("review", "support"))
    case = f"{env.casework}/cases/{reference}"
    assign = supervisor_http.page(case).form(f"/cases/{reference}/assign").values(staff=INTERVIEWER)
    assert supervisor_http.post_form(f"{case}/assign", assign).status_code == 303

    staff_sign_in(browser, env, INTERVIEWER)
    browser.visit(case, "reviewer case page")
    browser.fill("reason", "To invite them to an interview")
    browser.click("open", "reviewer opened case with the invitation form")
    assert "Declining changes nothing else" in browser.text("invite-guidance")
    purpose = f"To hear your account of what happened, at your own pace ({browser_name})."
    browser.fill("purpose", purpose)
    browser.tick("invite-form-video")
    when = (datetime.datetime.now() + datetime.timedelta(days=7)).replace(hour=10, minute=30)
    browser.set_date("invite-time1", when.strftime("%Y-%m-%dT%H:%M"))
    browser.click("send-invitation", "case page after inviting")
    assert browser.path == f"/cases/{reference}" and "invitation has been sent" in browser.text("notice")
    staff_sign_out(browser)

    sign_in_with_receipt(browser, env, receipt)
    assert "Waiting for your answer" in browser.text("interviews")
    links = browser.driver.find_elements(By.CSS_SELECTOR, '#interviews a[href^="/your-request/interviews/"]')
    assert len(links) == 1, "one invitation is listed"
    browser.click_element(links[0], "an invitation to talk")
    assert purpose in browser.text("invitation") and "(UK time)" in browser.text("invitation")
    assert "You do not need to give a reason" in browser.text("no-pressure")
    browser.click("send-answer", "invitation: no answer chosen")
    assert browser.last_status == 400, f"no answer chosen answered {browser.last_status}"
    assert browser.by_id("error-summary").find_elements(By.CSS_SELECTOR, 'a[href="#action"]')

    browser.tick("action-decline")
    browser.click("send-answer", "invitation after declining")
    assert browser.exists("answered") and "You said no, thank you" in browser.text("state")
    assert live_scopes(client, env, receipt) == {"review", "support"}, "declining changed consent"
    assert [i["state"] for i in survivor_api(client, env, receipt, "/interviews")["interviews"]] == ["declined"]

    # They change their mind: yes, at the time offered, with a supporter and an interpreter.
    browser.tick("action-accept")
    times = browser.driver.find_elements(By.CSS_SELECTOR, 'input[name="time"]')
    assert len(times) == 1
    browser.tick(times[0].get_attribute("id"))
    browser.tick("supporter")
    browser.fill("interpreter", "Urdu")
    browser.click("send-answer", "invitation after saying yes")
    assert "You said yes" in browser.text("state") and browser.exists("withdraw")
    assert "Urdu" in browser.text("invitation")

    staff_sign_in(browser, env, INTERVIEWER)
    browser.visit(case, "reviewer case page again")
    browser.fill("reason", "To read their answer")
    browser.click("open", "reviewer opened case with the answer")
    answer = browser.text("interviews")
    assert "Accepted" in answer and "Urdu" in answer and "supporter" in answer, answer
    staff_sign_out(browser)


def test_caseworker_is_refused_without_consent(
    env: Environment, client: Client, supervisor_http: Client, caseworker_http: Client
) -> None:
    reference, _ = submit_by_api(client, env, consents=())
    case = f"{env.casework}/cases/{reference}"
    assign = supervisor_http.page(case).form(f"/cases/{reference}/assign").values(staff=FORMS_CASEWORKER)
    assert supervisor_http.post_form(f"{case}/assign", assign).status_code == 303
    token = caseworker_http.page(f"{env.casework}/cases").form("/logout").fields["csrf"]
    response = caseworker_http.post_form(f"{case}/open", {"csrf": token, "reason": "Trying without consent"})
    assert response.status_code == 403, response.status_code
    page = parse_html(response.text, f"{case}/open")
    assert "refusal" in page.ids, "the refusal has no id=refusal"
    assert "has not agreed" in page.text, page.text
    assert "Trying without consent" not in page.text and "I would like to talk" not in page.text


def test_privacy_officer_sees_keys(js: Browser, env: Environment) -> None:
    staff_sign_in(js, env, PRIVACY_OFFICER)
    keys_link = js.driver.find_elements(By.CSS_SELECTOR, 'a[href="/keys"]')
    assert keys_link, "no Keys link for the privacy officer"
    js.click_element(keys_link[0], "keys")
    assert js.path == "/keys" and js.last_status == 200
    rows = js.by_id("keys").find_elements(By.CSS_SELECTOR, "tbody tr")
    assert rows, "the key table is empty"
    staff_sign_out(js)


# ================================================================================================
# "Exit this page" from every survivor page
# ================================================================================================


@pytest.fixture(scope="session")
def exit_receipt(env: Environment, findings: Findings) -> str:
    return submit_by_api(Client(env, findings), env, consents=("support",))[1]


def to_start(browser: Browser, env: Environment) -> None:
    browser.visit(f"{env.intake}/", "start")


def to_safety(browser: Browser, env: Environment) -> None:
    browser.visit(f"{env.intake}/safety", "safety")


def to_request_form(browser: Browser, env: Environment) -> None:
    browser.visit(f"{env.intake}/request", "request form")


def to_check_answers(browser: Browser, env: Environment) -> None:
    to_request_form(browser, env)
    fill_request_form(browser, ANSWERS)
    browser.click("continue", "check answers")
    assert browser.h1() == "Check your answers before sending"


def to_confirmation(browser: Browser, env: Environment) -> None:
    to_check_answers(browser, env)
    browser.click("send", "confirmation")
    assert browser.h1() == "Your request has been sent"


def to_return(browser: Browser, env: Environment) -> None:
    browser.visit(f"{env.intake}/return", "return")


def to_your_request(browser: Browser, env: Environment) -> None:
    browser.visit(f"{env.intake}/your-request", "your request")
    assert browser.path == "/your-request"


def to_erase_confirmation(browser: Browser, env: Environment) -> None:
    browser.visit(f"{env.intake}/your-request/erase", "erase confirmation")
    assert browser.path == "/your-request/erase"


def to_error_page(browser: Browser, env: Environment) -> None:
    browser.visit(f"{env.intake}/no-such-page", "error page")
    assert browser.last_status == 404


EXIT_PAGES = {
    "start": to_start,
    "safety": to_safety,
    "request-form": to_request_form,
    "check-answers": to_check_answers,
    "confirmation": to_confirmation,
    "return": to_return,
    "your-request": to_your_request,
    "erase-confirmation": to_erase_confirmation,
    "error-page": to_error_page,
}


@pytest.mark.parametrize("browser_name", ["nojs", "js"])
@pytest.mark.parametrize("page", list(EXIT_PAGES))
def test_exit_this_page(page: str, browser_name: str, request, env: Environment, exit_receipt: str) -> None:
    browser: Browser = request.getfixturevalue(browser_name)
    # A live session that exiting must end. The receipt is typed in small letters: capitals need
    # Shift, which exit.js counts (see test_typing_capital_letters_does_not_exit).
    sign_in_with_receipt(browser, env, exit_receipt.lower())
    EXIT_PAGES[page](browser, env)
    link = browser.by_id("exit-this-page")
    assert link.get_attribute("href").endswith("/exit")
    browser.click("exit-this-page", f"neutral site after exit from {page}")
    assert browser.title == "Weather", f"exit from {page} ended on {browser.url} ({browser.title!r})"
    assert browser.url.startswith(env.exit_url)
    cookies = browser.driver.execute_cdp_cmd("Network.getAllCookies", {})["cookies"]
    assert SURVIVOR_COOKIE not in {c["name"] for c in cookies}, "the survivor cookie survived the exit"
    browser.visit(f"{env.intake}/your-request", f"your request after exit from {page}")
    assert browser.path == "/return", f"/your-request after exiting shows {browser.url}"


def test_typing_capital_letters_does_not_exit(js: Browser, env: Environment) -> None:
    """Shift held down for capital letters must not count towards "press Shift three times"."""
    to_request_form(js, env)
    js.fill("preferredName", "Anna Maria Lee")
    assert js.path == "/request" and js.title != "Weather", "typing a name with capitals left the page"


def test_exit_with_shift_three_times(js: Browser, env: Environment) -> None:
    to_start(js, env)
    ActionChains(js.driver).send_keys(Keys.SHIFT).send_keys(Keys.SHIFT).send_keys(Keys.SHIFT).perform()
    WebDriverWait(js.driver, 10).until(lambda d: d.title == "Weather")
    js.check_page("neutral site after shift three times")


# ================================================================================================
# Every language: the journeys by ids, the layout of every page, and "Exit this page"
# ================================================================================================
#
# Each language is chosen by its link in the header; the browser then checks on every page that
# <html lang dir> is that language (and its layout, at both widths, in check_page). The journeys
# assert structure, ids and statuses, never words: the words differ in every language.


def choose_language(browser: Browser, tag: str, label: str) -> None:
    """Chooses `tag` with the language links of the current page (through Welsh when the page
    is already in that language, so that the link is always clicked) and expects it from now on."""
    path = browser.path
    current = browser.driver.execute_script("return document.documentElement.lang")
    steps = ["cy", tag] if current == tag else [tag]
    for step in steps:
        assert not browser.driver.find_elements(By.CSS_SELECTOR, f'nav.languages a[hreflang="{current}"]'), (
            f"{browser.url}: a link to the language the page is already in ({current})"
        )
        links = browser.driver.find_elements(By.CSS_SELECTOR, f'nav.languages a[hreflang="{step}"]')
        assert len(links) == 1, f"{browser.url}: no language link to {step}"
        assert links[0].get_attribute("lang") == step
        browser.language = (step, LANGUAGES[step])
        browser.click_element(links[0], f"{step} {label}")
        assert browser.path == path, f"the {step} link went to {browser.url}, not back to {path}"
        current = step
    assert LANGUAGE_COOKIE in browser.cookie_names()


def language_runs() -> list:
    """Every language without JavaScript, and right to left with it (the longest-running tests
    run once per entry, so JavaScript gets one language: the one most unlike English)."""
    runs = [pytest.param(tag, "nojs", id=f"{tag}-nojs") for tag in LANGUAGES]
    return runs + [pytest.param("ar-XB", "js", id="ar-XB-js")]


@pytest.mark.parametrize(("tag", "browser_name"), language_runs())
def test_survivor_journey_in_every_language(
    tag: str, browser_name: str, request, env: Environment, client: Client
) -> None:
    browser: Browser = request.getfixturevalue(browser_name)

    def label(words: str) -> str:
        return f"{tag} {words}"

    browser.visit(f"{env.intake}/", f"start before choosing {tag}")
    choose_language(browser, tag, "start")
    assert browser.by_id("start").get_attribute("href").endswith("/request")
    browser.visit(f"{env.intake}/safety", label("safety"))
    browser.visit(f"{env.intake}/transparency", label("transparency"))
    browser.visit(f"{env.intake}/no-such-page", label("error page"))
    assert browser.last_status == 404
    browser.visit(f"{env.intake}/", label("start again"))

    # The form: an empty submit shows the error summary, its links pointing at fields.
    browser.click("start", label("request form"))
    assert browser.path == "/request" and browser.exists("continue")
    browser.click("continue", label("request form with errors"))
    assert browser.last_status == 400, f"empty form answered {browser.last_status}"
    summary = browser.by_id("error-summary")
    assert summary.is_displayed() and summary.get_attribute("role") == "alert"
    links = summary.find_elements(By.TAG_NAME, "a")
    assert links and all(browser.exists(urlsplit(a.get_attribute("href")).fragment) for a in links)

    # Fill, check answers, send.
    fill_request_form(browser, ANSWERS)
    browser.fill("verificationPhrase", f"lantern {tag}")
    browser.click("continue", label("check answers"))
    assert browser.last_status == 200 and browser.exists("send") and browser.exists("change")
    assert ANSWERS["contactValue"] in browser.text()
    browser.click("send", label("receipt"))
    assert browser.last_status == 201, f"send answered {browser.last_status}"
    reference, receipt = browser.text("reference"), browser.text("receipt")
    assert REFERENCE.match(reference) and RECEIPT.match(receipt), (reference, receipt)

    # Come back with the receipt: a new visitor, who chooses the language on the return page.
    browser.fresh()
    browser.visit(f"{env.intake}/return", f"return before choosing {tag}")
    choose_language(browser, tag, "return")
    browser.fill("receipt", receipt.lower())
    browser.click("sign-in", label("your request"))
    assert browser.path == "/your-request" and reference in browser.text()

    # A message to one group: it appears in that conversation only.
    message = f"Evenings are best ({tag})."
    browser.tick("reply-group-support")
    browser.fill("text", message)
    browser.click("send-reply", label("your request after writing to support"))
    assert browser.path == "/your-request"
    assert message in browser.text("conversation-support") and message not in browser.text("conversation-review")

    # Give a consent until a day, withdraw another.
    expiry = datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=60)
    browser.set_date("expires-police", expiry.isoformat())
    browser.click("give-police", label("your request after giving police consent"))
    assert browser.path == "/your-request" and browser.exists("withdraw-police")
    browser.click("withdraw-review", label("your request after withdrawing review consent"))
    assert browser.exists("give-review") and not browser.exists("withdraw-review")
    assert live_scopes(client, env, receipt) == {"support", "police"}

    # Erase, with confirmation.
    browser.click("erase", label("erase confirmation"))
    assert browser.path == "/your-request/erase" and browser.exists("keep")
    browser.click("confirm-erase", label("erased"))
    assert browser.last_status == 200
    browser.visit(f"{env.intake}/your-request", label("your request after erasing"))
    assert browser.path == "/return"
    assert survivor_api(client, env, receipt) is None, "the record still exists after erasing"


# One caseworker per run of the staff journey (run.sh creates them): each signs in for the first
# time, and no two runs wait for the same account's next one-time code.
def language_worker(tag: str, browser_name: str) -> str:
    return f"worker-{tag.lower()}-{browser_name}"


@pytest.mark.parametrize(("tag", "browser_name"), language_runs())
def test_staff_journey_in_every_language(
    tag: str, browser_name: str, request, env: Environment, client: Client, supervisor_http: Client
) -> None:
    browser: Browser = request.getfixturevalue(browser_name)
    username = language_worker(tag, browser_name)
    account = env.staff[username]

    def label(words: str) -> str:
        return f"{tag} staff {words}"

    reference, receipt = submit_by_api(client, env, consents=("support",))
    case = f"{env.casework}/cases/{reference}"
    assign = supervisor_http.page(case).form(f"/cases/{reference}/assign").values(staff=username)
    assert supervisor_http.post_form(f"{case}/assign", assign).status_code == 303

    browser.visit(f"{env.casework}/login", f"staff login before choosing {tag}")
    choose_language(browser, tag, "staff login")
    browser.fill("username", account.username)
    browser.fill("password", account.password)
    browser.click("continue", label("login code"))
    assert browser.path == "/login/code"
    browser.fill("totp", account.one_time_code())
    browser.click("sign-in", label("change password"))
    assert browser.path == "/password", f"a first sign-in must change the password, not {browser.url}"
    password = new_password()
    browser.fill("password", account.password)
    browser.fill("newPassword", password)
    browser.fill("confirmPassword", password)
    browser.click("change-password", label("cases"))
    account.password, account.password_changed = password, True
    assert browser.path == "/cases"

    row = browser.driver.find_elements(By.CSS_SELECTOR, f'#queue a[href="/cases/{reference}"]')
    assert row, f"{reference} is not in {username}'s queue"
    browser.click_element(row[0], label("case"))
    assert browser.path == f"/cases/{reference}" and browser.exists("open")
    browser.fill("reason", f"First contact ({tag})")
    browser.click("open", label("opened case"))
    assert browser.last_status == 200 and browser.exists("request") and browser.exists("messages")
    reply = f"Hello, this is the support team ({tag})."
    browser.fill("text", reply)
    browser.click("send-reply", label("case after reply"))
    assert browser.path == f"/cases/{reference}"
    assert [m["text"] for m in survivor_api(client, env, receipt, "/messages")["messages"]] == [reply]
    staff_sign_out(browser, label("signed out"))
    browser.visit(f"{env.casework}/no-such-page", label("error page"))
    assert browser.last_status == 404


@pytest.mark.parametrize("browser_name", ["nojs", "js"])
@pytest.mark.parametrize("tag", list(LANGUAGES))
def test_exit_this_page_in_every_language(
    tag: str, browser_name: str, request, env: Environment, exit_receipt: str
) -> None:
    """The same link, with the same id, leaves for the neutral site and forgets the session and
    the language, whatever the language."""
    browser: Browser = request.getfixturevalue(browser_name)
    browser.visit(f"{env.intake}/return", f"return before choosing {tag} to exit")
    browser.fill("receipt", exit_receipt.lower())
    browser.click("sign-in", f"your request before choosing {tag} to exit")
    choose_language(browser, tag, "your request to exit")
    assert {SURVIVOR_COOKIE, LANGUAGE_COOKIE} <= browser.cookie_names()
    link = browser.by_id("exit-this-page")
    assert urlsplit(link.get_attribute("href")).path == "/exit"
    browser.click("exit-this-page", f"neutral site after exit in {tag}")
    assert browser.title == "Weather" and browser.url.startswith(env.exit_url), browser.url
    assert not {SURVIVOR_COOKIE, LANGUAGE_COOKIE} & browser.cookie_names(), browser.cookie_names()


@pytest.mark.parametrize("tag", list(LANGUAGES))
def test_exit_with_shift_three_times_in_every_language(tag: str, js: Browser, env: Environment) -> None:
    js.visit(f"{env.intake}/request", f"request form before choosing {tag} to exit")
    choose_language(js, tag, "request form to exit with shift")
    ActionChains(js.driver).send_keys(Keys.SHIFT).send_keys(Keys.SHIFT).send_keys(Keys.SHIFT).perform()
    WebDriverWait(js.driver, 10).until(lambda d: d.title == "Weather")
    js.check_page(f"neutral site after shift three times in {tag}")
    assert LANGUAGE_COOKIE not in js.cookie_names()


# ================================================================================================
# Security headers on every page and asset, and nothing from another origin
# ================================================================================================


def test_security_headers_on_every_page_and_asset(
    env: Environment, client: Client, findings: Findings, supervisor_http: Client
) -> None:
    """GETs every page (signed in where needed) and asset with requests; the client checks the
    headers of each response, redirects and errors included."""
    reference, receipt = submit_by_api(client, env)
    survivor = Client(env, findings)
    form = survivor.page(f"{env.intake}/return").form("/return")
    assert survivor.post_form(f"{env.intake}/return", form.values(receipt=receipt)).status_code == 303
    intake_paths = {
        "/": 200, "/safety": 200, "/request": 200, "/return": 200, "/your-request": 200,
        "/your-request/erase": 200, "/assets/hearth.css": 200, "/assets/exit.js": 200,
        "/healthz": 200, "/api/v1/openapi.json": 200, "/transparency": 200, "/transparency.csv": 200,
        "/api/v1/transparency": 200, "/no-such-page": 404, "/assets/no-such.css": 404,
    }
    for path, status in intake_paths.items():
        response = survivor.get(f"{env.intake}{path}")
        assert response.status_code == status, f"GET intake {path}: {response.status_code}"
    assert survivor.get(f"{env.intake}/exit").status_code == 303

    staff = Client(env, findings)
    casework_before_login = {"/": 303, "/login": 200, "/cases": 303, "/healthz": 200, "/no-such-page": 404,
                             "/assets/hearth.css": 200}
    for path, status in casework_before_login.items():
        response = staff.get(f"{env.casework}{path}")
        assert response.status_code == status, f"GET casework {path} (signed out): {response.status_code}"
    casework_signed_in = {"/": 303, "/cases": 200, f"/cases/{reference}": 200, "/keys": 403, "/no-such-page": 404}
    for path, status in casework_signed_in.items():
        response = supervisor_http.get(f"{env.casework}{path}")
        assert response.status_code == status, f"GET casework {path} (supervisor): {response.status_code}"
    # Refusals by the form reader carry the headers too.
    response = staff.post(f"{env.casework}/login", data="x", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415


def test_pages_load_nothing_from_other_origins(js: Browser, env: Environment) -> None:
    """Visits the pages reachable without signing in with JavaScript on; the browser checks the
    network log, resource timing and the HTML's script/link/img references of each."""
    for path in ("/", "/safety", "/request", "/return", "/no-such-page"):
        js.visit(f"{env.intake}{path}", f"origin check intake {path}")
    for path in ("/login", "/no-such-page"):
        js.visit(f"{env.casework}{path}", f"origin check casework {path}")
    assert any(url.endswith("/assets/hearth.css") for url in js.loaded), "the stylesheet was never seen loading"


def test_tls_is_verified(env: Environment, findings: Findings) -> None:
    """Only the dev certificate's key is trusted: without it, neither Chromium nor requests connect."""
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{env.intake}/healthz", verify=True, timeout=10)
    untrusting = Browser("untrusting", javascript=False, env=env, findings=findings, trust_dev_certificate=False)
    try:
        untrusting.driver.get(f"{env.intake}/")
        assert "Hearth" not in untrusting.title, "Chromium showed the page without trusting the certificate"
        assert "Get in touch" not in untrusting.driver.page_source
    finally:
        untrusting.quit()


def broken_layout(browser: Browser, url: str, script: str) -> tuple[list[str], list[str]]:
    """Loads `url` afresh, breaks its layout with `script` (CSSOM, which the page's CSP allows
    to the driver), and returns the layout problems at the window's width and at a phone's."""
    browser.driver.get(url)
    browser.driver.execute_script(script)
    return layout_problems(browser.driver), layout_problems(browser.driver, width=PHONE_WIDTH)


def test_layout_checks_catch_problems(js: Browser, env: Environment) -> None:
    """The layout checks that run on every page: a page that holds together passes them at both
    widths, and each kind of breakage is caught (the start page, broken on purpose)."""
    start = f"{env.intake}/"
    assert broken_layout(js, start, "") == ([], [])
    wide, _ = broken_layout(js, start, "document.querySelector('main p').style.inlineSize = '3000px';")
    assert any("scrolls sideways" in p for p in wide), wide
    _, narrow = broken_layout(js, start, "document.querySelector('main p').style.minInlineSize = '500px';")
    assert any("scrolls sideways" in p for p in narrow), narrow
    clipped, _ = broken_layout(
        js, start, "var h = document.querySelector('h1'); h.style.overflow = 'hidden'; h.style.whiteSpace = 'nowrap';"
        "h.style.width = '5em';"
    )
    assert any("h1" in p and "clips its text" in p for p in clipped), clipped
    overlapping, _ = broken_layout(
        js, start, "var b = document.getElementById('start'), h = document.querySelector('h1');"
        "b.style.position = 'relative';"
        "b.style.top = (h.getBoundingClientRect().top - b.getBoundingClientRect().top) + 'px';"
    )
    assert any("a#start overlaps h1" in p or "overlaps a#start" in p for p in overlapping), overlapping

    # Right to left: the same page mirrors and passes; a header, text or box that does not
    # mirror is caught.
    js.visit(start, "layout check start")
    choose_language(js, "ar-XB", "layout check start")
    assert broken_layout(js, start, "") == ([], [])
    header, _ = broken_layout(js, start, "document.querySelector('header').style.direction = 'ltr';")
    assert any("service name is not at the right" in p for p in header), header
    assert any('"Exit this page" is not to the left' in p for p in header), header
    aligned, _ = broken_layout(js, start, "document.querySelector('main').style.textAlign = 'left';")
    assert any("does not start at the right" in p for p in aligned), aligned
    # Sticking out on the start side of a right-to-left page, where the page cannot scroll to.
    hidden, _ = broken_layout(js, start, "document.querySelector('main p').style.marginRight = '-400px';")
    assert any("sticks out of the window" in p for p in hidden), hidden

    # The language check: a page in another language than the one chosen is a finding.
    findings, js.findings = js.findings, Findings()
    try:
        js.language = ("cy", "ltr")
        js._check_language()
        assert js.findings.items and "expected ('cy', 'ltr')" in js.findings.items[0], js.findings.items
    finally:
        js.findings, js.language = findings, None


def test_harness_checks_catch_problems(js: Browser, env: Environment) -> None:
    """The checks themselves: a bad header set and an inaccessible page must be caught."""
    problems = security_header_problems(
        {"Content-Security-Policy": "default-src *; script-src 'self' 'unsafe-inline'", "Cache-Control": "max-age=60"}
    )
    assert len(problems) == 7, problems
    html = "<html><head><title>t</title></head><body><main><img src='/x.png'><input type='text'></main></body></html>"
    found = {violation["id"] for violation in js.run_axe_on_copy(html, f"{env.intake}/")}
    assert {"image-alt", "label", "html-has-lang"} <= found, found


# ================================================================================================
# CSRF: every form refuses a post without its token or with a wrong one, and nothing changes
# ================================================================================================


def foreign_token(env: Environment, findings: Findings, base: str) -> str:
    """A genuine csrf token, but one issued to another browser (another form cookie)."""
    path = "/return" if base == env.intake else "/login"
    return Client(env, findings).page(f"{base}{path}").form(path).fields["csrf"][0]


def assert_refused(client: Client, env: Environment, findings: Findings, path_url: str, values: dict) -> None:
    """Posts the form's `values` without a csrf field, with a made-up one and with another
    browser's; each must be refused with 403 without touching any session cookie."""
    base = origin(path_url)
    tokens = {"no": None, "a made-up": "A" * 43, "another browser's": foreign_token(env, findings, base)}
    for label, token in tokens.items():
        sent = {name: value for name, value in values.items() if name != "csrf"}
        if token is not None:
            sent["csrf"] = [token]
        response = client.post_form(path_url, sent)
        assert response.status_code == 403, f"POST {path_url} with {label} csrf token: {response.status_code}"
        set_cookie = response.headers.get("Set-Cookie", "")
        assert SURVIVOR_COOKIE not in set_cookie and STAFF_COOKIE not in set_cookie, (
            f"POST {path_url} with {label} csrf token touched a session cookie: {set_cookie}"
        )


VALID_ANSWERS = {
    "preferredName": "Jo",
    "contactMethod": "phone",
    "contactValue": "+44 7700 900123",
    "wants": "support",
    "account": "Please call me.",
    "consent": ["support"],
}


@pytest.fixture
def survivor(env: Environment, findings: Findings):
    """A survivor with `support` and `review` consents, signed in with requests:
    (client, receipt)."""
    client = Client(env, findings)
    _, receipt = submit_by_api(client, env, consents=("support", "review"))
    form = client.page(f"{env.intake}/return").form("/return")
    response = client.post_form(f"{env.intake}/return", form.values(receipt=receipt))
    assert response.status_code == 303 and response.headers["Location"].endswith("/your-request")
    cookie = next((c for c in response.raw.headers.getlist("Set-Cookie") if c.startswith(f"{SURVIVOR_COOKIE}=")), None)
    assert cookie, "no survivor cookie after signing in"
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")[1:]}
    assert {"secure", "httponly", "path"} <= set(attributes), cookie
    assert attributes["path"].lower() == "path=/", cookie
    assert attributes.get("samesite", "").lower() == "samesite=strict", cookie
    assert "expires" not in attributes and "max-age" not in attributes, f"not a session cookie: {cookie}"
    return client, receipt


def test_csrf_request_and_send(env: Environment, findings: Findings, client: Client) -> None:
    form = client.page(f"{env.intake}/request").form("/request")
    answers = form.values(**VALID_ANSWERS)
    assert_refused(client, env, findings, f"{env.intake}/request", answers)
    response = client.post_form(f"{env.intake}/request", answers)
    assert response.status_code == 200 and "Check your answers" in response.text

    check = parse_html(response.text, f"{env.intake}/request")
    assert_refused(client, env, findings, f"{env.intake}/request/edit", check.form("/request/edit").values())
    send = check.form("/request/send")
    assert_refused(client, env, findings, f"{env.intake}/request/send", send.values())
    # The one-time token still works, so none of the refused posts sent anything.
    response = client.post_form(f"{env.intake}/request/send", send.values())
    assert response.status_code == 201, response.status_code
    replay = client.post_form(f"{env.intake}/request/send", send.values())
    assert replay.status_code == 409 and "already sent" in replay.text


def test_csrf_return(env: Environment, findings: Findings, client: Client) -> None:
    _, receipt = submit_by_api(client, env)
    form = client.page(f"{env.intake}/return").form("/return")
    assert_refused(client, env, findings, f"{env.intake}/return", form.values(receipt=receipt))
    assert client.cookie(SURVIVOR_COOKIE) is None
    response = client.get(f"{env.intake}/your-request")
    assert response.status_code == 303 and response.headers["Location"].endswith("/return")


def test_csrf_survivor_message(env: Environment, findings: Findings, survivor) -> None:
    client, receipt = survivor
    form = client.page(f"{env.intake}/your-request").form("/your-request/messages")
    text = "This message was forged and must not arrive"
    assert_refused(client, env, findings, f"{env.intake}/your-request/messages", form.values(group="support", text=text))
    assert text not in client.page(f"{env.intake}/your-request").text
    assert survivor_api(client, env, receipt, "/messages")["messages"] == []


def test_csrf_give_and_withdraw_consent(env: Environment, findings: Findings, survivor) -> None:
    client, receipt = survivor
    page = client.page(f"{env.intake}/your-request")
    give = page.form("/your-request/consents/give", scope="police")
    withdraw = page.form("/your-request/consents/withdraw", scope="support")
    assert_refused(client, env, findings, f"{env.intake}/your-request/consents/give", give.values())
    assert_refused(client, env, findings, f"{env.intake}/your-request/consents/withdraw", withdraw.values())
    assert live_scopes(client, env, receipt) == {"support", "review"}


def test_csrf_erase_and_leave(env: Environment, findings: Findings, survivor) -> None:
    client, receipt = survivor
    erase = client.page(f"{env.intake}/your-request/erase").form("/your-request/erase")
    assert_refused(client, env, findings, f"{env.intake}/your-request/erase", erase.values())
    leave = client.page(f"{env.intake}/your-request").form("/leave")
    assert_refused(client, env, findings, f"{env.intake}/leave", leave.values())
    assert survivor_api(client, env, receipt) is not None, "the record was erased"
    assert client.get(f"{env.intake}/your-request").status_code == 200, "the session ended"
    # With the token, leaving works and ends the session.
    response = client.post_form(f"{env.intake}/leave", leave.values())
    assert response.status_code == 303 and urlsplit(response.headers["Location"]).path == "/"
    assert client.get(f"{env.intake}/your-request").status_code == 303


def test_csrf_staff_sign_in_password_and_sign_out(env: Environment, findings: Findings, client: Client) -> None:
    account = env.staff[FORMS_REVIEWER]
    login = client.page(f"{env.casework}/login").form("/login")
    credentials = login.values(username=account.username, password=account.password)
    assert_refused(client, env, findings, f"{env.casework}/login", credentials)
    response = client.post_form(f"{env.casework}/login", credentials)
    assert response.status_code == 303 and response.headers["Location"].endswith("/login/code")

    form = client.page(f"{env.casework}/login/code").form("/login/code")
    code = form.values(totp=account.one_time_code())
    assert_refused(client, env, findings, f"{env.casework}/login/code", code)
    assert client.cookie(STAFF_COOKIE) is None
    # The refused posts did not use up the code.
    response = client.post_form(f"{env.casework}/login/code", code)
    assert response.status_code == 303 and response.headers["Location"].endswith("/password"), response.status_code

    form = client.page(f"{env.casework}/password").form("/password")
    password = new_password()
    change = form.values(password=account.password, newPassword=password, confirmPassword=password)
    assert_refused(client, env, findings, f"{env.casework}/password", change)
    response = client.get(f"{env.casework}/cases")
    assert response.status_code == 303 and response.headers["Location"].endswith("/password"), "change not required"
    # The current password is still the first one.
    response = client.post_form(f"{env.casework}/password", change)
    assert response.status_code == 303 and response.headers["Location"].endswith("/cases"), response.status_code
    account.password, account.password_changed = password, True

    logout = client.page(f"{env.casework}/cases").form("/logout")
    assert_refused(client, env, findings, f"{env.casework}/logout", logout.values())
    assert client.get(f"{env.casework}/cases").status_code == 200, "the refused sign-out ended the session"
    response = client.post_form(f"{env.casework}/logout", logout.values())
    assert response.status_code == 303 and response.headers["Location"].endswith("/login")
    assert client.get(f"{env.casework}/cases").status_code == 303


def test_csrf_case_forms(
    env: Environment, findings: Findings, client: Client, supervisor_http: Client, caseworker_http: Client
) -> None:
    reference, receipt = submit_by_api(client, env, consents=("support",))
    case = f"{env.casework}/cases/{reference}"
    supervisor, caseworker = supervisor_http, caseworker_http
    assign = supervisor.page(case).form(f"/cases/{reference}/assign").values(staff=FORMS_CASEWORKER)
    assert_refused(supervisor, env, findings, f"{case}/assign", assign)
    assert FORMS_CASEWORKER not in queue_row_text(supervisor, env, reference), "the refused assignment happened"
    assert supervisor.post_form(f"{case}/assign", assign).status_code == 303
    assert FORMS_CASEWORKER in queue_row_text(supervisor, env, reference)

    opening = caseworker.page(case).form(f"/cases/{reference}/open").values(reason="Checking the forms")
    assert_refused(caseworker, env, findings, f"{case}/open", opening)
    assert survivor_api(client, env, receipt, "/access")["access"] == [], "a refused opening was logged"
    response = caseworker.post_form(f"{case}/open", opening)
    assert response.status_code == 200
    opened = parse_html(response.text, f"{case}/open")
    assert len(survivor_api(client, env, receipt, "/access")["access"]) == 1

    reply = opened.form(f"/cases/{reference}/replies").values(text="A forged reply that must not arrive")
    assert_refused(caseworker, env, findings, f"{case}/replies", reply)
    assert survivor_api(client, env, receipt, "/messages")["messages"] == [], "a refused reply arrived"

    status = opened.form(f"/cases/{reference}/status")
    assert "closed" in status.selects["status"]
    assert_refused(caseworker, env, findings, f"{case}/status", status.values(status="closed"))
    assert survivor_api(client, env, receipt)["status"] == "new", "a refused status change happened"
