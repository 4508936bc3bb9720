"""The review queue's count poller asks only while its tab is shown: a hidden tab sends nothing, and
the moment it shows again it asks at once (static/js/shell.js, templates/findings/_review_awaiting.html).
Timers run on Playwright's clock, so minutes pass in no time."""

from playwright.sync_api import expect

from e2e.conftest import signed_in


def _set_hidden(page, hidden: bool) -> None:
    page.evaluate("""(hidden) => {
        Object.defineProperty(document, "hidden", {configurable: true, get: () => hidden});
        Object.defineProperty(document, "visibilityState", {configurable: true, get: () => hidden ? "hidden" : "visible"});
        document.dispatchEvent(new Event("visibilitychange"));
    }""", hidden)


def test_a_hidden_review_queue_does_not_poll_and_asks_when_shown_again(browser, server):
    ctx, page = signed_in(browser, server, "manager", "manager-demo-2026", "en")
    asked = []
    page.on("request", lambda r: asked.append(r.url) if "/findings/review/awaiting" in r.url else None)
    page.clock.install()
    page.goto(f"{server}/findings/review")
    expect(page.locator("#rq-poll")).to_have_count(1)

    page.clock.run_for(16_000)  # shown: one poll every 15 s
    page.wait_for_timeout(300)
    assert len(asked) == 1

    _set_hidden(page, True)
    page.clock.run_for(5 * 60_000)  # five minutes hidden: nothing
    page.wait_for_timeout(300)
    assert len(asked) == 1

    _set_hidden(page, False)  # shown again: at once, without waiting for the next tick
    page.wait_for_timeout(500)
    assert len(asked) == 2
    page.clock.run_for(16_000)  # and the 15 s rhythm goes on
    page.wait_for_timeout(300)
    assert len(asked) == 3
    expect(page.locator("#rq-awaiting")).to_contain_text("await")
    ctx.close()
