"""The escalation model under the timeline and the reassurance force on the map, in headless Chromium.

Logged in as UKR, CL-07's fit is drawn with its 95 % interval and retaliation terms and follows the
map's sector and day; RUS, to whom CL-07's assessments are not released, is told there is no fit
it may see. The force layer shows each unit's positions with a legend; a principal that is no
participant of the agreement sees none of them. Screenshots go to the test artefacts.
"""

from __future__ import annotations

from urllib.parse import urlencode

from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer, log_in, screenshot
from tests.browser.seed import DAY1, DAY2, ESCALATING, QUIET
from truceline.agreement import default_agreement
from truceline.guarantee import EXAMPLE_COALITION, load_coalition, posture

DAY = DAY2.date().isoformat()


def _view(**params: str) -> str:
    return f"/dashboard/?{urlencode(params)}"


def test_ukr_sees_the_escalation_model_of_the_selected_sector(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, live_server.token("UKR"), _view(day=DAY, sector=ESCALATING))
    plot = page.locator("#escalation")
    expect(plot).to_have_attribute("data-sector", ESCALATING)
    expect(plot).to_have_attribute("data-fits", "14")
    expect(plot.locator("circle.esc-point")).to_have_count(14)
    expect(plot.locator("polygon.esc-ci")).to_have_count(1)  # the 95 % interval, one band over the 14 days
    expect(plot.locator("circle.esc-ret-UKR")).to_have_count(14)
    expect(plot.locator("circle.esc-ret-RUS")).to_have_count(14)
    head = page.locator("#escalation-head")
    expect(head).to_contain_text(f"Escalation model of {ESCALATING}")
    expect(head).to_contain_text(f"{ESCALATING} {DAY}: branching ratio")
    expect(head).to_contain_text("95 %")
    expect(head).to_contain_text("retaliation UKR←RUS")
    # Each point's interval holds its ratio; the tooltip says it in words.
    for point in plot.locator("circle.esc-point").all():
        lo, ratio, hi = (float(point.get_attribute(k) or "nan") for k in ("data-lo", "data-ratio", "data-hi"))
        assert lo <= ratio <= hi
    expect(plot.locator(f"circle.esc-point[data-day='{DAY}'] title")).to_contain_text("fire incidents")
    # The timeline's cells carry the fit too.
    expect(page.locator(f"#timeline g.tl-cell[data-sector='{ESCALATING}'][data-day='{DAY}'] title")).to_contain_text(
        "branching ratio"
    )
    page.locator("#escalation").scroll_into_view_if_needed()
    screenshot(page, "escalation-ukr-CL-07")

    # Linked to the time filter: a click on a day of the plot shows that day on the map.
    day1 = DAY1.date().isoformat()
    plot.locator(f"circle.esc-point[data-day='{day1}']").click()
    expect(page.locator("#f-day")).to_have_value(day1)
    expect(plot).to_have_attribute("data-sector", ESCALATING)
    expect(plot.locator("rect.esc-day-selected")).to_have_count(2)  # the day's column, in both plots
    expect(head).to_contain_text(f"{ESCALATING} {day1}: branching ratio")
    assert f"day={day1}" in page.url


def test_without_a_sector_every_sector_is_drawn_and_one_click_selects_it(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, live_server.token("UKR"), _view(day=DAY))
    plot = page.locator("#escalation")
    expect(plot).to_have_attribute("data-sector", "")
    expect(plot.locator("g.esc-sector")).to_have_count(2)
    expect(page.locator("#escalation-head")).to_contain_text("Select a sector")
    plot.locator(f"g.esc-sector[data-sector='{QUIET}'] circle").last.click()
    expect(page.locator("#f-sector")).to_have_value(QUIET)
    expect(plot).to_have_attribute("data-sector", QUIET)
    expect(plot.locator("polygon.esc-ci")).to_have_count(1)
    assert f"sector={QUIET}" in page.url
    # ... and the map's sector filter drives it back.
    page.select_option("#f-sector", ESCALATING)
    expect(plot).to_have_attribute("data-sector", ESCALATING)
    expect(plot.locator("circle.esc-point")).to_have_count(14)


def test_rus_sees_no_fit_of_a_sector_not_released_to_it(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, live_server.token("RUS"), _view(day=DAY, sector=ESCALATING))
    plot = page.locator("#escalation")
    expect(plot.locator(".esc-none")).to_contain_text(f"No escalation fit you may see for {ESCALATING}")
    expect(plot.locator("circle.esc-point")).to_have_count(0)
    expect(page.locator("#escalation-head")).not_to_contain_text("branching ratio")
    page.locator("#escalation").scroll_into_view_if_needed()
    screenshot(page, "escalation-rus-CL-07-hidden")
    page.select_option("#f-sector", "")
    expect(plot.locator("g.esc-sector")).to_have_count(1)
    expect(plot.locator(f"g.esc-sector[data-sector='{QUIET}']")).to_have_count(1)


def _positions() -> tuple[int, int]:
    rows = posture(load_coalition(EXAMPLE_COALITION, default_agreement()))
    return len(rows), sum(1 for r in rows if r.findings)


def test_the_force_layer_shows_the_posture_with_a_legend(page: Page, live_server: LiveServer) -> None:
    positions, in_breach = _positions()
    log_in(page, live_server, live_server.token("UKR"), _view(day=DAY))
    body = page.locator("body")
    expect(body).to_have_attribute("data-force-units", str(positions))
    expect(page.locator(".force-unit")).to_have_count(positions)
    expect(page.locator(".force-unit.force-breach")).to_have_count(in_breach)
    legend = page.locator("#force-legend")
    expect(legend).to_be_visible()
    expect(legend).to_contain_text("Reassurance force")
    expect(legend).to_contain_text("200 km line")
    expect(page.locator("#force-summary")).to_contain_text("in breach")
    # The force sits in the west: zoom out to see it beside the line.
    page.click(".leaflet-control-zoom-out")
    page.locator("path.force-actual.force-breach").first.hover()
    expect(page.locator(".leaflet-tooltip", has_text="reported position")).to_contain_text("km from the line")
    screenshot(page, "force-layer-ukr")
    # The legend goes with the layer.
    page.hover(".leaflet-control-layers")
    page.get_by_label("Reassurance force (posture)").uncheck()
    expect(legend).to_have_count(0)
    expect(page.locator(".force-unit")).to_have_count(0)
    page.get_by_label("Reassurance force (posture)").check()
    expect(page.locator("#force-legend")).to_be_visible()


def test_a_principal_outside_the_agreement_sees_no_position(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, live_server.token("NGO"), _view(day=DAY))
    expect(page.locator("body")).to_have_attribute("data-force-units", "0")
    expect(page.locator(".force-unit")).to_have_count(0)
    expect(page.locator("#force-summary")).to_contain_text("0 units you may see")
    page.click(".leaflet-control-zoom-out")
    screenshot(page, "force-layer-outsider")
