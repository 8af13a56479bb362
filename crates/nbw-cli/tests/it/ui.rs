//! The web UI in a real browser: a real `nbw server`, a real `nbw agent` with real kernels, and
//! Debian's headless Chromium over WebDriver (`scripts/setup-chromium.sh`). Each test keeps
//! screenshots of the pages it visits under `$CARGO_TARGET_DIR/ui-screenshots/<test>/`.
//! The pages' ids and forms are those documented in `crates/nbw-server/src/web/mod.rs`.

use std::time::Duration;

use crate::support::{PASSWORD, Server, notebook};
use nbw_testkit::Browser;
use serde_json::{Value, json};

/// How long a run of the test notebooks may take, kernel start included.
const RUN: Duration = Duration::from_secs(60);

/// A project's notebook with typed parameters, a markdown cell and a PNG drawn by the kernel
/// (no imaging library: the PNG's bytes are written out by hand).
fn report() -> Value {
    notebook(&[
        ("n = 1\nwho = 'world'", &["parameters"]),
        ("#md # Report heading\n\nSome **bold** words.", &[]),
        ("print(f'n squared is {n * n} ({type(n).__name__}), hello {who}')", &[]),
        (
            "import struct, zlib\nfrom IPython.display import Image, display\n\
             def png(w, h):\n    raw = b''.join(b'\\x00' + b'\\xd0\\x40\\x20' * w for _ in range(h))\n    \
             chunk = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))\n    \
             return (b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))\n            \
             + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))\n\
             display(Image(data=png(40, 20)))",
            &[],
        ),
    ])
}

/// A notebook that waits 2 s (so a page opened when it starts has no output yet), prints in
/// two cells a second apart, then sleeps `pause` seconds. Outputs are upper-cased by the kernel,
/// so finding them on a page never means finding a cell's source.
fn slow() -> Value {
    notebook(&[
        ("pause = 6", &["parameters"]),
        ("import time\ntime.sleep(2)\nprint('first cell output'.upper(), flush=True)\ntime.sleep(1)", &[]),
        ("print('second cell output'.upper(), flush=True)\ntime.sleep(1)", &[]),
        ("time.sleep(pause)\nprint('last cell output'.upper())", &[]),
    ])
}

/// A notebook whose outputs try to run script: an inline `<script>`, an `onerror` handler and
/// an SVG `onload`, each setting a marker in the top page; and one harmless HTML output.
fn hostile() -> Value {
    notebook(&[(
        "from IPython.display import HTML, SVG, display\n\
         display(HTML('<p>' + 'html output kept'.upper() + '</p><script>window.top.nbwPwned = 1; window.top.document.title = \"pwned\";</script>'))\n\
         display(HTML('<img src=x onerror=\"window.top.nbwPwned = 2\">'))\n\
         display(SVG('<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"window.top.nbwPwned = 3\" width=\"10\" height=\"10\"><script>window.top.nbwPwned = 4</script></svg>'))",
        &[],
    )])
}

/// A server (on SQLite, or on a fresh PostgreSQL database), project `demo` with the test
/// notebooks and workflows `report` and `slow`, and one agent.
async fn demo(dir: &std::path::Path, postgres: bool) -> (Server, crate::support::Proc) {
    let url = postgres.then(nbw_testkit::fresh_postgres_url);
    let env: Vec<(&str, &str)> = url.iter().map(|url| ("NBW_DATABASE_URL", url.as_str())).collect();
    let server = Server::start(dir, &env).await;
    server
        .project_with(
            "demo",
            &[("report.ipynb", report()), ("slow.ipynb", slow()), ("hostile.ipynb", hostile())],
        )
        .await;
    for (name, nb) in [("report", "report.ipynb"), ("slow", "slow.ipynb"), ("hostile", "hostile.ipynb")] {
        server.post_ok("/v1/projects/demo/workflows", json!({"name": name, "notebook": nb})).await;
    }
    let token = server.agent_token("agent-1", json!({})).await;
    let agent = server.agent(dir, &token, 2, &[]);
    (server, agent)
}

/// Fills in and submits the login form of the page shown.
async fn submit_login(browser: &Browser, username: &str, password: &str) {
    browser.fill("#username", username).await;
    browser.fill("#password", password).await;
    browser.click("form#login button[type=submit]").await;
}

/// Logs in through the login form; returns once the browser has left the login page.
async fn log_in(browser: &Browser, server: &Server, username: &str, password: &str) {
    browser.goto(&format!("{}/login", server.base)).await;
    submit_login(browser, username, password).await;
    browser.wait_js("logged in", "location.pathname !== '/login'", Duration::from_secs(10)).await;
}

/// Logs out with the user bar's button; returns once the login form shows.
async fn log_out(browser: &Browser) {
    browser.click("form#logout button[type=submit]").await;
    browser.wait_js("logged out", "!!document.querySelector('form#login')", Duration::from_secs(10)).await;
}

/// The execution id of the execution page the browser shows.
async fn execution_on_page(browser: &Browser) -> String {
    let url = browser.url().await;
    url.path()
        .strip_prefix("/executions/")
        .unwrap_or_else(|| panic!("not an execution page: {url}"))
        .to_owned()
}

/// Creates a user and gives them `role` in project `demo` (`None`: no membership).
async fn user(server: &Server, name: &str, role: Option<&str>) {
    server.post_ok("/v1/users", json!({"username": name, "password": PASSWORD})).await;
    if let Some(role) = role {
        let (status, body) = server
            .call(
                reqwest::Method::PUT,
                &format!("/v1/projects/demo/members/{name}"),
                Some(json!({"role": role})),
            )
            .await;
        assert!(status.is_success(), "making {name} a {role}: {status} {body}");
    }
}

async fn login_run_and_rendered_notebook(test: &str, postgres: bool) {
    let Some(browser) = Browser::start_or_skip(test).await else { return };
    let dir = nbw_testkit::tempdir();
    let (server, _agent) = demo(dir.path(), postgres).await;

    // A visitor is sent to the login page, and back where they were going after it.
    browser.goto(&format!("{}/projects/demo", server.base)).await;
    assert_eq!(browser.url().await.path(), "/login");
    browser.find("form#login").await;
    browser.screenshot("login").await;
    submit_login(&browser, "admin", PASSWORD).await;
    browser
        .wait_js("back on the project", "location.pathname === '/projects/demo'", Duration::from_secs(10))
        .await;
    browser.find("#workflows tr.workflow[data-workflow=report]").await;
    browser.screenshot("project").await;

    browser.goto(&format!("{}/", server.base)).await;
    browser.find("#my-projects").await;
    assert!(browser.text("#my-projects").await.contains("demo"));
    browser.screenshot("home").await;

    // Run now, with typed parameters.
    browser.goto(&format!("{}/projects/demo/workflows/report", server.base)).await;
    browser.find("form#run-now").await;
    browser.screenshot("workflow").await;
    let n = "document.querySelector(\"form#run-now [name='p.n']\")";
    assert_eq!(
        browser.js(&format!("return {n}.type;")).await,
        json!("number"),
        "an int parameter has a number input"
    );
    browser.fill("form#run-now [name='p.n']", "7").await;
    browser.fill("form#run-now [name='p.who']", "nbw ui").await;
    browser.click("form#run-now button[type=submit]").await;
    browser.wait_js("on the new execution's page", "location.pathname.startsWith('/executions/')", RUN).await;
    let id = execution_on_page(&browser).await;
    assert!(id.starts_with("web."), "a run from the page is a web. run: {id}");
    let done = server.wait_final(&id, RUN).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let output: Value =
        serde_json::from_slice(&server.get_bytes(&format!("/v1/executions/{id}/output")).await).unwrap();
    let text: String = output["cells"].as_array().unwrap().iter().map(nbw_testkit::cell_text).collect();
    assert!(
        text.contains("n squared is 49 (int), hello nbw ui"),
        "the typed values reach the notebook: {text}"
    );

    // The finished execution: its rendered notebook.
    browser.goto(&format!("{}/executions/{id}", server.base)).await;
    browser.find("#execution[data-state=succeeded]").await;
    assert!(browser.text("#notebook").await.contains("n squared is 49 (int), hello nbw ui"));
    assert_eq!(browser.text("#notebook h1").await.trim(), "Report heading", "markdown is rendered");
    assert_eq!(browser.text("#notebook strong").await, "bold");
    let png = "document.querySelector('#notebook img[src^=\"data:image/png\"]')";
    browser
        .wait_js("the PNG output decodes", &format!("{png} && {png}.complete"), Duration::from_secs(10))
        .await;
    assert_eq!(browser.js(&format!("return {png}.naturalWidth;")).await, json!(40), "the PNG decodes");
    browser.screenshot("execution-finished").await;
    browser.js(&format!("{png}.scrollIntoView({{block: 'center'}}); return true;")).await;
    browser.screenshot("execution-finished-outputs").await;

    browser.goto(&format!("{}/executions", server.base)).await;
    browser.find(&format!("table.exec-table tr.exec[data-execution='{id}'][data-state=succeeded]")).await;
    browser.screenshot("executions").await;

    browser.goto(&format!("{}/agents", server.base)).await;
    browser.find("#agents tr.agent[data-online=true]").await;
    browser.screenshot("agents").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_run_now_with_typed_parameters_and_the_rendered_notebook_on_sqlite() {
    login_run_and_rendered_notebook("login_run_rendered_sqlite", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_run_now_with_typed_parameters_and_the_rendered_notebook_on_postgres() {
    login_run_and_rendered_notebook("login_run_rendered_postgres", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_executions_cells_appear_live_before_it_ends() {
    let Some(browser) = Browser::start_or_skip("live_cells").await else { return };
    let dir = nbw_testkit::tempdir();
    let (server, _agent) = demo(dir.path(), false).await;
    log_in(&browser, &server, "admin", PASSWORD).await;
    let run = server.post_ok("/v1/projects/demo/workflows/slow/run", json!({})).await;
    let id = run["id"].as_str().unwrap();

    // Opened before any output exists; the outputs then arrive over SSE into the same page (a
    // reload would lose the marker set here).
    browser.goto(&format!("{}/executions/{id}", server.base)).await;
    browser.find("#execution").await;
    assert!(!browser.text("body").await.contains("FIRST CELL OUTPUT"), "no output yet when the page opens");
    browser.js("window.nbwSamePage = 1; return true;").await;
    let cells = "document.querySelector('#live-cells')";
    browser
        .wait_js(
            "the first cell's output shows",
            &format!("{cells} && {cells}.textContent.includes('FIRST CELL OUTPUT')"),
            RUN,
        )
        .await;
    browser
        .wait_js(
            "the second cell's output shows",
            &format!("{cells}.textContent.includes('SECOND CELL OUTPUT')"),
            RUN,
        )
        .await;
    assert_eq!(
        server.get_ok(&format!("/v1/executions/{id}")).await["state"],
        "running",
        "the outputs appeared while the run was still running"
    );
    assert_eq!(browser.js("return window.nbwSamePage;").await, json!(1), "the page was not reloaded");
    assert!(
        browser.exists("#live-cells .live-cell[data-state=running]").await,
        "the sleeping cell shows as running"
    );
    browser.screenshot("execution-running").await;

    let done = server.wait_final(id, RUN).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    browser
        .wait_js(
            "the page turns into the rendered notebook once the run ends",
            "document.querySelector('#notebook .nb-cell') && document.body.textContent.includes('LAST CELL OUTPUT')",
            Duration::from_secs(20),
        )
        .await;
    browser.screenshot("execution-ended-live").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notebook_html_and_svg_outputs_run_no_script_in_nbws_origin() {
    let Some(browser) = Browser::start_or_skip("hostile_outputs").await else { return };
    let dir = nbw_testkit::tempdir();
    let (server, _agent) = demo(dir.path(), false).await;
    let run = server.post_ok("/v1/projects/demo/workflows/hostile/run", json!({})).await;
    let id = run["id"].as_str().unwrap();
    assert_eq!(server.wait_final(id, RUN).await["state"], "succeeded");
    let stored = String::from_utf8(server.get_bytes(&format!("/v1/executions/{id}/output")).await).unwrap();
    assert!(stored.contains("onerror") && stored.contains("<script>"), "the notebook does hold the script");

    log_in(&browser, &server, "admin", PASSWORD).await;
    browser.goto(&format!("{}/executions/{id}", server.base)).await;
    browser.find("#notebook").await;
    // The harmless part of the HTML output is shown (upper-cased by the kernel, so not the
    // cell's source): the output was rendered, not dropped.
    let shown = browser.frame_text("#notebook iframe.nb-html").await;
    assert!(shown.contains("HTML OUTPUT KEPT"), "the HTML output is shown: {shown:?}");
    // The frame runs nbw's height reporter (and nothing of the notebook's): it fits its content.
    browser
        .wait_js(
            "the HTML output frame fits its content",
            "!!document.querySelector('#notebook iframe.nb-html[data-fitted]')",
            Duration::from_secs(10),
        )
        .await;
    // Give a broken image's onerror and an SVG's onload the time to fire, were they kept.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        browser.js("return typeof window.nbwPwned;").await,
        json!("undefined"),
        "a notebook output ran script"
    );
    assert_ne!(browser.js("return document.title;").await, json!("pwned"));
    browser.screenshot("execution-hostile").await;
    browser.close().await;
}

/// Waits until execution `id` runs.
async fn wait_running(server: &Server, id: &str) {
    let deadline = std::time::Instant::now() + RUN;
    while server.get_ok(&format!("/v1/executions/{id}")).await["state"] != "running" {
        assert!(std::time::Instant::now() < deadline, "execution {id} never started");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn viewer_and_non_member(test: &str, postgres: bool) {
    let Some(browser) = Browser::start_or_skip(test).await else { return };
    let dir = nbw_testkit::tempdir();
    let (server, _agent) = demo(dir.path(), postgres).await;
    user(&server, "vera", Some("viewer")).await;
    user(&server, "otto", None).await;
    // Long enough to be running still when the viewer looks; cancelled at the end.
    let run =
        server.post_ok("/v1/projects/demo/workflows/slow/run", json!({"parameters": {"pause": 300}})).await;
    let id = run["id"].as_str().unwrap();
    let execution = format!("{}/executions/{id}", server.base);
    let workflow = format!("{}/projects/demo/workflows/report", server.base);

    // The owner's pages have the buttons, so their absence below is the role's doing.
    log_in(&browser, &server, "admin", PASSWORD).await;
    wait_running(&server, id).await;
    browser.goto(&format!("{}/", server.base)).await;
    browser.find(&format!("#running tr.exec[data-execution='{id}']")).await;
    browser.screenshot("home-running").await;
    browser.goto(&workflow).await;
    browser.find("form#run-now").await;
    browser.goto(&execution).await;
    browser.find("form#cancel").await;
    log_out(&browser).await;

    log_in(&browser, &server, "vera", PASSWORD).await;
    browser.goto(&workflow).await;
    browser.find("#history").await;
    assert!(!browser.exists("form#run-now").await, "a viewer sees no run-now form");
    browser.screenshot("workflow-viewer").await;
    browser.goto(&execution).await;
    browser.find("#execution").await;
    assert!(!browser.exists("form#cancel").await, "a viewer sees no cancel button");
    assert!(!browser.exists("form#rerun").await, "a viewer sees no re-run button");
    browser.screenshot("execution-viewer").await;
    log_out(&browser).await;

    log_in(&browser, &server, "otto", PASSWORD).await;
    for page in [format!("{}/projects/demo", server.base), workflow.clone(), execution.clone()] {
        browser.goto(&page).await;
        browser.find("#error[data-status='404']").await;
        assert!(
            !browser.text("main").await.contains("slow.ipynb"),
            "{page} leaks the project to a non-member"
        );
    }
    browser.screenshot("not-found").await;
    browser.close().await;
    server.call(reqwest::Method::POST, &format!("/v1/executions/{id}/cancel"), Some(json!({}))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_sees_no_run_or_cancel_button_and_a_non_member_gets_404_on_sqlite() {
    viewer_and_non_member("roles_sqlite", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_sees_no_run_or_cancel_button_and_a_non_member_gets_404_on_postgres() {
    viewer_and_non_member("roles_postgres", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_shows_an_error_and_logs_nothing_secret() {
    let Some(browser) = Browser::start_or_skip("wrong_password").await else { return };
    let dir = nbw_testkit::tempdir();
    let server = Server::start(dir.path(), &[]).await;
    let wrong = "not-the-password-42";
    browser.goto(&format!("{}/login", server.base)).await;
    submit_login(&browser, "admin", wrong).await;
    let error = browser.text("#login-error").await;
    assert!(!error.is_empty(), "the error says something");
    assert!(!error.contains(wrong), "the error does not echo the password: {error}");
    assert_eq!(browser.url().await.path(), "/login");
    assert_eq!(
        browser.js("return document.querySelector('#password').value;").await,
        json!(""),
        "the password is not refilled"
    );
    browser.screenshot("login-error").await;

    // Still logged out: a page sends the visitor back to the login form.
    browser.goto(&format!("{}/", server.base)).await;
    browser.find("form#login").await;
    browser.close().await;
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
    assert!(!log.contains(wrong), "the server log holds the wrong password");
}

/// The pipeline `fanout` of project `demo`: `prepare`, then `slow` (a few seconds) and `quick`
/// side by side, then `merge` needing both.
async fn define_fanout(server: &Server) {
    let spec = json!({
        "max_parallel": 2,
        "steps": [
            {"name": "prepare", "notebook": "report.ipynb"},
            {"name": "slow", "notebook": "slow.ipynb", "needs": ["prepare"], "parameters": {"pause": 3}},
            {"name": "quick", "notebook": "report.ipynb", "needs": ["prepare"], "parameters": {"n": 2}},
            {"name": "merge", "notebook": "report.ipynb", "needs": ["slow", "quick"]}
        ]
    });
    let (status, body) = server
        .call(reqwest::Method::PUT, "/v1/projects/demo/pipelines/fanout", Some(json!({"spec": spec})))
        .await;
    assert!(status.is_success(), "defining the pipeline: {status} {body}");
}

/// The fill colour the page gives the box of `step` in the run graph.
async fn box_fill(browser: &Browser, step: &str) -> Value {
    browser
        .js(&format!(
            "return getComputedStyle(document.querySelector('#run-dag g.step[data-step={step}] rect')).fill;"
        ))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipeline_runs_from_its_page_and_its_steps_are_coloured_live() {
    let Some(browser) = Browser::start_or_skip("pipeline").await else { return };
    let dir = nbw_testkit::tempdir();
    let (server, _agent) = demo(dir.path(), false).await;
    define_fanout(&server).await;
    log_in(&browser, &server, "admin", PASSWORD).await;

    browser.goto(&format!("{}/projects/demo", server.base)).await;
    browser.find("#pipelines tr.pipeline[data-pipeline=fanout]").await;
    browser.goto(&format!("{}/projects/demo/pipelines/fanout", server.base)).await;
    browser.find("svg#pipeline-dag g.step[data-step=merge]").await;
    assert_eq!(
        browser.js("return document.querySelectorAll('#pipeline-dag path.edge').length;").await,
        json!(4)
    );
    browser.screenshot("pipeline-before").await;

    // Run now opens the run's page, which then follows the steps without a reload.
    browser.click("form#pipeline-run-now button[type=submit]").await;
    browser.wait_js("on the run's page", "location.pathname.startsWith('/pipeline-runs/')", RUN).await;
    let id = browser.url().await.path().strip_prefix("/pipeline-runs/").unwrap().to_owned();
    assert!(id.starts_with("pip."), "{id}");
    browser.find("#pipeline-run[data-live='1']").await;
    browser.js("window.nbwSamePage = 1; return true;").await;
    browser
        .wait_js(
            "the first step turns green while the slow one runs",
            "!!document.querySelector('#run-dag g.step[data-step=prepare][data-state=succeeded]') && \
             !!document.querySelector('#run-dag g.step[data-step=slow][data-state=running]')",
            RUN,
        )
        .await;
    assert_eq!(browser.js("return window.nbwSamePage;").await, json!(1), "coloured live, not by a reload");
    assert_eq!(box_fill(&browser, "prepare").await, json!("rgb(218, 251, 225)"), "succeeded is green");
    assert_eq!(box_fill(&browser, "slow").await, json!("rgb(221, 244, 255)"), "running is blue");
    assert_eq!(box_fill(&browser, "merge").await, json!("rgb(246, 248, 250)"), "pending is grey");
    let badge = browser.js("return document.getElementById('run-state').textContent;").await;
    assert_eq!(badge, json!("running"), "a run whose steps have started is running, live too");
    let href = browser
        .js("return document.querySelector('#run-dag g.step[data-step=prepare] a').getAttribute('href');")
        .await;
    assert!(
        href.as_str().unwrap_or_default().starts_with("/executions/"),
        "the box links its execution: {href}"
    );
    browser.screenshot("pipeline-run-live").await;

    // At the end the page shows every step succeeded.
    let deadline = std::time::Instant::now() + RUN;
    loop {
        let run = server.get_ok(&format!("/v1/projects/demo/pipeline-runs/{id}")).await;
        if run["state"] != "queued" && run["state"] != "running" {
            assert_eq!(run["state"], "succeeded", "{run}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the run never ended: {run}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    browser
        .wait_js(
            "every box is green",
            "document.querySelectorAll('#run-dag g.step[data-state=succeeded]').length === 4 && \
             document.querySelector('#pipeline-run').getAttribute('data-live') === '0'",
            Duration::from_secs(20),
        )
        .await;
    assert_eq!(box_fill(&browser, "merge").await, json!("rgb(218, 251, 225)"));
    browser.screenshot("pipeline-run").await;

    // A step's execution page links back to the run.
    let step = browser
        .js("return document.querySelector('#run-dag g.step[data-step=slow] a').getAttribute('href');")
        .await;
    browser
        .goto(&format!("{}{}", server.base, step.as_str().expect("the slow step links its execution")))
        .await;
    let back = browser.js("return document.querySelector('#pipeline-run-link').getAttribute('href');").await;
    assert_eq!(back, json!(format!("/pipeline-runs/{id}")));
    browser.screenshot("pipeline-step-execution").await;

    browser.goto(&format!("{}/projects/demo/pipelines/fanout", server.base)).await;
    browser.find(&format!("#history tr.pipeline-run[data-run='{id}'][data-state=succeeded]")).await;
    browser.screenshot("pipeline").await;
    browser.goto(&format!("{}/projects/demo", server.base)).await;
    browser.find("#pipelines .strip a.s-succeeded").await;
    browser.screenshot("project-with-pipeline").await;
    browser.close().await;
}
