"""Drives dnslab's live page in headless Chromium through Playwright and
checks what it draws; run by browser.rs, which serves the page with a
synthetic resolver that publishes the textbook's walks.

Usage: browser.py URL CHROMIUM OUT_DIR. Exit 0 when the page drew every
expected figure with no console error; otherwise prints each problem and
exits 1. Screenshots go to OUT_DIR/web-screenshot*.png.
"""

import sys

from playwright.sync_api import sync_playwright

# Flags that work on a machine with no network but loopback: without the
# background-networking ones Chromium keeps trying Google's hosts. Playwright
# gives the browser a fresh, empty profile directory of its own.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

WAIT_MS = 20_000


class Check:
    def __init__(self):
        self.problems = []

    def equal(self, what, got, want):
        if got != want:
            self.problems.append(f"{what}: got {got!r}, want {want!r}")

    def true(self, what, ok):
        if not ok:
            self.problems.append(what)


def steps(page):
    return page.eval_on_selector_all("#figure [data-step]", "els => els.map(e => e.dataset.step)")


def visible_steps(page):
    return page.eval_on_selector_all(
        "#figure [data-step]",
        "els => els.filter(e => e.getBoundingClientRect().width > 0).map(e => e.dataset.step)",
    )


def boxes(page):
    pairs = page.eval_on_selector_all(
        "#figure [data-role]", "els => els.map(e => [e.dataset.role, e.dataset.name, e.dataset.skipped || ''])"
    )
    by_role = {}
    for role, name, skipped in pairs:
        by_role.setdefault(role, []).append((name, skipped == "true"))
    return by_role


def label(page, step):
    return page.text_content(f'#figure [data-step="{step}"] .label') or ""


def overlapping_labels(page):
    """Pairs of arrow labels whose boxes intersect: unreadable text."""
    return page.evaluate(
        """() => {
        const rects = [...document.querySelectorAll('#figure [data-step]')]
          .map(g => [g.dataset.step, g.querySelector('.label').getBoundingClientRect()])
          .filter(([, r]) => r.width > 0);
        const out = [];
        for (let i = 0; i < rects.length; i++) for (let j = i + 1; j < rects.length; j++) {
          const [a, r] = rects[i], [b, s] = rects[j];
          if (r.x < s.x + s.width && s.x < r.x + r.width && r.y < s.y + s.height && s.y < r.y + r.height) out.push(a + '/' + b);
        }
        return out;
      }"""
    )


def at_message(page, n):
    """Waits until the replay shows message n of 10 (drawing is async)."""
    page.wait_for_function(f"document.getElementById('position').textContent === 'message {n} of 10'")


def open_page(playwright, chromium, url, console):
    """Chromium with the page loaded and its event stream connected;
    console errors and warnings, and page errors, go to `console`."""
    browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=FLAGS)
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.set_default_timeout(WAIT_MS)
    page.on("console", lambda m: console.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: console.append(f"page error: {e}"))
    page.goto(url)
    page.wait_for_selector('#status[data-connected="true"]')
    return browser, page


def check_gaia_walk(page, check, is_root):
    """Waits for the ten messages of gaia.cs.umass.edu and checks the
    figure: arrows 1 to 10 drawn, one box per server of the textbook
    (`is_root` judges the root's name), the referral and the answer on
    their arrows, no label over another."""
    page.wait_for_selector('#figure [data-step="10"]')
    page.wait_for_function("document.querySelectorAll('#steps tbody tr').length === 10")
    check.equal("arrows of the walk", steps(page), [str(n) for n in range(1, 11)])
    check.equal("arrows drawn", visible_steps(page), [str(n) for n in range(1, 11)])
    servers = boxes(page)
    roots = servers.get("root") or []
    check.true(f"one root box: {roots}", len(roots) == 1 and not roots[0][1] and is_root(roots[0][0]))
    check.equal("TLD box", servers.get("tld"), [("a.edu-servers.lab.", False)])
    check.equal(
        "authoritative boxes, stacked",
        servers.get("authoritative"),
        [("dns.umass.edu.", False), ("dns.cs.umass.edu.", False)],
    )
    check.equal("resolver box", servers.get("resolver"), [("resolver", False)])
    check.equal("client box", servers.get("client"), [("127.0.0.1", False)])
    check.true(f"arrow 3 says the referral: {label(page, 3)!r}", "referral to edu." in label(page, 3))
    check.true(f"arrow 9 brings the address: {label(page, 9)!r}", "192.0.2.12" in label(page, 9))
    check.equal("labels overlapping", overlapping_labels(page), [])


def ask(page, name):
    page.fill("#ask-name", name)
    page.click("#ask button[type=submit]")


def main():
    url, chromium, out = sys.argv[1], sys.argv[2], sys.argv[3]
    check = Check()
    console = []
    with sync_playwright() as playwright:
        browser, page = open_page(playwright, chromium, url, console)

        # 1. The walk: ten numbered messages between the textbook's boxes.
        ask(page, "gaia.cs.umass.edu")
        check_gaia_walk(page, check, lambda root: root == "a.root-servers.lab.")
        check.true(f"arrow 3 gives its time: {label(page, 3)!r}", "ms" in label(page, 3))
        check.true(f"arrow 2 asks the minimised name: {label(page, 2)!r}", "edu. A?" in label(page, 2))
        check.true(f"arrow 10 gives the total time: {label(page, 10)!r}", "1.6 ms in all" in label(page, 10))
        rows = page.eval_on_selector_all("#steps tbody tr", "rows => rows.map(r => r.cells[0].textContent)")
        check.equal("table rows", rows, [str(n) for n in range(1, 11)])
        check.true("no cache mark on a walk", page.query_selector("[data-cache-hit]") is None)
        page.screenshot(path=f"{out}/web-screenshot.png")

        # 2. The same question again: two messages, answered from the cache.
        ask(page, "gaia.cs.umass.edu")
        page.wait_for_selector('#cache-hit[data-cache-hit="true"]')
        check.equal("arrows of the cache hit", steps(page), ["1", "2"])
        check.equal("kind of arrow 2", page.get_attribute('#figure [data-step="2"]', "data-kind"), "cache-hit")
        check.true("the mark says the TTL left", "TTL 3595 s left" in (page.text_content("#cache-hit") or ""))
        check.equal("table rows of the hit", len(page.query_selector_all("#steps tbody tr")), 2)
        newest = page.text_content("#lookups li:first-child") or ""
        check.true(f"newest lookup first, as a hit: {newest!r}", "answered from the cache" in newest)
        check.equal("recent lookups", len(page.query_selector_all("#lookups li")), 2)
        page.screenshot(path=f"{out}/web-screenshot-cache-hit.png")

        # 3. The sibling name: the cached delegation spares three tiers.
        ask(page, "www.cs.umass.edu")
        page.wait_for_selector('#figure [data-step="4"]')
        servers = boxes(page)
        check.equal("root spared", servers.get("root"), [("a.root-servers.lab.", True)])
        check.equal("TLD spared", servers.get("tld"), [("a.edu-servers.lab.", True)])
        check.equal(
            "dns.umass.edu. spared, dns.cs.umass.edu. asked",
            servers.get("authoritative"),
            [("dns.umass.edu.", True), ("dns.cs.umass.edu.", False)],
        )
        check.equal("arrows of the sibling", steps(page), ["1", "2", "3", "4"])
        skipped_rows = len(page.query_selector_all("#steps tbody tr.skipped"))
        check.equal("tier rows in the table", skipped_rows, 3)
        check.equal("labels overlapping (sibling)", overlapping_labels(page), [])
        page.screenshot(path=f"{out}/web-screenshot-skipped.png")

        # 4. Replay the first lookup: back and forth, one message at a time.
        page.click("#lookups li:last-child button")
        check.equal("follow turns off when a lookup is picked", page.is_checked("#follow"), False)
        page.wait_for_selector('#figure [data-step="10"]')
        page.click("#back")
        at_message(page, 9)
        check.equal("after one step back", visible_steps(page), [str(n) for n in range(1, 10)])
        page.click("#first")
        at_message(page, 1)
        check.equal("at the first message", visible_steps(page), ["1"])
        check.true("the first message is explained", "asks its local DNS server" in (page.text_content("#explain") or ""))
        page.click("#forward")
        page.click("#forward")
        at_message(page, 3)
        check.equal("two steps forward", visible_steps(page), ["1", "2", "3"])
        check.true(
            "the referral is explained",
            "knows who does" in (page.text_content("#explain") or ""),
        )
        page.screenshot(path=f"{out}/web-screenshot-replay.png")

        # 5. Flush: the next question walks again.
        page.click("#flush")
        page.wait_for_function("document.getElementById('flush-result').textContent.includes('cache flushed')")
        page.check("#follow")
        ask(page, "gaia.cs.umass.edu")
        page.wait_for_function("document.querySelectorAll('#lookups li').length === 4")
        page.wait_for_selector('#figure [data-step="10"]')
        check.equal("a walk again after the flush", steps(page), [str(n) for n in range(1, 11)])

        # 6. The busiest story: a glueless delegation and a CNAME into the
        # CDN, twenty messages, four exchanges with one TLD server.
        ask(page, "video.netcinema.com")
        page.wait_for_selector('#figure [data-step="20"]')
        check.equal("arrows of the CDN walk", steps(page), [str(n) for n in range(1, 21)])
        servers = boxes(page)
        check.equal("one TLD box for com. and net.", servers.get("tld"), [("a.gtld-servers.lab.", False)])
        check.equal(
            "the CDN walk's authoritative boxes",
            servers.get("authoritative"),
            [("ns1.hosting.net.", False), ("ns.kingcdn.net.", False)],
        )
        check.true(f"arrow 13 says CNAME: {label(page, 13)!r}", "CNAME" in label(page, 13))
        page.screenshot(path=f"{out}/web-screenshot-cname.png")

        # 7. On a projector's 1280 x 720 the figure takes the whole width.
        page.set_viewport_size({"width": 1280, "height": 720})
        page.wait_for_timeout(200)
        check.equal("labels overlapping (projector)", overlapping_labels(page), [])
        page.screenshot(path=f"{out}/web-screenshot-projector.png")

        browser.close()
    return report(check, console, "the page drew the walk, the cache hit, the skipped tiers and the replay; no console errors")


def report(check, console, success):
    """Prints every problem (console errors included) and returns 1, or
    prints `success` and returns 0: the script's exit code."""
    for line in console:
        check.problems.append(line)
    if check.problems:
        print("problems:")
        for problem in check.problems:
            print(f"  - {problem}")
        return 1
    print(success)
    return 0


if __name__ == "__main__":
    sys.exit(main())
