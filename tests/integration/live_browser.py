"""The live page in headless Chromium over real traffic: run by live.rs
against a running `dnslab up`, it loads the page, sends a lookup with
`dig` through the resolver, and checks the figure the page draws from the
events the resolver published; then the same dig again, drawn as a cache
hit; then the "Zone transfers" list, with each secondary's first AXFR. The helpers (browser flags, figure queries) are the web crate's
browser test's, imported from web/tests/web/browser.py.

Usage: live_browser.py URL CHROMIUM OUT_DIR RESOLVER_IP RESOLVER_PORT
WEB_TESTS_DIR. Exit 0 when the page drew both lookups with no console
error; otherwise prints each problem and exits 1. Screenshots:
OUT_DIR/live-screenshot.png (after the first dig: the README's picture)
and OUT_DIR/live-screenshot-cache-hit.png.
"""

import subprocess
import sys

from playwright.sync_api import sync_playwright


def dig(ip, port, name):
    done = subprocess.run(
        ["dig", f"@{ip}", "-p", str(port), "+short", "+tries=1", "+time=5", name],
        capture_output=True,
        text=True,
        timeout=30,
    )
    return done.stdout.strip()


def main():
    url, chromium, out, ip, port, web_tests = sys.argv[1:7]
    sys.path.insert(0, web_tests)
    import browser as figure  # the web crate's browser test, for its helpers

    check = figure.Check()
    console = []
    with sync_playwright() as playwright:
        browser, page = figure.open_page(playwright, chromium, url, console)

        # 1. A learner types dig in the other window: the textbook's walk.
        check.equal("dig's answer", dig(ip, port, "gaia.cs.umass.edu"), "192.0.2.12")
        figure.check_gaia_walk(page, check, lambda root: root.endswith(".root-servers.lab."))
        page.screenshot(path=f"{out}/live-screenshot.png")

        # 2. The same dig again: two messages, from the cache.
        check.equal("dig's answer again", dig(ip, port, "gaia.cs.umass.edu"), "192.0.2.12")
        page.wait_for_selector('#cache-hit[data-cache-hit="true"]')
        check.equal("arrows of the cache hit", figure.steps(page), ["1", "2"])
        check.equal("kind of arrow 2", page.get_attribute('#figure [data-step="2"]', "data-kind"), "cache-hit")
        check.true("the mark says the TTL left", "s left" in (page.text_content("#cache-hit") or ""))
        page.screenshot(path=f"{out}/live-screenshot-cache-hit.png")

        # 3. The zone transfers of the start: each secondary's first copy,
        # by AXFR from its primary, listed below the walk.
        page.wait_for_selector("#zones:not([hidden]) #transfers tbody tr[data-kind=AXFR]")
        rows = page.eval_on_selector_all(
            "#transfers tbody tr[data-kind=AXFR]", "rows => rows.map(r => [...r.cells].map(c => c.textContent))"
        )
        copies = sorted((row[2], row[3]) for row in rows)
        check.equal(
            "first copies (zone, from → to)",
            copies,
            [
                (".", "a.root-servers.lab. → b.root-servers.lab."),
                ("com.", "a.gtld-servers.lab. → b.gtld-servers.lab."),
                ("net.", "a.gtld-servers.lab. → b.gtld-servers.lab."),
                ("networkutopia.com.", "dns1.networkutopia.com. → dns2.networkutopia.com."),
            ],
        )
        for row in rows:
            check.true(f"an AXFR row gives a serial, records and ms: {row}", row[4].isdigit() and row[5].endswith(" records") and row[6])
        heading = page.text_content("#zones h2") or ""
        check.equal("the list's heading", heading, "Zone transfers")
        page.screenshot(path=f"{out}/live-screenshot-transfers.png", full_page=True)
        browser.close()
    return figure.report(check, console, "the page drew the dig's walk, its cache hit and the zone transfers; no console errors")

if __name__ == "__main__":
    sys.exit(main())
