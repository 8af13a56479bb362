//! The browser harness against a page of its own: a real headless Chromium over WebDriver
//! fills a form, follows it, runs script, and keeps a screenshot of the fixed window size.

use std::time::Duration;

use nbw_testkit::{Browser, FileServer, WINDOW};

const FORM: &str = r#"<!doctype html><title>form</title>
<form action="done.html" method="get"><input id="name" name="name" value="old"><button id="go">Go</button></form>"#;

const DONE: &str = r#"<!doctype html><title>done</title><p id="out"></p>
<script>document.getElementById('out').textContent = new URLSearchParams(location.search).get('name');</script>"#;

/// Width and height from a PNG's IHDR chunk.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let word = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    (word(16), word(20))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_submits_a_form_runs_script_and_keeps_a_window_sized_screenshot() {
    let Some(browser) = Browser::start_or_skip("harness").await else { return };
    let site = nbw_testkit::tempdir();
    std::fs::write(site.path().join("form.html"), FORM).unwrap();
    std::fs::write(site.path().join("done.html"), DONE).unwrap();
    let server = FileServer::start(site.path());

    browser.goto(&server.url("form.html")).await;
    browser.fill("#name", "typed by nbw").await;
    browser.click("#go").await;
    browser
        .wait_js(
            "the next page shows the typed value",
            "document.getElementById('out')",
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(browser.text("#out").await, "typed by nbw");
    assert_eq!(browser.url().await.query(), Some("name=typed+by+nbw"));
    assert!(!browser.exists("#name").await, "the form page is gone");

    let shot = browser.screenshot("done").await;
    assert_eq!(shot, nbw_testkit::screenshot_dir("harness").join("done.png"));
    assert_eq!(png_size(&std::fs::read(&shot).unwrap()), WINDOW);
    browser.close().await;
}
