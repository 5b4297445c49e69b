"""report.html in headless Chromium (Debian's chromium, driven by Playwright): every image
loads and the console stays free of errors."""

from browser import ARGS, CHROMIUM, browser_or_skip


def test_report_renders_with_every_image_and_no_console_error(trained_run):
    sync_api = browser_or_skip()
    page_file = trained_run["result"].run_dir / "report.html"
    errors = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = browser.new_page()
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(page_file.as_uri(), wait_until="load")
            images = page.evaluate("""() => Array.from(document.images).map(
                img => ({complete: img.complete, width: img.naturalWidth}))""")
            title = page.title()
            headings = page.locator("h2").all_inner_texts()
        finally:
            browser.close()
    assert errors == []
    assert len(images) >= 6
    assert all(img["complete"] and img["width"] > 0 for img in images), images
    assert title.startswith("xraynet model report")
    assert "Shortcut check" in headings and "Intended use" in headings
    assert "Acquisition-shift stress suite" in headings and "External validation" in headings
