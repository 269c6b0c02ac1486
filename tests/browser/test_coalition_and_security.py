"""The coalition page, acknowledging a directive from the feed, and the pages under their CSP, in Chromium."""

from __future__ import annotations

import time

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import TIMEOUT_MS, LiveServer, csp_refusal, log_in, screenshot
from tests.browser.seed import TASK_TITLE, UKR_TASK, UKR_TASK_TITLE
from truceline.act import DirectiveTask

FEED_WAIT_S = 30.0


def test_the_coalition_page_shows_pledges_gaps_posture_breaches_and_the_force_plan(
    page: Page, live_server: LiveServer
) -> None:
    log_in(page, live_server, live_server.token("GBR", "observer"))
    page.click("#coalition-link")
    page.wait_for_url("**/coalition.html")
    page.wait_for_selector("body[data-ready='true']")
    expect(page.locator("#title")).to_contain_text("Example coalition")
    # Pledges: the table lists them, the chart has a bar per capability required or pledged.
    expect(page.locator("#pledge-table tbody tr[data-id='GBR-ground']")).to_contain_text("GBR")
    assert page.locator("#pledge-table tbody tr").count() >= 80
    rows = page.locator("#gap-chart svg .gap-row")
    assert rows.count() == page.locator("#gap-table tbody tr").count() > 10
    expect(page.locator("#gap-chart svg .gap-row[data-capability='ground.troops'] .figures")).to_contain_text(
        "personnel"
    )
    # Posture: the reported position of the Canadian training team at Poltava is a breach.
    expect(page.locator("#breach-table")).to_contain_text("CAN-MTT")
    expect(page.locator("#breach-table")).to_contain_text("136 km from the contact line (minimum 200 km)")
    expect(page.locator("#breach-table")).to_contain_text("outside the basing area")
    # Units on the map (planned: squares, reported: dots), breaches drawn apart.
    assert page.locator("#posture-map .unit-marker").count() == int(page.get_attribute("body", "data-units") or 0)
    assert page.locator("#posture-map .unit-breach").count() >= 3
    # The force plan: personnel against its target, equipment stocks as a share of theirs.
    expect(page.locator("#personnel-chart svg polyline.series")).to_have_count(2)
    assert page.locator("#equipment-chart svg polyline.series").count() >= 5
    expect(page.locator("#shortfall-table")).to_contain_text("Personnel")
    expect(page.locator("#ratification-table")).to_contain_text("GBR")
    screenshot(page, "coalition")
    # Another warning level counts more pledges: the summary and the address follow.
    before = page.locator("#summary").inner_text()
    page.select_option("#s-level", "3")
    expect(page.locator("body")).to_have_attribute("data-level", "3")
    assert "level=3" in page.url
    assert page.locator("#summary").inner_text() != before


def test_a_malformed_coalition_address_gets_clear_messages(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, live_server.token("USA", "observer"), "/dashboard/coalition.html?level=9&zoom=2")
    expect(page.locator("#messages")).to_contain_text('level="9" is not a warning level')
    expect(page.locator("#messages")).to_contain_text('Unknown parameter "zoom"')
    expect(page.locator("body")).to_have_attribute("data-level", "1")


def test_an_owner_acknowledges_its_directive_from_the_feed(page: Page, live_server: LiveServer) -> None:
    token = live_server.token("UKR", "reviewer")
    log_in(page, live_server, token)
    page.click(".tabs button[data-tab='feed']")
    mine = page.locator(f"#feed-list li[data-id='{UKR_TASK}']")
    expect(mine).to_contain_text(UKR_TASK_TITLE)
    # The mechanism's own task is not UKR's to acknowledge.
    expect(page.locator("#feed-list li", has_text=TASK_TITLE).locator(".ack-button")).to_have_count(0)
    mine.locator(".ack-note").fill("battery withdrawn to 30 km; photos follow")
    mine.locator(".ack-button").click()
    expect(mine.locator(".feed-ack")).to_contain_text("acknowledged by UKR")
    expect(mine).to_have_attribute("data-status", "acknowledged")
    screenshot(page, "feed-acknowledged")
    # Stored as a new version, the first one kept; made by hand, by UKR's token holder.
    history = live_server.store.record_history("directivetask", UKR_TASK)
    assert [s.version for s in history] == [1, 2]
    latest = history[-1].record
    assert isinstance(latest, DirectiveTask)
    assert (latest.status, latest.acknowledged_by, latest.note) == (
        "acknowledged",
        "UKR",
        "battery withdrawn to 30 km; photos follow",
    )
    assert latest.creation_info.mode == "manual" and latest.creation_info.participant == "UKR"
    # Once the dashboard's index has the new version, a fresh page shows it with no button.
    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + FEED_WAIT_S
    while True:
        items = httpx.get(f"{live_server.url}/v1/dashboard/feed", headers=headers, timeout=10).json()["items"]
        task = next(i for i in items if i["id"] == UKR_TASK)
        if task["status"] == "acknowledged":
            break
        assert time.monotonic() < deadline, "the dashboard's index did not pick up the acknowledgement"
        time.sleep(0.2)
    assert task["may_acknowledge"] is False
    page.reload()
    page.wait_for_selector("body[data-ready='true']")
    page.click(".tabs button[data-tab='feed']")
    expect(page.locator(f"#feed-list li[data-id='{UKR_TASK}'] .feed-ack")).to_contain_text("photos follow")
    expect(page.locator(f"#feed-list li[data-id='{UKR_TASK}'] .ack-button")).to_have_count(0)


def test_an_observer_of_the_owner_gets_no_acknowledge_button(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, live_server.token("RUS", "reviewer"))
    page.click(".tabs button[data-tab='feed']")
    expect(page.locator("#feed-list")).to_contain_text(TASK_TITLE)
    expect(page.locator("#feed-list .ack-button")).to_have_count(0)


def test_the_pages_enforce_their_content_security_policy(browser: Browser, live_server: LiveServer) -> None:
    """An inline script does not run and an inline style does not apply; the pages' own styles do."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    refusals: list[str] = []
    page.on("console", lambda msg: refusals.append(msg.text) if csp_refusal(msg.type, msg.text) else None)
    try:
        log_in(page, live_server, live_server.token("FRA", "observer"))
        assert refusals == []
        # Styles set through the CSSOM (the legend's swatches) apply: the page is not unstyled.
        colour = page.eval_on_selector(".legend .swatch", "el => getComputedStyle(el).backgroundColor")
        assert colour == "rgb(31, 95, 191)"  # UKR blue
        with page.expect_console_message(lambda m: csp_refusal(m.type, m.text)):
            ran = page.evaluate(
                """() => {
                    const s = document.createElement("script");
                    s.textContent = "window.__injected = true";
                    document.head.append(s);
                    const d = document.createElement("div");
                    d.setAttribute("style", "color: rgb(1, 2, 3)");
                    document.body.append(d);
                    return [window.__injected === true, getComputedStyle(d).color];
                }"""
            )
        assert ran[0] is False
        assert ran[1] != "rgb(1, 2, 3)"
    finally:
        context.close()


@pytest.mark.parametrize("path", ["/dashboard/", "/dashboard/coalition.html", "/dashboard/js/api.js"])
def test_pages_carry_the_security_headers(live_server: LiveServer, path: str) -> None:
    r = httpx.get(f"{live_server.url}{path}", timeout=10)
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["cache-control"] == "no-cache"
