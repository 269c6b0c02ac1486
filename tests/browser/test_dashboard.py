"""The dashboard as a person uses it, in headless Chromium against a real server on loopback."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer, log_in, screenshot, shown_ids
from tests.browser.seed import ALERT_FOR_UKR, CLAIMED, DAY2, REVIEW_ME, RUS_ONLY, TASK_TITLE, UKR_ONLY

DAY2_ISO = DAY2.date().isoformat()


def test_login_refuses_a_malformed_or_unknown_token(page: Page, live_server: LiveServer) -> None:
    page.goto(f"{live_server.url}/dashboard/login.html")
    page.fill("#token", "not a token")
    page.click("#login")
    expect(page.locator(".message-error")).to_contain_text("does not look like a Truceline token")
    page.fill("#token", "tl_0123456789ab_" + "A" * 43)
    page.click("#login")
    expect(page.locator(".message-error").last).to_contain_text("refused this token")
    # Without a token the map sends the visitor to the login page.
    page.goto(f"{live_server.url}/dashboard/")
    page.wait_for_url("**/login.html**")


def test_each_participant_sees_what_the_policy_allows(page: Page, live_server: LiveServer) -> None:
    common = live_server.seeded.common_per_day[DAY2_ISO]
    for participant, mine, theirs in (("UKR", UKR_ONLY, RUS_ONLY), ("RUS", RUS_ONLY, UKR_ONLY)):
        log_in(page, live_server, live_server.token(participant, "observer"))
        expect(page.locator("#who-participant")).to_have_text(participant)
        assert page.get_attribute("body", "data-incidents-total") == str(common + 1)
        ids = shown_ids(page)
        assert mine in ids
        assert theirs not in ids
        page.click(".tabs button[data-tab='feed']")
        expect(page.locator("#feed-list")).to_contain_text(TASK_TITLE)
        if participant == "UKR":
            expect(page.locator("#feed-list")).to_contain_text(ALERT_FOR_UKR)
        else:
            expect(page.locator("#feed-list")).not_to_contain_text(ALERT_FOR_UKR)
        screenshot(page, f"map-{participant}")
        # Asking for the other party's record by its id gives the answer a missing record gives.
        page.goto(f"{live_server.url}/dashboard/incident.html?id={theirs}")
        expect(page.locator(".message-error")).to_contain_text("was not found, or is not visible to you")
        page.evaluate("sessionStorage.clear()")


def test_incident_page_shows_everything_behind_it(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, live_server.token("GBR", "observer"))
    page.click(f"#incident-list tr[data-id='{REVIEW_ME}'] a")
    page.wait_for_selector("body[data-ready='true']")
    expect(page.locator("#title")).to_have_text(f"Incident {REVIEW_ME}")
    expect(page.locator("#origin-table tbody tr")).to_have_count(2)  # competing origins: tdoa and radar
    expect(page.locator("#attribution")).to_contain_text("origin_area")
    expect(page.locator("#findings")).to_contain_text("withdrawal.artillery_ge100")
    expect(page.locator("#report-table tbody tr")).to_have_count(3)
    expect(page.locator("#reports")).to_contain_text("3 of 3 listed reports are available to you")
    expect(page.locator("#history-table")).to_contain_text("truceline.fuse")
    expect(page.locator("#review")).to_contain_text("needs a token with the reviewer role")
    screenshot(page, "incident")
    # The claim checked against another incident, with its verdict.
    page.goto(f"{live_server.url}/dashboard/incident.html?id={CLAIMED}")
    page.wait_for_selector("body[data-ready='true']")
    expect(page.locator("#claims")).to_contain_text("Staging suspicion 12 %")
    expect(page.locator("#claims")).to_contain_text("corroborated")
    # Back to the map, with the filters it came from.
    page.click("#back")
    page.wait_for_selector("body[data-ready='true']")


def test_filters_and_the_timeline_change_what_the_map_shows(page: Page, live_server: LiveServer) -> None:
    seeded = live_server.seeded
    log_in(page, live_server, live_server.token("USA", "observer"))
    total = int(page.get_attribute("body", "data-incidents-total") or 0)
    page.select_option("#f-kind", "air")
    expect(page.locator("body")).to_have_attribute("data-incidents-shown", str(seeded.kinds_day2["air"]))
    assert "kind=air" in page.url
    page.select_option("#f-kind", "")
    sector, n = max(((s, k) for s, k in seeded.sector_day2.items() if s), key=lambda sk: sk[1])
    page.select_option("#f-sector", sector)
    # The two party-only incidents (USA originated both) may add to the busiest sector's count.
    shown = int(page.get_attribute("body", "data-incidents-shown") or 0)
    assert n <= shown <= n + 2
    page.select_option("#f-sector", "")
    page.select_option("#f-from", "12")
    shown = int(page.get_attribute("body", "data-incidents-shown") or 0)
    assert 0 < shown < total
    screenshot(page, "map-filtered")
    # A click on the timeline's first day shows that day on the map.
    page.select_option("#f-from", "0")
    page.click(".tl-cell[data-day='2026-09-01'][data-sector='']")
    expect(page.locator("#summary")).to_contain_text("on 2026-09-01")
    assert "day=2026-09-01" in page.url


def test_a_malformed_query_string_gets_a_clear_message(page: Page, live_server: LiveServer) -> None:
    bad = "/dashboard/?day=2026-02-31&kind=tank&from=25&zoom=3"
    log_in(page, live_server, live_server.token("USA", "observer"), bad)
    messages = page.locator("#messages")
    expect(messages).to_contain_text("day=\"2026-02-31\" is not a date")
    expect(messages).to_contain_text("kind=\"tank\" is not an incident kind")
    expect(messages).to_contain_text("from=\"25\" is not an hour")
    expect(messages).to_contain_text("Unknown parameter \"zoom\"")
    assert "Traceback" not in page.content()
    # The rest still works: the latest day is shown.
    expect(page.locator("#summary")).to_contain_text(f"on {DAY2_ISO}")
    screenshot(page, "map-bad-query")
    page.goto(f"{live_server.url}/dashboard/incident.html")
    expect(page.locator("#messages")).to_contain_text("No incident given")


def test_a_reviewer_reviews_an_incident(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, live_server.token("UKR", "reviewer"), f"/dashboard/incident.html?id={REVIEW_ME}")
    expect(page.locator("#incident-status")).to_have_text("preliminary")
    page.select_option("#review-status", "reviewed")
    page.select_option("#review-origin", f"{REVIEW_ME}/radar")
    page.fill("#review-note", "radar track agrees with the impact crater")
    page.click("#review-submit")
    expect(page.locator("#incident-status")).to_have_text("reviewed")
    expect(page.locator("#history-table tbody tr")).to_have_count(2)
    expect(page.locator("#history-table")).to_contain_text("radar track agrees with the impact crater")
    expect(page.locator("#origin-table tr.preferred")).to_contain_text(f"{REVIEW_ME}/radar")
    screenshot(page, "incident-reviewed")
    # Final is final: the form is gone and the page says why.
    page.select_option("#review-status", "final")
    page.click("#review-submit")
    expect(page.locator("#incident-status")).to_have_text("final")
    expect(page.locator("#review")).to_contain_text("takes no further review")
    # The map shows the new status once its index has caught up.
    page.goto(f"{live_server.url}/dashboard/?status=final")
    page.wait_for_selector("body[data-ready='true']")
    expect(page.locator(f"#incident-list tr[data-id='{REVIEW_ME}']")).to_have_count(1, timeout=20_000)
