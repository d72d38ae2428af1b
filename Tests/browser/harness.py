"""Harness for Hearth's real-browser tests.

Tests/browser/run.sh starts the service and a neutral "Weather" site, creates staff, and passes
everything here through the environment. This module holds what the tests stand on:

- ``Environment``: the listeners' addresses, the dev certificate, the exit URL, the staff.
- ``StaffAccount``: credentials and RFC 6238 one-time codes, each 30 s step used at most once.
- ``Findings``: problems seen on the way (headers, origins, axe-core), reported per test.
- ``Client``: a requests session that trusts only the dev certificate and checks the security
  headers of every response it gets from Hearth.
- ``Browser``: headless Chromium (JavaScript on or off) that trusts exactly the dev certificate's
  key, and checks every page it lands on: screenshot, axe-core, same-origin loads, headers, the
  layout at a desktop and a phone width (``layout_problems``), and the page's language.
- ``parse_html``: forms, ids and loaded resources of a page, for tests that post with requests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import struct
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

import axe_selenium_python
import requests
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service as ChromeService
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait


AXE_SCRIPT = Path(axe_selenium_python.__file__).parent / "node_modules" / "axe-core" / "axe.min.js"


WINDOW = (1280, 1000)
PHONE_WIDTH = 360  # CSS pixels: a small phone held upright


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# --- the running service ---------------------------------------------------------------------


@dataclass
class StaffAccount:
    """A member of staff created by run.sh with `hearth staff add --json`."""

    username: str
    role: str
    password: str
    totp_secret: str
    password_changed: bool = False  # the one from `staff add` must be changed at first sign-in
    last_step: int | None = None

    def one_time_code(self) -> str:
        """A code for a 30-second step this account has not used yet; waits for the next step
        when the current one was already used (the service accepts each code once)."""
        step = int(time.time()) // 30
        if self.last_step is not None and step <= self.last_step:
            step = self.last_step + 1
            time.sleep(max(0.0, step * 30 - time.time()) + 0.2)
        self.last_step = step
        return totp(self.totp_secret, step)


def totp(secret: str, step: int) -> str:
    """RFC 6238 one-time code: HMAC-SHA-1 over the 30-second step counter, 6 digits."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


@dataclass
class Environment:
    """What run.sh started, read from HEARTH_* environment variables."""

    intake: str
    casework: str
    certificate: str
    exit_url: str
    artifacts: Path
    staff: dict[str, StaffAccount]

    @classmethod
    def from_environment(cls) -> Environment:
        staff = {}
        for path in sorted(Path(os.environ["HEARTH_STAFF_DIR"]).glob("*.json")):
            record = json.loads(path.read_text())
            staff[record["username"]] = StaffAccount(
                record["username"], record["role"], record["password"], record["totpSecret"]
            )
        return cls(
            intake=os.environ["HEARTH_INTAKE"].rstrip("/"),
            casework=os.environ["HEARTH_CASEWORK"].rstrip("/"),
            certificate=os.environ["HEARTH_CERTIFICATE"],
            exit_url=os.environ["HEARTH_EXIT_URL"],
            artifacts=Path(os.environ["HEARTH_ARTIFACTS"]),
            staff=staff,
        )

    @property
    def hearth_origins(self) -> set[str]:
        return {origin(self.intake), origin(self.casework)}

    def certificate_spki_hash(self) -> str:
        """Base64 SHA-256 of the certificate's SubjectPublicKeyInfo, as Chromium's
        --ignore-certificate-errors-spki-list expects."""
        pem = subprocess.run(
            ["openssl", "x509", "-in", self.certificate, "-pubkey", "-noout"],
            check=True, capture_output=True,
        ).stdout
        der = subprocess.run(
            ["openssl", "pkey", "-pubin", "-outform", "DER"], input=pem, check=True, capture_output=True
        ).stdout
        return base64.b64encode(hashlib.sha256(der).digest()).decode()


# --- findings ----------------------------------------------------------------------------------


class Findings:
    """Problems noticed while tests run (a header missing, a load from another origin, a serious
    axe-core violation). Each is reported once; the tests' autouse fixture fails the test during
    which a finding was made."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self._seen: set[str] = set()

    def add(self, kind: str, message: str) -> None:
        text = f"[{kind}] {message}"
        if text not in self._seen:
            self._seen.add(text)
            self.items.append(text)


def security_header_problems(headers) -> list[str]:
    """What is wrong with a response's security headers (empty when all is well)."""
    h = {name.lower(): value for name, value in headers.items()}
    problems = []
    csp = h.get("content-security-policy", "")
    directives = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    if directives.get("default-src") != ["'self'"]:
        problems.append(f"CSP default-src is not 'self' (CSP: {csp!r})")
    if directives.get("frame-ancestors") != ["'none'"]:
        problems.append(f"CSP frame-ancestors is not 'none' (CSP: {csp!r})")
    if "unsafe-inline" in csp or "unsafe-eval" in csp:
        problems.append(f"CSP allows unsafe-inline/unsafe-eval (CSP: {csp!r})")
    if h.get("referrer-policy", "").strip().lower() != "no-referrer":
        problems.append(f"Referrer-Policy is {h.get('referrer-policy')!r}")
    if h.get("x-content-type-options", "").strip().lower() != "nosniff":
        problems.append(f"X-Content-Type-Options is {h.get('x-content-type-options')!r}")
    hsts = re.search(r"max-age=(\d+)", h.get("strict-transport-security", ""))
    if not hsts or int(hsts.group(1)) <= 0:
        problems.append(f"Strict-Transport-Security is {h.get('strict-transport-security')!r}")
    if "no-store" not in h.get("cache-control", "").lower():
        problems.append(f"Cache-Control is {h.get('cache-control')!r}")
    return problems


# --- HTTP client --------------------------------------------------------------------------------


class Client(requests.Session):
    """A requests session that verifies TLS against the dev certificate only, does not follow
    redirects unless asked, and checks the security headers of every response from Hearth."""

    def __init__(self, env: Environment, findings: Findings) -> None:
        super().__init__()
        self.env = env
        self.findings = findings
        self.verify = env.certificate
        self.trust_env = False  # no proxies, and no CA bundle from the environment overriding `verify`
        self.hooks["response"].append(self._check_headers)

    def _check_headers(self, response: requests.Response, *args, **kwargs) -> None:
        if origin(response.url) not in self.env.hearth_origins:
            return
        for problem in security_header_problems(response.headers):
            self.findings.add(
                "headers", f"{response.request.method} {response.url} ({response.status_code}): {problem}"
            )

    def request(self, method, url, *args, **kwargs):
        kwargs.setdefault("allow_redirects", False)
        kwargs.setdefault("timeout", 30)
        return super().request(method, url, *args, **kwargs)

    def get(self, url, **kwargs):
        kwargs.setdefault("allow_redirects", False)  # Session.get would follow redirects
        return super().get(url, **kwargs)

    def post_form(self, url: str, values: dict[str, list[str]]) -> requests.Response:
        """Posts form fields as a browser does: urlencoded, with the content type even when empty."""
        return self.post(
            url,
            data=urlencode(values, doseq=True),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

    def page(self, url: str) -> Page:
        """GETs a page that must answer 200 and parses it."""
        response = self.get(url)
        assert response.status_code == 200, f"GET {url}: {response.status_code}"
        return parse_html(response.text, url)

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.cookies if c.name == name), None)


# --- HTML parsing --------------------------------------------------------------------------------


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, list[str]] = field(default_factory=dict)
    selects: dict[str, list[str]] = field(default_factory=dict)
    button_ids: list[str] = field(default_factory=list)

    def values(self, **changes: str | list[str]) -> dict[str, list[str]]:
        """The fields as the browser would send them, with `changes` applied."""
        sent = {name: list(values) for name, values in self.fields.items()}
        for name, value in changes.items():
            sent[name] = value if isinstance(value, list) else [value]
        return sent


@dataclass
class Page:
    url: str
    title: str = ""
    h1: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    forms: list[Form] = field(default_factory=list)
    loads: list[tuple[str, str]] = field(default_factory=list)  # (tag, absolute URL)
    text: str = ""

    def form(self, action: str, **hidden: str) -> Form:
        """The first form posting to `action` whose fields include the `hidden` values."""
        matches = [
            f for f in self.forms
            if urlsplit(f.action).path == action and all(f.fields.get(k) == [v] for k, v in hidden.items())
        ]
        actions = [f.action for f in self.forms]
        assert matches, f"{self.url}: no form posting to {action} {hidden or ''} (forms: {actions})"
        return matches[0]

    def has_form(self, action: str) -> bool:
        return any(urlsplit(f.action).path == action for f in self.forms)


class _PageParser(HTMLParser):
    def __init__(self, page: Page) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.form: Form | None = None
        self.select: str | None = None
        self.textarea: str | None = None
        self.capture: str | None = None  # "title" or "h1"
        self.buffer = ""
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if "id" in a:
            self.page.ids.add(a["id"])
        url = {"script": a.get("src"), "img": a.get("src"), "iframe": a.get("src"), "link": a.get("href")}.get(tag)
        if url:
            self.page.loads.append((tag, urljoin(self.page.url, url)))
        if tag in ("title", "h1"):
            self.capture, self.buffer = tag, ""
        elif tag == "form":
            self.form = Form(urljoin(self.page.url, a.get("action", "")), a.get("method", "get").lower())
            self.page.forms.append(self.form)
        elif self.form is not None and "name" in a and tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                self.form.fields.setdefault(a["name"], [])
                if "checked" in a:
                    self.form.fields[a["name"]].append(a.get("value", "on"))
            elif kind not in ("submit", "button", "image", "reset"):
                self.form.fields.setdefault(a["name"], []).append(a.get("value", ""))
        elif self.form is not None and tag == "select" and "name" in a:
            self.select = a["name"]
            self.form.fields[self.select] = []
            self.form.selects[self.select] = []
        elif self.form is not None and tag == "option" and self.select is not None:
            value = a.get("value", "")
            self.form.selects[self.select].append(value)
            if "selected" in a:
                self.form.fields[self.select] = [value]
        elif self.form is not None and tag == "textarea" and "name" in a:
            self.textarea = a["name"]
            self.form.fields[self.textarea] = [""]
        if self.form is not None and tag == "button" and "id" in a:
            self.form.button_ids.append(a["id"])

    def handle_endtag(self, tag):
        if tag == self.capture:
            text = " ".join(self.buffer.split())
            if tag == "title":
                self.page.title = text
            else:
                self.page.h1.append(text)
            self.capture = None
        elif tag == "form":
            self.form = None
        elif tag == "select":
            if self.form is not None and self.select and not self.form.fields[self.select]:
                options = self.form.selects[self.select]
                self.form.fields[self.select] = options[:1]
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data):
        if self.capture:
            self.buffer += data
        if self.textarea and self.form is not None:
            self.form.fields[self.textarea][-1] += data
        self.text.append(data)


def parse_html(html: str, url: str) -> Page:
    page = Page(url)
    parser = _PageParser(page)
    parser.feed(html)
    parser.close()
    page.text = " ".join("".join(parser.text).split())
    return page


# --- browsers ------------------------------------------------------------------------------------


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]


class Browser:
    """Headless Chromium through chromedriver, with a fresh profile.

    TLS is verified: only the dev certificate's public key is trusted, through
    --ignore-certificate-errors-spki-list (not --ignore-certificate-errors). Every page reached
    by `visit` or `click` is checked (see `check_page`)."""

    counter = 0  # screenshots are numbered across both browsers, in the order taken

    def __init__(
        self, name: str, javascript: bool, env: Environment, findings: Findings, trust_dev_certificate: bool = True
    ) -> None:
        self.name = name
        self._axe_host: Browser | None = None
        self.javascript = javascript
        self.env = env
        self.findings = findings
        self.profile = tempfile.TemporaryDirectory(prefix=f"hearth-chromium-{name}-")
        options = webdriver.ChromeOptions()
        options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
        for argument in (
            "--headless=new",
            "--no-sandbox",  # CI runs as root
            "--disable-dev-shm-usage",
            f"--user-data-dir={self.profile.name}",
            f"--window-size={WINDOW[0]},{WINDOW[1]}",
            "--lang=en-GB",
            "--no-first-run",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-sync",
            "--disable-component-update",
            "--disable-default-apps",
        ):
            options.add_argument(argument)
        if trust_dev_certificate:
            options.add_argument(f"--ignore-certificate-errors-spki-list={env.certificate_spki_hash()}")
        if not javascript:
            options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
        service = ChromeService(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
        self.driver = webdriver.Chrome(service=service, options=options)
        self.driver.set_page_load_timeout(30)
        self.last_status: int | None = None
        self.loaded: list[str] = []  # every URL requested since the last fresh start
        self.scripts_loaded: list[str] = []
        # The (lang, dir) every Hearth page must have until the next fresh start; None: not checked.
        self.language: tuple[str, str] | None = None

    def quit(self) -> None:
        if self._axe_host:
            self._axe_host.quit()
        self.driver.quit()
        self.profile.cleanup()

    # navigation

    def fresh(self) -> None:
        """Forgets every cookie (a new visitor) and starts from a blank page."""
        self.driver.get("about:blank")
        self.driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
        self.driver.get_log("performance")
        self.loaded.clear()
        self.scripts_loaded.clear()
        self.language = None

    def cookie_names(self) -> set[str]:
        """The names of every cookie the browser holds, HttpOnly ones included."""
        return {c["name"] for c in self.driver.execute_cdp_cmd("Network.getAllCookies", {})["cookies"]}

    def visit(self, url: str, label: str) -> None:
        self.driver.get(url)
        self.check_page(label)

    def click(self, element_id: str, label: str) -> None:
        """Clicks the element with this id (a link or a submit button), then checks the page."""
        self.click_element(self.by_id(element_id), label)

    def click_element(self, element: WebElement, label: str) -> None:
        element.click()
        # chromedriver waits for the navigation a click starts; this covers the page's subresources.
        WebDriverWait(self.driver, 15, poll_frequency=0.05).until(
            lambda d: d.execute_script("return document.readyState") == "complete"
        )
        self.check_page(label)

    @property
    def url(self) -> str:
        return self.driver.current_url

    @property
    def path(self) -> str:
        return urlsplit(self.driver.current_url).path

    @property
    def title(self) -> str:
        return self.driver.title

    # reading and filling

    def by_id(self, element_id: str) -> WebElement:
        return self.driver.find_element(By.ID, element_id)

    def exists(self, element_id: str) -> bool:
        return bool(self.driver.find_elements(By.ID, element_id))

    def text(self, element_id: str | None = None) -> str:
        element = self.by_id(element_id) if element_id else self.driver.find_element(By.TAG_NAME, "body")
        return " ".join(element.text.split())

    def h1(self) -> str:
        headings = self.driver.find_elements(By.TAG_NAME, "h1")
        assert len(headings) == 1, f"{self.url}: expected exactly one <h1>, found {len(headings)}"
        return " ".join(headings[0].text.split())

    def field(self, name: str) -> WebElement:
        try:
            return self.driver.find_element(By.NAME, name)
        except NoSuchElementException:
            raise AssertionError(f"{self.url}: no field named {name!r}") from None

    def fill(self, name: str, value: str) -> None:
        """Types into a field like a person (capital letters with Shift)."""
        before = self.url
        element = self.field(name)
        element.clear()
        try:
            element.send_keys(value)
        except StaleElementReferenceException:
            if self.url == before:
                raise
        assert self.url == before, f"typing {value!r} into {name} left {before} for {self.url}"

    def set_date(self, element_id: str, iso_date: str) -> None:
        """Sets a type=date input. Typing into Chromium's date widget depends on the locale, so
        the value is set directly (the browser still submits it through the form)."""
        element = self.by_id(element_id)
        self.driver.execute_script("arguments[0].value = arguments[1]", element, iso_date)
        assert element.get_attribute("value") == iso_date

    def tick(self, element_id: str) -> None:
        element = self.by_id(element_id)
        if not element.is_selected():
            element.click()
        assert element.is_selected(), f"{element_id} did not get ticked"

    def choose(self, name: str, value: str) -> None:
        Select(self.field(name)).select_by_value(value)

    # checks on every page

    def check_page(self, label: str) -> None:
        """Screenshot; then, for Hearth's pages: the network log (statuses, headers, origins),
        the markup (resource references, one <h1>, the exit link), the language (when one was
        chosen), the layout at a desktop and a phone width, and axe-core."""
        self._screenshot(label)
        self._read_network_log()
        if origin(self.url) not in self.env.hearth_origins:
            return
        self._check_markup()
        self._check_language()
        self._check_layout(label)
        if self.javascript:
            self._check_resource_timing()
        self._run_axe(label)

    def _check_language(self) -> None:
        if self.language is None:
            return
        found = tuple(self.driver.execute_script(
            "return [document.documentElement.lang, document.documentElement.dir]"
        ))
        if found != self.language:
            self.findings.add("language", f"{self.url}: <html lang dir> is {found}, expected {self.language}")

    def _check_layout(self, label: str) -> None:
        """The layout at the window's width (with the header's and the text's direction) and at a
        phone's width (see `layout_problems`); once a language is chosen, a screenshot at the
        phone's width too."""
        for problem in layout_problems(self.driver):
            self.findings.add("layout", f"{self.name}/{label} ({self.url}), {WINDOW[0]} px wide: {problem}")
        phone_shot = self._screenshot_path(f"{label} phone") if self.language else None
        for problem in layout_problems(self.driver, width=PHONE_WIDTH, screenshot=phone_shot):
            self.findings.add("layout", f"{self.name}/{label} ({self.url}), {PHONE_WIDTH} px wide: {problem}")

    def _screenshot_path(self, label: str) -> Path:
        """The next screenshot's file: NNN-BROWSER-LABEL.png."""
        Browser.counter += 1
        directory = self.env.artifacts / "screenshots"
        directory.mkdir(parents=True, exist_ok=True)
        return directory / f"{Browser.counter:03d}-{self.name}-{slug(label)}.png"

    def _screenshot(self, label: str) -> None:
        """Saves the whole page as NNN-BROWSER-LABEL.png (the window grows to the page's height
        for the shot; CDP's captureBeyondViewport hangs now and then in headless Chromium)."""
        path = self._screenshot_path(label)
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        tall = height > WINDOW[1]
        if tall:
            self.driver.set_window_size(WINDOW[0], min(height, 6000))
        self.driver.save_screenshot(str(path))
        if tall:
            self.driver.set_window_size(*WINDOW)

    def _read_network_log(self) -> None:
        """Reads Chromium's performance log since the last page: the status of the page's own
        response, the security headers of every response (redirects included) from Hearth, and
        that nothing a Hearth page loads comes from another origin."""
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            method, params = message["method"], message.get("params", {})
            if method == "Network.requestWillBeSent":
                url = params["request"]["url"]
                if not url.startswith(("http:", "https:")):
                    continue  # Chromium's own pages and icons (about:, chrome:, data: in its date picker)
                self.loaded.append(url)
                document = params.get("documentURL", "")
                if (
                    params.get("type") != "Document"
                    and origin(document) in self.env.hearth_origins
                    and origin(url) != origin(document)
                ):
                    self.findings.add("origin", f"{document} loaded {url} ({params.get('type')})")
                redirect = params.get("redirectResponse")
                if redirect:
                    self._check_response(redirect)
            elif method == "Network.responseReceived":
                response = params["response"]
                if params.get("type") == "Document":
                    self.last_status = response["status"]
                if params.get("type") == "Script":
                    self.scripts_loaded.append(response["url"])
                self._check_response(response)

    def _check_response(self, response: dict) -> None:
        if origin(response["url"]) not in self.env.hearth_origins:
            return
        for problem in security_header_problems(response.get("headers", {})):
            self.findings.add("headers", f"{response['url']} ({response['status']}): {problem}")

    def _check_markup(self) -> None:
        """The page's HTML: script/link/img/iframe only from its own origin, exactly one <h1>,
        and on survivor pages the "Exit this page" link."""
        page = parse_html(self.driver.page_source, self.url)
        for tag, url in page.loads:
            if origin(url) != origin(self.url):
                self.findings.add("origin", f"{self.url}: <{tag}> refers to {url}")
        if len(page.h1) != 1:
            self.findings.add("markup", f"{self.url}: {len(page.h1)} <h1> elements, expected one")
        if origin(self.url) == origin(self.env.intake):
            exits = self.driver.find_elements(By.ID, "exit-this-page")
            if len(exits) != 1 or urlsplit(exits[0].get_attribute("href")).path != "/exit":
                self.findings.add("markup", f"{self.url}: no <a id=\"exit-this-page\" href=\"/exit\">")

    def _check_resource_timing(self) -> None:
        entries = self.driver.execute_script(
            "return performance.getEntriesByType('resource').map(function (e) { return e.name; })"
        )
        for url in entries:
            if origin(url) != origin(self.url):
                self.findings.add("origin", f"{self.url}: resource timing lists {url}")

    def _run_axe(self, label: str) -> None:
        """Runs axe-core on the page. Without JavaScript the page's timers never fire, and axe-core
        needs them, so a JavaScript browser analyses a copy of this page's DOM instead (scripts
        removed), shown on the same origin so that the same stylesheet and CSP apply."""
        if self.javascript:
            violations = run_axe(self.driver)
        else:
            if self._axe_host is None:
                self._axe_host = Browser(f"{self.name}-axe", javascript=True, env=self.env, findings=self.findings)
            violations = self._axe_host.run_axe_on_copy(self.driver.page_source, self.url)
        report = self.env.artifacts / "axe-report.txt"
        with report.open("a") as out:
            for violation in violations:
                targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]]
                line = (
                    f"{violation['impact']}: {violation['id']} on {self.name}/{label} ({self.url}): "
                    f"{violation['help']} — {', '.join(targets[:5])}"
                )
                out.write(line + "\n")
                if violation["impact"] in ("serious", "critical"):
                    self.findings.add("axe", line)

    def run_axe_on_copy(self, html: str, url: str) -> list[dict]:
        self.driver.get(f"{origin(url)}/axe-copy-of{urlsplit(url).path}")  # any page of that origin
        self.driver.execute_script(
            """
            var copy = new DOMParser().parseFromString(arguments[0], 'text/html');
            copy.querySelectorAll('script').forEach(function (s) { s.remove(); });
            document.open();
            document.write('<!doctype html>' + copy.documentElement.outerHTML);
            document.close();
            """,
            html,
        )
        WebDriverWait(self.driver, 10, poll_frequency=0.05).until(
            lambda d: d.execute_script(
                """
                if (document.readyState !== 'complete') return false;
                var links = document.querySelectorAll('link[rel=stylesheet]');
                return Array.prototype.every.call(links, function (l) { return l.sheet && l.sheet.cssRules; });
                """
            )
        )
        self.driver.get_log("performance")
        return run_axe(self.driver)


def layout_problems(driver, width: int | None = None, screenshot: Path | None = None) -> list[str]:
    """What does not hold together on the driver's current page (empty when all is well):

    - the page is wider than the window (it scrolls sideways), or text sticks out of it;
    - text is clipped: an element with overflow hidden or clip whose content is larger than it;
    - visible buttons, links, form fields, labels and h1-h3 overlap one another;
    - text in main does not start on the side the page's direction starts on (left for
      left-to-right, right for right-to-left), and the header does not follow the direction:
      the service name at the start, "Exit this page" after it (checked at the window's width
      only: at a phone's width the header wraps).

    With `width`, the page is laid out that many CSS pixels wide (Chromium's device metrics
    override, undone afterwards), the direction checks are left out, and with `screenshot` the
    whole page at that width is saved there."""

    def lay_out(height: int) -> None:
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )

    if width is not None:
        lay_out(driver.execute_script("return window.innerHeight"))
    try:
        result = driver.execute_script(LAYOUT_SCRIPT, width is None)
        if width is not None and screenshot is not None:
            lay_out(min(driver.execute_script("return document.documentElement.scrollHeight"), 8000))
            driver.save_screenshot(str(screenshot))
    finally:
        if width is not None:
            driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    if width is not None and result["width"] != width:
        return [f"the window did not become {width} px wide (it is {result['width']} px)"]
    return result["problems"]


# Runs in the page; arguments[0]: whether to check the direction of the header and of main's text.
# Returns {width: the window's width, problems: [sentences]}.
LAYOUT_SCRIPT = r"""
var checkDirection = arguments[0];
var problems = [];
var root = document.documentElement;
var viewport = root.clientWidth;
var rtl = getComputedStyle(document.body).direction === 'rtl';
var TOLERANCE = 1.5;  // sub-pixel rounding

function describe(el) {
  var name = el.tagName.toLowerCase();
  if (el.id) return name + '#' + el.id;
  var cls = (typeof el.className === 'string' ? el.className.trim() : '').split(/\s+/).filter(Boolean);
  var text = (el.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 40);
  return name + (cls.length ? '.' + cls.join('.') : '') + (text ? ' "' + text + '"' : '');
}
function visuallyHidden(el) {
  // Hidden on purpose but read by screen readers (.visually-hidden): 1 px, clipped.
  var r = el.getBoundingClientRect();
  return r.width <= 1 || r.height <= 1;
}
function visible(el) {
  if (el.checkVisibility && !el.checkVisibility({visibilityProperty: true})) return false;
  return el.getClientRects().length > 0 && !visuallyHidden(el);
}
function rects(el) {
  return Array.prototype.filter.call(el.getClientRects(), function (r) { return r.width > 0 && r.height > 0; });
}
function positionedAway(el) {
  // Placed outside the window on purpose until it is needed (the skip link until it has focus).
  for (var e = el; e && e !== document.body; e = e.parentElement) {
    var p = getComputedStyle(e).position;
    if (p === 'absolute' || p === 'fixed') {
      var r = e.getBoundingClientRect();
      return r.right <= 0 || r.left >= viewport;
    }
  }
  return false;
}
function inScroller(el) {
  // Inside a box that scrolls or clips on its own (a wide table in .table-scroll): checked by
  // the clipping check, not against the window.
  for (var e = el.parentElement; e && e !== document.body && e !== root; e = e.parentElement) {
    var s = getComputedStyle(e);
    if (/(auto|scroll|hidden|clip)/.test(s.overflowX)) return true;
  }
  return false;
}
function ownText(el) {
  return Array.prototype.some.call(el.childNodes, function (n) { return n.nodeType === 3 && n.data.trim(); });
}

// 1. The page scrolls sideways, or text sticks out of the window (on the start side of a
//    right-to-left page the browser cannot scroll to it, so scrollWidth alone misses it).
if (root.scrollWidth > viewport + TOLERANCE) {
  var wide = [];
  document.querySelectorAll('body *').forEach(function (el) {
    if (wide.length >= 3 || !visible(el) || inScroller(el) || positionedAway(el)) return;
    var r = el.getBoundingClientRect();
    if ((r.right > viewport + TOLERANCE || r.left < -TOLERANCE) && !el.querySelector('*')) wide.push(describe(el));
  });
  problems.push('the page is ' + root.scrollWidth + ' px wide in a ' + viewport + ' px window (it scrolls sideways)' +
    (wide.length ? '; sticking out: ' + wide.join(', ') : ''));
}
document.querySelectorAll('body *').forEach(function (el) {
  if (!ownText(el) || !visible(el) || inScroller(el) || positionedAway(el)) return;
  var outside = rects(el).some(function (r) { return r.left < -TOLERANCE || r.right > viewport + TOLERANCE; });
  if (outside) problems.push(describe(el) + ' sticks out of the window');
});

// 2. Clipped text.
document.querySelectorAll('body *').forEach(function (el) {
  var tag = el.tagName.toLowerCase();
  if (tag === 'input' || tag === 'select' || tag === 'textarea' || tag === 'option') return;
  var s = getComputedStyle(el);
  if (!/(hidden|clip)/.test(s.overflowX + ' ' + s.overflowY) || s.display === 'inline') return;
  if (!(el.textContent || '').trim() || !visible(el)) return;
  var wider = el.scrollWidth - el.clientWidth, taller = el.scrollHeight - el.clientHeight;
  if (wider > TOLERANCE || taller > TOLERANCE) {
    problems.push(describe(el) + ' clips its text (' + Math.max(wider, 0) + ' px wider, ' + Math.max(taller, 0) +
      ' px taller than the box)');
  }
});

// 3. Overlapping controls, labels and headings.
var selector = 'a[href], button, input:not([type=hidden]), select, textarea, label, h1, h2, h3';
var items = Array.prototype.filter.call(document.querySelectorAll(selector), function (el) {
  return visible(el) && !positionedAway(el);
}).map(function (el) { return {el: el, rects: rects(el)}; });
function overlap(a, b) {
  var w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
  var h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
  return w > TOLERANCE && h > TOLERANCE;
}
var overlaps = 0;
for (var i = 0; i < items.length && overlaps < 10; i++) {
  for (var j = i + 1; j < items.length && overlaps < 10; j++) {
    var a = items[i], b = items[j];
    if (a.el.contains(b.el) || b.el.contains(a.el)) continue;
    var hit = a.rects.some(function (ra) { return b.rects.some(function (rb) { return overlap(ra, rb); }); });
    if (hit) { overlaps++; problems.push(describe(a.el) + ' overlaps ' + describe(b.el)); }
  }
}

if (checkDirection) {
  // 4. The header follows the direction: service name at the start, "Exit this page" after it.
  var header = document.querySelector('header'), service = document.querySelector('.service-name');
  if (header && service) {
    var hs = getComputedStyle(header), h = header.getBoundingClientRect(), sr = service.getBoundingClientRect();
    var startEdge = rtl ? h.right - parseFloat(hs.paddingRight) - parseFloat(hs.borderRightWidth)
                        : h.left + parseFloat(hs.paddingLeft) + parseFloat(hs.borderLeftWidth);
    var serviceStart = rtl ? sr.right : sr.left;
    if (Math.abs(serviceStart - startEdge) > 2) {
      problems.push('the service name is not at the ' + (rtl ? 'right' : 'left') + ' of the header (' +
        Math.round(serviceStart) + ' px, the header starts at ' + Math.round(startEdge) + ' px)');
    }
    var exit = document.getElementById('exit-this-page');
    if (exit && visible(exit)) {
      var er = exit.getBoundingClientRect();
      if (rtl ? er.right > sr.left + TOLERANCE : er.left < sr.right - TOLERANCE) {
        problems.push('"Exit this page" is not to the ' + (rtl ? 'left' : 'right') + ' of the service name');
      }
    }
  }
  // 5. Text in main starts at the start side (right in right-to-left).
  var checked = 0;
  var texts = 'p, h1, h2, h3, li, dt, dd, th, td, caption, legend'.split(', ').map(function (t) { return 'main ' + t; });
  document.querySelectorAll(texts.join(', ')).forEach(function (el) {
    var s = getComputedStyle(el);
    if (!visible(el) || !(el.textContent || '').trim()) return;
    // Centred, justified and end-aligned text (figures in a column) follow the direction already;
    // left and right do not, which is what this catches.
    if (/^(center|justify|end)$/.test(s.textAlign) || /(flex|grid)/.test(s.display)) return;
    var range = document.createRange();
    range.selectNodeContents(el);
    var lines = Array.prototype.filter.call(range.getClientRects(), function (l) { return l.width > 0 && l.height > 0; });
    if (!lines.length) return;
    var r = el.getBoundingClientRect();
    var edge, start;
    if (rtl) {
      edge = r.right - parseFloat(s.borderRightWidth) - parseFloat(s.paddingRight);
      start = Math.max.apply(null, lines.map(function (l) { return l.right; }));
    } else {
      edge = r.left + parseFloat(s.borderLeftWidth) + parseFloat(s.paddingLeft);
      start = Math.min.apply(null, lines.map(function (l) { return l.left; }));
    }
    checked++;
    if (Math.abs(start - edge) > 2) {
      problems.push(describe(el) + ' does not start at the ' + (rtl ? 'right' : 'left') + ' (' +
        Math.round(Math.abs(start - edge)) + ' px away; text-align ' + s.textAlign + ')');
    }
  });
  if (!checked) problems.push('no text in main to check the direction of');
}
return {width: window.innerWidth, problems: problems};
"""


def run_axe(driver) -> list[dict]:
    """axe-core's violations on the driver's current page."""
    driver.execute_script(AXE_SCRIPT.read_text(encoding="utf-8"))
    results = driver.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(done, function (e) { done({error: String(e)}); });"
    )
    assert "error" not in results, f"axe-core failed: {results['error']}"
    return results["violations"]


# --- pytest plugin (run.sh passes `-p harness`) --------------------------------------------------


def pytest_terminal_summary(terminalreporter) -> None:
    """Lists every axe-core violation found, of any impact, before pytest's closing line."""
    artifacts = Path(os.environ.get("HEARTH_ARTIFACTS", "."))
    report = artifacts / "axe-report.txt"
    lines = report.read_text(encoding="utf-8").splitlines() if report.exists() else []
    terminalreporter.section("axe-core")
    if lines:
        terminalreporter.write_line(f"{len(lines)} violation(s); only serious and critical ones fail a test:")
        for line in lines:
            terminalreporter.write_line(f"  {line}")
    else:
        terminalreporter.write_line("no violations on any page checked")
    terminalreporter.write_line(f"screenshots: {artifacts / 'screenshots'}")
