//! The web UI over HTTP, as a browser without JavaScript uses it (a cookie store, forms), on
//! both backends: login, the session cookie and its flags, the rate limit, CSRF, the
//! Content-Security-Policy, every page for a member, a stranger and a visitor without a
//! session, what a viewer may not do, secrets never shown, the typed run-now form, the
//! executions list's cursor, the event stream on the session cookie, and notebook HTML kept
//! out of nbw's origin.

use crate::web_support::{PASSWORD, Team, notebook};
use reqwest::StatusCode;
use serde_json::json;

both_backends!(login_sets_a_strict_session_cookie_and_logout_ends_it, |backend| async move {
    let team = Team::new(backend).await;
    let browser = team.browser();
    // Without a session every page goes to the login form, which comes back afterwards.
    let home = browser.get("/projects/sales").await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert_eq!(home.location(), "/login?next=%2Fprojects%2Fsales");
    let form = browser.get("/login").await;
    let csp = form.headers["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ] {
        assert!(csp.contains(directive), "{directive} missing from {csp}");
    }
    assert_eq!(form.headers["x-frame-options"], "DENY");
    assert!(form.headers.contains_key("referrer-policy"));
    assert!(form.body.contains("id=\"login\""));

    let ok = browser.login("vic", PASSWORD).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(ok.location(), "/");
    let cookie = ok
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("nbw_session="))
        .expect("a session cookie");
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(flag), "{flag} missing from {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");
    let home = browser.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("href=\"/projects/sales\"") && home.body.contains("id=\"current-user\">vic"));

    // Logging out needs the session's token; afterwards the session is gone.
    assert_eq!(browser.post("/logout", &[]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(browser.get("/").await.status, StatusCode::OK);
    let csrf = browser.csrf().await;
    assert_eq!(browser.post("/logout", &[("csrf", &csrf)]).await.status, StatusCode::SEE_OTHER);
    assert_eq!(browser.get("/").await.status, StatusCode::SEE_OTHER);
});

both_backends!(a_public_https_url_marks_the_cookie_secure, |backend| async move {
    let team = Team::with(backend, |c| c.public_url = Some("https://nbw.example.com".into())).await;
    let ok = team.browser().login("vic", PASSWORD).await;
    let cookies: Vec<&str> = ok.headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap()).collect();
    assert!(cookies.iter().any(|c| c.starts_with("nbw_session=") && c.contains("; Secure")), "{cookies:?}");
});

both_backends!(a_wrong_password_shows_an_error_and_the_limit_locks_like_the_api, |backend| async move {
    let team = Team::with(backend, |c| c.login_max_failures = 2).await;
    let browser = team.browser();
    let wrong = browser.login("vic", "not-my-password-42").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("id=\"login-error\""), "{}", wrong.body);
    assert!(!wrong.body.contains("not-my-password-42"), "the password is not echoed");
    assert!(wrong.body.contains("value=\"vic\""), "the username is kept");
    assert_eq!(browser.login("vic", "another-wrong-one").await.status, StatusCode::UNAUTHORIZED);
    // Locked now, even with the right password: the API's limiter, the API's message.
    let locked = browser.login("vic", PASSWORD).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.body.contains("too many failed logins"), "{}", locked.body);
    let (status, _) = team
        .server
        .call(
            reqwest::Method::POST,
            "/v1/auth/login",
            None,
            Some(json!({"username": "vic", "password": PASSWORD})),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "one limit for the API and the pages");
    // A login form without its token is refused before the password is looked at.
    let bare = team.browser().post("/login", &[("username", "ed"), ("password", PASSWORD)]).await;
    assert_eq!(bare.status, StatusCode::FORBIDDEN);
});

both_backends!(every_page_answers_members_and_hides_from_strangers, |backend| async move {
    let team = Team::new(backend).await;
    let id = team.run_report().await;
    let pages = [
        "/".to_owned(),
        "/projects/sales".to_owned(),
        "/projects/sales/workflows/report".to_owned(),
        "/executions".to_owned(),
        "/executions?project=sales&workflow=report&state=queued&origin=web".to_owned(),
        format!("/executions/{id}"),
    ];
    let viewer = team.logged_in("vic").await;
    for page in &pages {
        let got = viewer.get(page).await;
        assert_eq!(got.status, StatusCode::OK, "{page}: {}", got.body);
        assert!(got.headers["content-security-policy"].to_str().unwrap().contains("script-src 'self'"));
    }
    let project = viewer.get("/projects/sales").await.body;
    assert!(project.contains("every day at 06:00 Europe/Madrid"), "{project}");
    let stranger = team.logged_in("sam").await;
    for page in &pages[1..] {
        if page == "/executions" {
            continue;
        }
        let got = stranger.get(page).await;
        assert_eq!(got.status, StatusCode::NOT_FOUND, "{page}");
        assert!(got.body.contains("id=\"error\"") && !got.body.contains("Sales reports"), "{page}");
        assert!(got.body.contains("id=\"current-user\">sam"), "the 404 page keeps the user's header");
    }
    assert!(!stranger.get("/executions").await.body.contains(&id), "a stranger's list has none of sales");
    assert_eq!(stranger.get(&format!("/executions/{id}/events")).await.status, StatusCode::NOT_FOUND);
    let anonymous = team.browser();
    for page in &pages {
        let got = anonymous.get(page).await;
        assert_eq!(got.status, StatusCode::SEE_OTHER, "{page}");
        assert!(got.location().starts_with("/login?next="), "{page}");
    }
    // Agents are for administrators; unknown paths get the 404 page, unknown API paths JSON.
    assert_eq!(viewer.get("/agents").await.status, StatusCode::FORBIDDEN);
    let admin = team.logged_in("root").await;
    let agents = admin.get("/agents").await;
    assert_eq!(agents.status, StatusCode::OK);
    assert!(agents.body.contains("id=\"agents\""));
    let missing = viewer.get("/no/such/page").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("data-status=\"404\""));
    let api_missing = viewer.get("/v1/no-such-route").await;
    assert_eq!(api_missing.status, StatusCode::NOT_FOUND);
    assert!(api_missing.body.contains("\"not_found\""));
    // The event stream takes the session cookie.
    let stream = viewer.open_stream(&format!("/executions/{id}/events")).await;
    assert_eq!(stream.0, StatusCode::OK);
    assert_eq!(stream.1, "text/event-stream");
});

both_backends!(viewers_see_no_buttons_and_their_posts_are_refused, |backend| async move {
    let team = Team::new(backend).await;
    let id = team.run_report().await;
    team.api("PUT", "/v1/projects/sales/secrets/API_TOKEN", json!({"value": "x"})).await;
    let viewer = team.logged_in("vic").await;
    let pages = [
        viewer.get("/projects/sales").await.body,
        viewer.get("/projects/sales/workflows/report").await.body,
        viewer.get(&format!("/executions/{id}")).await.body,
    ];
    for body in &pages {
        for control in [
            "id=\"run-now\"",
            "id=\"cancel\"",
            "id=\"rerun\"",
            "schedule-toggle",
            "id=\"secret-set\"",
            "secret-delete",
        ] {
            assert!(!body.contains(control), "a viewer sees {control}");
        }
    }
    let csrf = viewer.csrf().await;
    let before = team.execution_count().await;
    let run = viewer.post("/projects/sales/workflows/report/run", &[("csrf", &csrf), ("p.n", "4")]).await;
    assert_eq!(run.status, StatusCode::FORBIDDEN);
    assert_eq!(
        viewer.post(&format!("/executions/{id}/cancel"), &[("csrf", &csrf)]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(team.execution_count().await, before, "nothing was queued");
    let toggle = viewer
        .post("/projects/sales/workflows/report/schedule", &[("csrf", &csrf), ("enabled", "false")])
        .await;
    assert_eq!(toggle.status, StatusCode::FORBIDDEN);

    // An editor gets run, cancel, re-run and the toggle, but no secret forms (owners only).
    let editor = team.logged_in("ed").await;
    let execution = editor.get(&format!("/executions/{id}")).await.body;
    assert!(execution.contains("id=\"cancel\"") && execution.contains("id=\"rerun\""));
    let project = editor.get("/projects/sales").await.body;
    assert!(project.contains("schedule-toggle") && !project.contains("id=\"secret-set\""));
    let owner = team.logged_in("olga").await;
    assert!(owner.get("/projects/sales").await.body.contains("id=\"secret-set\""));
});

both_backends!(forms_without_the_session_csrf_token_change_nothing, |backend| async move {
    let team = Team::new(backend).await;
    let id = team.run_report().await;
    let owner = team.logged_in("olga").await;
    let cancel = format!("/executions/{id}/cancel");
    for fields in [vec![], vec![("csrf", "0123456789abcdef0123456789abcdef")]] {
        let refused = owner.post(&cancel, &fields).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert!(refused.body.contains("nothing was changed"));
        let secret = [&fields[..], &[("name", "LEAK"), ("value", "v")]].concat();
        assert_eq!(owner.post("/projects/sales/secrets", &secret).await.status, StatusCode::FORBIDDEN);
    }
    let state = |body: String| body.contains("id=\"state\">queued");
    assert!(state(owner.get(&format!("/executions/{id}")).await.body), "still queued");
    assert!(!owner.get("/projects/sales").await.body.contains("LEAK"));
    // Another session's token is not this session's.
    let other = team.logged_in("olga").await.csrf().await;
    assert_eq!(owner.post(&cancel, &[("csrf", &other)]).await.status, StatusCode::FORBIDDEN);
    let csrf = owner.csrf().await;
    assert_ne!(csrf, other);
    let done = owner.post(&cancel, &[("csrf", &csrf)]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert!(owner.get(&format!("/executions/{id}")).await.body.contains("id=\"state\">cancelled"));
});

both_backends!(secret_values_never_appear_in_any_page, |backend| async move {
    let team = Team::new(backend).await;
    let owner = team.logged_in("olga").await;
    let csrf = owner.csrf().await;
    let value = "s3cr3t-value-that-must-not-show";
    let set = owner
        .post("/projects/sales/secrets", &[("csrf", &csrf), ("name", "API_TOKEN"), ("value", value)])
        .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER);
    let id = team.run_report().await;
    let project = owner.get("/projects/sales").await.body;
    assert!(project.contains("data-secret=\"API_TOKEN\""));
    for path in [
        "/",
        "/projects/sales",
        "/projects/sales/workflows/report",
        "/executions",
        &format!("/executions/{id}"),
    ] {
        assert!(!owner.get(path).await.body.contains(value), "{path} shows the secret");
    }
    let delete = owner.post("/projects/sales/secrets/API_TOKEN/delete", &[("csrf", &csrf)]).await;
    assert_eq!(delete.status, StatusCode::SEE_OTHER);
    assert!(!owner.get("/projects/sales").await.body.contains("data-secret=\"API_TOKEN\""));
});

both_backends!(run_now_checks_typed_parameters_before_queueing, |backend| async move {
    let team = Team::new(backend).await;
    let editor = team.logged_in("ed").await;
    let form = editor.get("/projects/sales/workflows/report").await.body;
    for field in [
        "type=\"number\" step=\"1\" id=\"p-n\" name=\"p.n\" value=\"3\"",
        "id=\"p-name\" name=\"p.name\" value=\"world\"",
        "type=\"checkbox\" id=\"p-flag\" name=\"p.flag\" value=\"true\" checked",
        "name=\"p.xs\" rows=\"3\">[1, 2]</textarea>",
        "how many rows",
    ] {
        assert!(form.contains(field), "{field} missing from the form: {form}");
    }
    let csrf = editor.csrf().await;
    let bad = [("csrf", csrf.as_str()), ("p.n", "three"), ("p.name", "Ada"), ("p.xs", "{\"a\": 1}")];
    let refused = editor.post("/projects/sales/workflows/report/run", &bad).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("class=\"field-error\" data-field=\"n\""), "{}", refused.body);
    assert!(refused.body.contains("class=\"field-error\" data-field=\"xs\""));
    assert!(
        refused.body.contains("value=\"three\"") && refused.body.contains("value=\"Ada\""),
        "values kept"
    );
    assert!(
        !refused.body.contains("name=\"p.flag\" value=\"true\" checked"),
        "an unticked box stays unticked"
    );
    assert_eq!(team.execution_count().await, 0, "nothing queued");

    let good =
        [("csrf", csrf.as_str()), ("p.n", "5"), ("p.name", "Ada"), ("p.flag", "true"), ("p.xs", "[3]")];
    let queued = editor.post("/projects/sales/workflows/report/run", &good).await;
    assert_eq!(queued.status, StatusCode::SEE_OTHER, "{}", queued.body);
    let id = queued.location().strip_prefix("/executions/").unwrap().to_owned();
    assert!(id.starts_with("web."), "{id}");
    let (_, execution) = team.server.get(&format!("/v1/executions/{id}"), &team.owner_token).await;
    assert_eq!(execution["spec"]["parameters"], json!({"n": 5, "name": "Ada", "flag": true, "xs": [3]}));
    // Re-run copies the parameters.
    let rerun = editor.post(&format!("/executions/{id}/rerun"), &[("csrf", &csrf)]).await;
    assert_eq!(rerun.status, StatusCode::SEE_OTHER);
    let again = rerun.location().strip_prefix("/executions/").unwrap().to_owned();
    let (_, copy) = team.server.get(&format!("/v1/executions/{again}"), &team.owner_token).await;
    assert_eq!(copy["spec"]["parameters"], execution["spec"]["parameters"]);
    assert_ne!(again, id);
});

both_backends!(notebook_html_never_runs_in_nbws_origin, |backend| async move {
    let team = Team::new(backend).await;
    let mut output = notebook();
    output["cells"][1]["outputs"] = json!([
        {"output_type": "display_data", "metadata": {},
         "data": {"text/html": "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"}},
        {"output_type": "error", "ename": "ValueError", "evalue": "bad", "traceback": ["ValueError: bad"]}
    ]);
    output["cells"][1]["metadata"] = json!({"papermill": {"status": "failed", "duration": 0.25}});
    output["cells"].as_array_mut().unwrap().push(json!({"cell_type": "markdown", "metadata": {},
        "source": "# Result\n<script>document.title='pwned'</script><img src=x onerror=alert(1)>"}));
    let id = team.finished_run(&output, "failed").await;
    let viewer = team.logged_in("vic").await;
    let page = viewer.get(&format!("/executions/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"notebook\""), "{}", page.body);
    assert!(page.body.contains("<h1>Result</h1>"), "markdown rendered");
    assert!(!page.body.contains("<script>document"), "no notebook script in the page itself");
    assert!(!page.body.contains("<img src=x onerror") && !page.body.contains("onerror=alert"));
    // A sandboxed frame with an opaque origin, whose only script is nbw's height reporter.
    assert!(page.body.contains("sandbox=\"allow-scripts\""), "HTML output in a sandboxed frame");
    assert!(!page.body.contains("allow-same-origin"));
    assert!(page.body.contains("srcdoc=\"&lt;script src=&quot;/assets/frame."));
    assert!(
        page.body.contains("id=\"failed-cell-link\" class=\"failed-link\" href=\"#papermill-error-cell\"")
    );
    // The only scripts are nbw's own file.
    assert_eq!(page.body.matches("<script").count(), 1);
    let download = viewer.get(&format!("/executions/{id}/download")).await;
    assert_eq!(download.status, StatusCode::OK);
    assert!(download.headers["content-disposition"].to_str().unwrap().starts_with("attachment"));
    assert!(page.body.contains("id=\"download\""));
});

both_backends!(the_executions_list_pages_by_cursor_and_filters, |backend| async move {
    let team = Team::new(backend).await;
    let mut ids = Vec::new();
    for _ in 0..55 {
        ids.push(team.run_report().await);
    }
    let viewer = team.logged_in("vic").await;
    let first = viewer.get("/executions").await;
    assert_eq!(first.body.matches("<tr class=\"exec\"").count(), 50);
    let marker = "id=\"next-page\"";
    let link_start = first.body.find("href=\"/executions?cursor=").expect("a next page link");
    assert!(first.body.contains(marker));
    let link: String = first.body[link_start + 6..].split('"').next().unwrap().replace("&amp;", "&");
    let second = viewer.get(&link).await;
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(second.body.matches("<tr class=\"exec\"").count(), 5);
    assert!(!second.body.contains(marker));
    // Together, every execution once.
    for id in &ids {
        assert_eq!(
            first.body.matches(&format!("data-execution=\"{id}\"")).count()
                + second.body.matches(&format!("data-execution=\"{id}\"")).count(),
            1
        );
    }
    let none = viewer.get("/executions?state=succeeded").await.body;
    assert_eq!(none.matches("<tr class=\"exec\"").count(), 0);
    let scheduled = viewer.get("/executions?origin=sch").await.body;
    assert_eq!(scheduled.matches("<tr class=\"exec\"").count(), 0);
    let bad = viewer.get("/executions?state=exploded").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("is not one of"));
});

both_backends!(a_running_execution_streams_its_cells_on_the_session_cookie, |backend| async move {
    let team = Team::new(backend).await;
    let id = team.run_report().await;
    let output = json!({"cell": 1, "output": {"output_type": "stream", "name": "stdout", "text": "hello\n"}});
    team.running_with_events(&id, &[("cell_start", json!({"cell": 1, "ordinal": 1})), ("output", output)])
        .await;
    let viewer = team.logged_in("vic").await;
    let page = viewer.get(&format!("/executions/{id}")).await.body;
    assert!(page.contains("data-state=\"running\" data-live=\"1\""), "{page}");
    assert!(
        page.contains("id=\"live-cells\"")
            && page.contains(&format!("data-events=\"/executions/{id}/events\""))
    );
    // From the start, then resumed after event 1 as EventSource does after a reconnect.
    let all = viewer.read_stream(&format!("/executions/{id}/events"), "0", "hello").await;
    assert!(all.contains("id: 1\nevent: cell_start") || all.contains("event: cell_start\nid: 1"), "{all}");
    let resumed = viewer.read_stream(&format!("/executions/{id}/events"), "1", "hello").await;
    assert!(!resumed.contains("cell_start") && resumed.contains("hello"), "{resumed}");
    // Without a session there is no stream.
    let anonymous = team.browser().get(&format!("/executions/{id}/events")).await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
});

/// The `href` targets of `<a>` elements in `body` that start with `prefix`.
fn links(body: &str, prefix: &str) -> Vec<String> {
    body.match_indices(&format!("href=\"{prefix}"))
        .map(|(at, _)| body[at + 6..].split('"').next().unwrap().to_owned())
        .collect()
}

both_backends!(pipeline_pages_draw_the_graph_and_hide_from_strangers, |backend| async move {
    let team = Team::new(backend).await;
    team.define_daily().await;
    let run = team.run_daily().await;
    let id = run["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("pip."), "{id}");
    let extract = run["steps"][0]["execution_id"].as_str().expect("the first step is queued").to_owned();

    // The project page lists it: schedule in words, a strip linking the run, no button for a viewer.
    let viewer = team.logged_in("vic").await;
    let project = viewer.get("/projects/sales").await.body;
    assert!(project.contains("tr class=\"pipeline\" data-pipeline=\"daily\""), "{project}");
    assert!(project.contains("href=\"/projects/sales/pipelines/daily\""));
    assert_eq!(links(&project, "/pipeline-runs/"), [format!("/pipeline-runs/{id}")]);
    assert!(!project.contains("pipeline-run-now"), "a viewer sees no run button");
    let editor = team.logged_in("ed").await;
    assert!(editor.get("/projects/sales").await.body.contains("class=\"inline pipeline-run-now\""));

    // The pipeline page: four boxes in three columns, four edges, the definition, the history.
    let page = viewer.get("/projects/sales/pipelines/daily").await;
    assert_eq!(page.status, StatusCode::OK);
    let body = &page.body;
    assert!(body.contains("<svg id=\"pipeline-dag\" class=\"dag\""), "{body}");
    assert_eq!(body.matches("<g class=\"step\"").count(), 4);
    assert_eq!(body.matches("<path class=\"edge\"").count(), 4);
    for (from, to) in [("extract", "emea"), ("extract", "apac"), ("emea", "report"), ("apac", "report")] {
        assert!(body.contains(&format!("data-from=\"{from}\" data-to=\"{to}\"")), "{from} → {to}");
    }
    assert!(body.contains("every day at 06:00 Europe/Madrid") && body.contains("one volume for every step"));
    assert!(body.contains(&format!("tr class=\"pipeline-run\" data-run=\"{id}\" data-state=\"queued\"")));
    assert!(!body.contains("id=\"pipeline-run-now\""), "a viewer sees no run button");
    assert!(
        body.contains("<div class=\"crumbs\"><a href=\"/projects/sales\">sales</a>")
            && body.contains("/ daily</div>")
    );
    assert!(editor.get("/projects/sales/pipelines/daily").await.body.contains("id=\"pipeline-run-now\""));

    // The run page: boxes by state, the running step linked to its execution; a viewer has no
    // buttons, an editor can cancel.
    let run_page = viewer.get(&format!("/pipeline-runs/{id}")).await;
    assert_eq!(run_page.status, StatusCode::OK);
    let body = &run_page.body;
    assert!(
        body.contains("<g class=\"step\" data-step=\"extract\" data-state=\"queued\"><a href=\""),
        "{body}"
    );
    assert!(body.contains(&format!("href=\"/executions/{extract}\"")));
    assert!(body.contains("data-step=\"report\" data-state=\"pending\"><a>"), "no link before an execution");
    assert!(body.contains(&format!("data-events=\"/pipeline-runs/{id}/events\"")));
    assert!(!body.contains("pipeline-cancel") && !body.contains("pipeline-rerun"), "a viewer has no buttons");
    let edited = editor.get(&format!("/pipeline-runs/{id}")).await.body;
    assert!(edited.contains("id=\"pipeline-cancel\"") && !edited.contains("id=\"pipeline-rerun\""));

    // A step's execution page links back to its run.
    let step_page = viewer.get(&format!("/executions/{extract}")).await.body;
    assert!(
        step_page.contains(&format!("id=\"pipeline-run-link\" class=\"mono\" href=\"/pipeline-runs/{id}\""))
    );
    assert!(step_page.contains(&format!("/ {extract}</div>")), "the crumbs end with the execution's id");

    // The step stream on the session cookie.
    let stream = viewer.read_stream(&format!("/pipeline-runs/{id}/events"), "-1", "\"report\"").await;
    assert!(stream.contains("event: step") && stream.contains("\"name\":\"extract\""), "{stream}");

    // A stranger gets the 404 page everywhere; a visitor the login page.
    let stranger = team.logged_in("sam").await;
    for path in [
        "/projects/sales/pipelines/daily".to_owned(),
        format!("/pipeline-runs/{id}"),
        format!("/pipeline-runs/{id}/events"),
        "/pipeline-runs/pip.nosuchrun".to_owned(),
        "/projects/sales/pipelines/nosuch".to_owned(),
    ] {
        let got = stranger.get(&path).await;
        assert_eq!(got.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!got.body.contains("extract"), "{path} leaks the pipeline");
    }
    assert_eq!(viewer.get("/projects/sales/pipelines/nosuch").await.status, StatusCode::NOT_FOUND);
    let anonymous = team.browser();
    for path in ["/projects/sales/pipelines/daily".to_owned(), format!("/pipeline-runs/{id}")] {
        assert!(anonymous.get(&path).await.location().starts_with("/login?next="), "{path}");
    }
});

both_backends!(pipeline_buttons_check_the_role_and_the_csrf_token, |backend| async move {
    let team = Team::new(backend).await;
    team.define_daily().await;
    let viewer = team.logged_in("vic").await;
    let editor = team.logged_in("ed").await;
    let stranger = team.logged_in("sam").await;
    let run_now = "/projects/sales/pipelines/daily/run";

    // Run now: a viewer is refused, a form without this session's token is refused.
    let viewer_csrf = viewer.csrf().await;
    assert_eq!(viewer.post(run_now, &[("csrf", &viewer_csrf)]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(editor.post(run_now, &[]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(editor.post(run_now, &[("csrf", &viewer_csrf)]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        stranger.post(run_now, &[("csrf", &stranger.csrf().await)]).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(team.daily_run_count().await, 0, "nothing ran");
    let csrf = editor.csrf().await;
    let started = editor.post(run_now, &[("csrf", &csrf)]).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let id = started.location().strip_prefix("/pipeline-runs/").expect("opens the run").to_owned();
    assert_eq!(team.pipeline_run(&id).await["origin"], "web");
    assert_eq!(team.daily_run_count().await, 1);

    // Cancel: the same checks, then it cancels every step.
    let cancel = format!("/pipeline-runs/{id}/cancel");
    assert_eq!(viewer.post(&cancel, &[("csrf", &viewer_csrf)]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(editor.post(&cancel, &[]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        stranger.post(&cancel, &[("csrf", &stranger.csrf().await)]).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(team.pipeline_run(&id).await["state"], "queued", "not cancelled");
    assert_eq!(editor.post(&cancel, &[("csrf", &csrf)]).await.status, StatusCode::SEE_OTHER);
    let cancelled = team.pipeline_run(&id).await;
    assert_eq!(cancelled["state"], "cancelled");
    let page = editor.get(&format!("/pipeline-runs/{id}")).await.body;
    assert!(page.contains("data-state=\"cancelled\" data-live=\"0\""), "{page}");
    assert!(!page.contains("id=\"pipeline-cancel\"") && page.contains("id=\"pipeline-rerun\""));
    assert!(!viewer.get(&format!("/pipeline-runs/{id}")).await.body.contains("pipeline-rerun"));

    // Re-run from failed: refused to a viewer and without the token; then a new run of it.
    let rerun = format!("/pipeline-runs/{id}/rerun");
    assert_eq!(viewer.post(&rerun, &[("csrf", &viewer_csrf)]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        editor.post(&rerun, &[("csrf", "0123456789abcdef0123456789abcdef")]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(team.daily_run_count().await, 1);
    let again = editor.post(&rerun, &[("csrf", &csrf)]).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    let new_id = again.location().strip_prefix("/pipeline-runs/").unwrap().to_owned();
    assert_ne!(new_id, id);
    assert_eq!(team.pipeline_run(&new_id).await["rerun_of"], id.as_str());
    assert!(
        viewer
            .get(&format!("/pipeline-runs/{new_id}"))
            .await
            .body
            .contains(&format!("id=\"rerun-of\" href=\"/pipeline-runs/{id}\""))
    );
});

both_backends!(a_failed_step_colours_its_box_and_skips_its_dependents, |backend| async move {
    let team = Team::new(backend).await;
    team.define_daily().await;
    let id = team.run_daily().await["id"].as_str().unwrap().to_owned();
    let token = team.agent_token("a1").await;
    let extract = team.claim_and_end(&token, "succeeded").await;
    let emea = team.claim_and_end(&token, "failed").await;
    let apac = team.claim_and_end(&token, "succeeded").await;
    let run = team.pipeline_run(&id).await;
    assert_eq!(run["state"], "failed", "{run}");
    let viewer = team.logged_in("vic").await;
    let body = viewer.get(&format!("/pipeline-runs/{id}")).await.body;
    for (step, state, execution) in [
        ("extract", "succeeded", Some(&extract)),
        ("emea", "failed", Some(&emea)),
        ("apac", "succeeded", Some(&apac)),
        ("report", "skipped", None),
    ] {
        let marker = format!("<g class=\"step\" data-step=\"{step}\" data-state=\"{state}\"><a");
        assert!(body.contains(&marker), "{marker} in {body}");
        if let Some(e) = execution {
            assert!(body.contains(&format!("href=\"/executions/{e}\"")), "{step} links its execution");
        }
    }
    assert!(body.contains("data-state=\"failed\" data-live=\"0\""));
    // The project strip and the history show the outcome.
    assert!(
        viewer
            .get("/projects/sales")
            .await
            .body
            .contains(&format!("class=\"s-failed\" href=\"/pipeline-runs/{id}\""))
    );
    let history = viewer.get("/projects/sales/pipelines/daily").await.body;
    assert!(history.contains(&format!("data-run=\"{id}\" data-state=\"failed\"")));
    // The ended stream replays the steps, then run_end, and closes.
    let stream = viewer.read_stream(&format!("/pipeline-runs/{id}/events"), "-1", "event: run_end").await;
    assert!(stream.contains("\"state\":\"skipped\"") && stream.contains("event: run_end"), "{stream}");
});

both_backends!(
    polish_on_demand_workflows_small_bundles_empty_tables_and_single_attempts,
    |backend| async move {
        let team = Team::new(backend).await;
        team.api_post("/v1/projects/sales/workflows", json!({"name": "adhoc", "notebook": "report.ipynb"}))
            .await;
        let editor = team.logged_in("ed").await;
        let project = editor.get("/projects/sales").await.body;
        let row = |name: &str| {
            let start = project.find(&format!("data-workflow=\"{name}\"")).unwrap();
            project[start..].split("</tr>").next().unwrap().to_owned()
        };
        assert!(row("report").contains("schedule-toggle"), "a scheduled workflow can be disabled");
        assert!(!row("adhoc").contains("schedule-toggle"), "an on-demand workflow has nothing to disable");
        // The test bundle is a few KiB: never "0 KiB".
        assert!(!project.contains(" 0 KiB"), "{project}");
        let size = project.split("data-version=\"v1\"").nth(1).unwrap().split("</tr>").next().unwrap();
        assert!(size.contains(" KiB</td>") || size.contains(" B</td>"), "{size}");
        // Empty lists say so instead of drawing an empty table.
        assert!(project.contains("No secrets.") && !project.contains("<table><tbody>\n  </tbody></table>"));
        assert!(project.contains("No pipelines yet"));
        let home = editor.get("/").await.body;
        assert!(
            home.contains("Nothing is running.") && !home.contains("<table class=\"exec-table\">"),
            "{home}"
        );
        // A first attempt shows no Attempts section.
        let id = team.run_report().await;
        let page = editor.get(&format!("/executions/{id}")).await.body;
        assert!(!page.contains("id=\"attempts\""), "only one attempt");
        assert!(page.contains(&format!("/ {id}</div>")), "the crumbs end with the id");
    }
);

both_backends!(the_agents_page_shows_version_online_and_current_runs, |backend| async move {
    let team = Team::new(backend).await;
    let id = team.run_report().await;
    let token = team.agent_token("a1").await;
    team.agent_token("idle").await;
    let (status, _) = team.server.put("/v1/agent/self", &token, json!({"version": "9.8.7"})).await;
    assert!(status.is_success());
    let (status, claim) = team.server.post("/v1/agent/claim", &token, json!({"wait_secs": 0})).await;
    assert_eq!(claim["claim"]["execution"]["id"], json!(id), "{status} {claim}");
    let admin = team.logged_in("root").await;
    let body = admin.get("/agents").await.body;
    let line = |name: &str| {
        let start =
            body.find(&format!("<strong>{name}</strong>")).unwrap_or_else(|| panic!("{name} in {body}"));
        let end = body[start..].find("</tr>").map_or(body.len(), |e| start + e);
        body[start..end].to_owned()
    };
    let a1 = line("a1");
    assert!(a1.contains(">9.8.7<") && a1.contains(">online<"), "{a1}");
    assert!(a1.contains(&format!("href=\"/executions/{id}\"")), "{a1}");
    let idle = line("idle");
    assert!(
        idle.contains("not yet started") && idle.contains(">offline<") && idle.contains(">idle<"),
        "{idle}"
    );
});
