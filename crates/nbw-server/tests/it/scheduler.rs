//! The scheduler on both backends, with a clock the tests control: each test calls
//! `scheduler::tick` with the `now` it chooses, so three hours of downtime or a night of
//! daylight-saving changes take milliseconds. The last tests run two servers on one database,
//! with the real loop and its leader lock, and without any lock.

use chrono::{DateTime, Duration, Utc};
use nbw_core::api::{FireError, WorkflowSpec};
use nbw_server::artifacts::Artifacts;
use nbw_server::auth::Keys;
use nbw_server::db::{Db, Pg, to_time};
use nbw_server::scheduler::schedule;
use nbw_server::scheduler::{self, TickReport};
use nbw_server::state::AppState;
use nbw_server::store::runtimes::{NewRuntime, OnConflict};
use nbw_server::store::workflows::{self, WorkflowRow};
use nbw_server::{on_db, store};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::support::{Backend, TestServer};

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// A project `name` with one bundle holding `main.ipynb` (no bundle when `with_bundle` is
/// false); returns the project id.
async fn project(state: &AppState, name: &str, with_bundle: bool) -> String {
    let user =
        store::users::insert(&state.db, &format!("{name}-owner"), "not-a-real-hash", false).await.unwrap();
    let project = store::projects::create(&state.db, name, "", &user.id).await.unwrap().unwrap();
    if with_bundle {
        let notebooks = ["main.ipynb".to_owned()];
        store::bundles::insert(&state.db, &project.id, "v1", "sha256:00", "tar.gz", 10, &notebooks, &user.id)
            .await
            .unwrap();
    }
    project.id
}

/// A workflow running `main.ipynb` on `schedule` (JSON), created at `now` the way the API
/// creates one: `next_fire_at` is the schedule's first fire time after `now`.
async fn workflow(
    state: &AppState,
    project_id: &str,
    name: &str,
    schedule: Value,
    now: DateTime<Utc>,
) -> WorkflowRow {
    workflow_running(state, project_id, name, "main.ipynb", schedule, now).await
}

async fn workflow_running(
    state: &AppState,
    project_id: &str,
    name: &str,
    notebook: &str,
    schedule: Value,
    now: DateTime<Utc>,
) -> WorkflowRow {
    let spec: WorkflowSpec =
        serde_json::from_value(json!({"notebook": notebook, "schedule": schedule})).unwrap();
    let next = next_fire(&spec, now);
    workflows::insert(&state.db, project_id, name, &spec, true, next).await.unwrap()
}

/// What the API stores as `next_fire_at` after a change at `now`.
fn next_fire(spec: &WorkflowSpec, now: DateTime<Utc>) -> Option<i64> {
    let compiled = schedule::compile(spec.schedule.as_ref()?).unwrap();
    compiled.next_after(now, now).map(|t| t.timestamp_millis())
}

/// An edit through the store, as the API makes it: new spec and flag, `next_fire_at` recomputed.
async fn edit(state: &AppState, row: &WorkflowRow, schedule: Value, enabled: bool, now: DateTime<Utc>) {
    let mut spec = row.spec();
    spec.schedule = Some(serde_json::from_value(schedule).unwrap());
    // Keep next_fire_at even when disabled: the enabled flag alone must stop the fires.
    workflows::update(&state.db, &row.id, &row.name, &spec, enabled, next_fire(&spec, now)).await.unwrap();
}

/// The executions of `workflow_id`: (id, scheduled_for), by fire time.
async fn runs(state: &AppState, workflow_id: &str) -> Vec<(String, DateTime<Utc>)> {
    let sql = "SELECT id, scheduled_for FROM executions WHERE workflow_id = $1 ORDER BY scheduled_for";
    let rows: Vec<(String, Option<i64>)> =
        on_db!(&state.db, pool => sqlx::query_as(sql).bind(workflow_id).fetch_all(pool).await).unwrap();
    rows.into_iter().map(|(id, at)| (id, to_time(at.expect("scheduled runs have a fire time")))).collect()
}

async fn fire_times(state: &AppState, workflow_id: &str) -> Vec<DateTime<Utc>> {
    runs(state, workflow_id).await.into_iter().map(|(_, at)| at).collect()
}

async fn next_fire_at(state: &AppState, workflow_id: &str) -> Option<DateTime<Utc>> {
    workflows::by_id(&state.db, workflow_id).await.unwrap().unwrap().next_fire_at.map(to_time)
}

fn sum(total: &mut TickReport, one: &TickReport) {
    total.due += one.due;
    total.fired += one.fired;
    total.duplicates += one.duplicates;
    total.misfired += one.misfired;
    total.failed += one.failed;
    total.errors += one.errors;
    total.superseded += one.superseded;
}

/// Ticks every `step` from `from` to `to` (inclusive).
async fn tick_every(state: &AppState, from: DateTime<Utc>, to: DateTime<Utc>, step: Duration) -> TickReport {
    let mut total = TickReport::default();
    let mut now = from;
    while now <= to {
        sum(&mut total, &scheduler::tick(state, now).await.unwrap());
        now += step;
    }
    total
}

/// A clock that never jumps over a fire: it ticks every `step`, and also one second after the
/// earliest stored `next_fire_at`, as a server ticking every second would.
async fn run_clock(state: &AppState, from: DateTime<Utc>, to: DateTime<Utc>, step: Duration) -> TickReport {
    let mut total = TickReport::default();
    let mut now = from;
    while now <= to {
        sum(&mut total, &scheduler::tick(state, now).await.unwrap());
        let sql = "SELECT MIN(next_fire_at) FROM workflows WHERE enabled = TRUE";
        let (earliest,): (Option<i64>,) =
            on_db!(&state.db, pool => sqlx::query_as(sql).fetch_one(pool).await).unwrap();
        let mut next = now + step;
        if let Some(earliest) = earliest {
            next = next.min(to_time(earliest) + Duration::seconds(1));
        }
        assert!(next > now, "the scheduler left a fire time in the past");
        now = next;
    }
    total
}

fn every(first: &str, step: Duration, count: i32) -> Vec<DateTime<Utc>> {
    (0..count).map(|k| t(first) + step * k).collect()
}

both_backends!(a_minute_cron_fires_ten_times_in_ten_minutes, |backend| async move {
    let server = TestServer::start(backend).await;
    let state = &server.state;
    let project = project(state, "p", true).await;
    let start = t("2026-05-04T10:00:30Z");
    let wf = workflow(state, &project, "minutely", json!({"cron": "* * * * *"}), start).await;
    assert_eq!(wf.next_fire_at.map(to_time), Some(t("2026-05-04T10:01:00Z")));

    let report = tick_every(state, start, start + Duration::minutes(10), Duration::seconds(10)).await;
    assert_eq!(report.fired, 10, "{report:?}");
    assert_eq!((report.misfired, report.failed, report.errors, report.superseded), (0, 0, 0, 0));
    let runs = runs(state, &wf.id).await;
    assert!(runs.iter().all(|(id, _)| id.starts_with("sch.")), "{runs:?}");
    let times: Vec<_> = runs.into_iter().map(|(_, at)| at).collect();
    assert_eq!(times, every("2026-05-04T10:01:00Z", Duration::minutes(1), 10));
    assert_eq!(next_fire_at(state, &wf.id).await, Some(t("2026-05-04T10:11:00Z")));

    // A tick at a time already handled finds nothing due.
    let again = scheduler::tick(state, start + Duration::minutes(10)).await.unwrap();
    assert_eq!(again, TickReport::default());
    // The executions are ordinary queued runs of the workflow.
    let filter = store::executions::Filter { project_id: project.clone(), limit: 100, ..Default::default() };
    let listed = store::executions::list(&state.db, &filter).await.unwrap();
    assert_eq!(listed.len(), 10);
    let execution = listed[0].to_api();
    assert_eq!(execution.workflow_id.as_deref(), Some(wf.id.as_str()));
    assert_eq!(execution.spec.notebook, "main.ipynb");
    assert_eq!(execution.state, nbw_core::api::ExecutionState::Queued);
});

both_backends!(berlin_across_both_daylight_saving_changes, |backend| async move {
    let server = TestServer::start(backend).await;
    let state = &server.state;
    let project = project(state, "p", true).await;
    let berlin = |cron: &str| json!({"cron": cron, "timezone": "Europe/Berlin"});

    // Spring forward, 2026-03-29: 02:00 CET (01:00 UTC) becomes 03:00 CEST.
    let from = t("2026-03-28T22:00:00Z");
    let daily = workflow(state, &project, "spring-daily", berlin("30 2 * * *"), from).await;
    let hourly = workflow(state, &project, "spring-hourly", berlin("0 * * * *"), from).await;
    let quarter = workflow(state, &project, "spring-quarter", berlin("*/15 * * * *"), from).await;
    let report = run_clock(state, from, t("2026-03-29T04:00:30Z"), Duration::minutes(10)).await;
    assert_eq!(report.misfired, 0, "{report:?}");
    // 02:30 does not exist: the daily job runs once, at 03:00 CEST.
    assert_eq!(fire_times(state, &daily.id).await, vec![t("2026-03-29T01:00:00Z")]);
    // Hourly stays hourly in absolute time: 00:00, 01:00, 03:00, 04:00, 05:00, 06:00 local.
    assert_eq!(fire_times(state, &hourly.id).await, every("2026-03-28T23:00:00Z", Duration::hours(1), 6));
    // Every 15 minutes in absolute time: 01:45 CET is followed by 03:00 CEST.
    assert_eq!(
        fire_times(state, &quarter.id).await,
        every("2026-03-28T22:15:00Z", Duration::minutes(15), 24)
    );

    // Fall back, 2026-10-25: 03:00 CEST (01:00 UTC) becomes 02:00 CET; 02:xx happens twice.
    let from = t("2026-10-24T21:00:00Z");
    let daily = workflow(state, &project, "fall-daily", berlin("30 2 * * *"), from).await;
    let hourly = workflow(state, &project, "fall-hourly", berlin("0 * * * *"), from).await;
    let quarter = workflow(state, &project, "fall-quarter", berlin("*/15 * * * *"), from).await;
    for spring in ["spring-daily", "spring-hourly", "spring-quarter"] {
        let row = workflows::by_name(&state.db, &project, spring).await.unwrap().unwrap();
        workflows::update(&state.db, &row.id, &row.name, &row.spec(), false, None).await.unwrap();
    }
    let report = run_clock(state, from, t("2026-10-25T03:30:30Z"), Duration::minutes(10)).await;
    assert_eq!(report.misfired, 0, "{report:?}");
    // The daily job runs once, at the first 02:30 (CEST).
    assert_eq!(fire_times(state, &daily.id).await, vec![t("2026-10-25T00:30:00Z")]);
    // Hourly: 00:00, 01:00, 02:00 CEST, 02:00 CET, 03:00, 04:00 local; hourly in absolute time.
    assert_eq!(fire_times(state, &hourly.id).await, every("2026-10-24T22:00:00Z", Duration::hours(1), 6));
    // Every 15 minutes through both passes of the repeated hour.
    assert_eq!(
        fire_times(state, &quarter.id).await,
        every("2026-10-24T21:15:00Z", Duration::minutes(15), 26)
    );
});

both_backends!(an_interval_keeps_its_pace, |backend| async move {
    let server = TestServer::start(backend).await;
    let state = &server.state;
    let project = project(state, "p", true).await;
    let start = t("2026-05-04T10:00:00.250Z");
    let wf = workflow(state, &project, "every-90s", json!({"interval_secs": 90}), start).await;
    let report = tick_every(state, start, start + Duration::minutes(10), Duration::seconds(2)).await;
    assert_eq!(report.fired, 6, "{report:?}");
    assert_eq!(fire_times(state, &wf.id).await, every("2026-05-04T10:01:30.250Z", Duration::seconds(90), 6));
    assert_eq!(next_fire_at(state, &wf.id).await, Some(t("2026-05-04T10:10:30.250Z")));
});

both_backends!(downtime_with_skip_drops_the_backlog, |backend| async move {
    let server = TestServer::start(backend).await;
    let state = &server.state;
    let project = project(state, "p", true).await;
    let start = t("2026-05-04T10:00:00Z");
    let wf =
        workflow(state, &project, "ten", json!({"cron": "*/10 * * * *", "misfire": "skip"}), start).await;
    tick_every(state, start, t("2026-05-04T10:30:00Z"), Duration::seconds(30)).await;

    // Three hours without a scheduler; it comes back between two fire times.
    let back = t("2026-05-04T13:35:00Z");
    let report = scheduler::tick(state, back).await.unwrap();
    assert_eq!((report.due, report.fired, report.misfired), (1, 0, 1), "{report:?}");
    assert_eq!(next_fire_at(state, &wf.id).await, Some(t("2026-05-04T13:40:00Z")));
    tick_every(state, back, t("2026-05-04T13:45:00Z"), Duration::seconds(30)).await;
    assert_eq!(
        fire_times(state, &wf.id).await,
        vec![
            t("2026-05-04T10:10:00Z"),
            t("2026-05-04T10:20:00Z"),
            t("2026-05-04T10:30:00Z"),
            t("2026-05-04T13:40:00Z")
        ]
    );

    // Back again just after a fire time: that one is on time and runs, the older ones do not.
    let report = scheduler::tick(state, t("2026-05-04T16:50:02Z")).await.unwrap();
    assert_eq!((report.fired, report.misfired), (1, 1), "{report:?}");
    assert_eq!(fire_times(state, &wf.id).await.last(), Some(&t("2026-05-04T16:50:00Z")));
    assert_eq!(fire_times(state, &wf.id).await.len(), 5);
});

both_backends!(downtime_with_run_once_runs_one_catch_up, |backend| async move {
    let server = TestServer::start(backend).await;
    let state = &server.state;
    let project = project(state, "p", true).await;
    let start = t("2026-05-04T10:00:00Z");
    let wf =
        workflow(state, &project, "ten", json!({"cron": "*/10 * * * *", "misfire": "run_once"}), start).await;
    tick_every(state, start, t("2026-05-04T10:30:00Z"), Duration::seconds(30)).await;

    let back = t("2026-05-04T13:35:00Z");
    let report = scheduler::tick(state, back).await.unwrap();
    assert_eq!((report.due, report.fired, report.misfired), (1, 1, 1), "{report:?}");
    assert_eq!(next_fire_at(state, &wf.id).await, Some(t("2026-05-04T13:40:00Z")));
    // A second tick right after (or a second server) adds nothing.
    assert_eq!(scheduler::tick(state, back + Duration::seconds(1)).await.unwrap().fired, 0);
    tick_every(state, back, t("2026-05-04T13:45:00Z"), Duration::seconds(30)).await;
    // The eighteen missed fire times became one run, stamped with the latest of them.
    assert_eq!(
        fire_times(state, &wf.id).await,
        vec![
            t("2026-05-04T10:10:00Z"),
            t("2026-05-04T10:20:00Z"),
            t("2026-05-04T10:30:00Z"),
            t("2026-05-04T13:30:00Z"),
            t("2026-05-04T13:40:00Z")
        ]
    );
});

both_backends!(disable_enable_and_edit_take_effect_at_once, |backend| async move {
    let server = TestServer::start(backend).await;
    let state = &server.state;
    let project = project(state, "p", true).await;
    let start = t("2026-05-04T10:00:30Z");
    let wf = workflow(state, &project, "w", json!({"cron": "* * * * *"}), start).await;
    let minute = Duration::minutes(1);
    scheduler::tick(state, t("2026-05-04T10:01:00Z")).await.unwrap();

    edit(state, &wf, json!({"cron": "* * * * *"}), false, t("2026-05-04T10:01:30Z")).await;
    let report = tick_every(state, t("2026-05-04T10:02:00Z"), t("2026-05-04T10:05:00Z"), minute).await;
    assert_eq!(report, TickReport::default(), "a disabled workflow is not even due");

    edit(state, &wf, json!({"cron": "* * * * *"}), true, t("2026-05-04T10:05:30Z")).await;
    assert_eq!(scheduler::tick(state, t("2026-05-04T10:06:00Z")).await.unwrap().fired, 1);

    edit(state, &wf, json!({"cron": "*/5 * * * *"}), true, t("2026-05-04T10:06:30Z")).await;
    assert_eq!(next_fire_at(state, &wf.id).await, Some(t("2026-05-04T10:10:00Z")));
    let report = tick_every(state, t("2026-05-04T10:07:00Z"), t("2026-05-04T10:20:00Z"), minute).await;
    assert_eq!((report.fired, report.misfired), (3, 0), "{report:?}");
    assert_eq!(
        fire_times(state, &wf.id).await,
        vec![
            t("2026-05-04T10:01:00Z"),
            t("2026-05-04T10:06:00Z"),
            t("2026-05-04T10:10:00Z"),
            t("2026-05-04T10:15:00Z"),
            t("2026-05-04T10:20:00Z")
        ]
    );

    // Removing the schedule stops it too, even with a stale next_fire_at left behind.
    let mut spec = wf.spec();
    spec.schedule = None;
    workflows::update(
        &state.db,
        &wf.id,
        &wf.name,
        &spec,
        true,
        Some(t("2026-05-04T10:25:00Z").timestamp_millis()),
    )
    .await
    .unwrap();
    let report = scheduler::tick(state, t("2026-05-04T10:25:00Z")).await.unwrap();
    assert_eq!((report.due, report.fired), (1, 0));
    assert_eq!(next_fire_at(state, &wf.id).await, None);
});

both_backends!(start_at_and_end_at_bound_the_fires, |backend| async move {
    let server = TestServer::start(backend).await;
    let state = &server.state;
    let project = project(state, "p", true).await;
    let start = t("2026-05-04T10:00:00Z");
    let window = |kind: Value| {
        let mut s = kind;
        s["start_at"] = json!("2026-05-04T10:05:00Z");
        s["end_at"] = json!("2026-05-04T10:10:00Z");
        s
    };
    let cron = workflow(state, &project, "cron", window(json!({"cron": "*/2 * * * *"})), start).await;
    let interval = workflow(state, &project, "interval", window(json!({"interval_secs": 120})), start).await;
    assert_eq!(cron.next_fire_at.map(to_time), Some(t("2026-05-04T10:06:00Z")));
    assert_eq!(interval.next_fire_at.map(to_time), Some(t("2026-05-04T10:05:00Z")));

    tick_every(state, start, t("2026-05-04T10:30:00Z"), Duration::seconds(30)).await;
    assert_eq!(fire_times(state, &cron.id).await, every("2026-05-04T10:06:00Z", Duration::minutes(2), 3));
    assert_eq!(fire_times(state, &interval.id).await, every("2026-05-04T10:05:00Z", Duration::minutes(2), 3));
    // Past end_at there is no next fire.
    assert_eq!(next_fire_at(state, &cron.id).await, None);
    assert_eq!(next_fire_at(state, &interval.id).await, None);
});

both_backends!(a_broken_workflow_neither_blocks_others_nor_fires_again, |backend| async move {
    let server = TestServer::start(backend).await;
    let state = &server.state;
    let good = project(state, "good", true).await;
    let bare = project(state, "bare", false).await;
    let start = t("2026-05-04T10:00:30Z");
    let minutely = json!({"cron": "* * * * *"});
    let no_bundle = workflow(state, &bare, "no-bundle", minutely.clone(), start).await;
    let no_notebook =
        workflow_running(state, &good, "no-notebook", "gone.ipynb", minutely.clone(), start).await;
    let fine = workflow(state, &good, "fine", minutely.clone(), start).await;
    let spec = json!({"notebook": "main.ipynb", "runtime": "gpu", "schedule": minutely});
    let spec: WorkflowSpec = serde_json::from_value(spec).unwrap();
    let unbuilt =
        workflows::insert(&state.db, &good, "unbuilt", &spec, true, next_fire(&spec, start)).await.unwrap();

    let now = t("2026-05-04T10:01:00Z");
    let report = scheduler::tick(state, now).await.unwrap();
    assert_eq!((report.due, report.fired, report.failed, report.errors), (4, 1, 3, 0), "{report:?}");
    for wf in [&no_bundle, &no_notebook, &fine, &unbuilt] {
        assert_eq!(next_fire_at(state, &wf.id).await, Some(t("2026-05-04T10:02:00Z")), "{}", wf.name);
    }
    assert_eq!(scheduler::tick(state, now + Duration::seconds(1)).await.unwrap(), TickReport::default());
    assert_eq!(runs(state, &no_bundle.id).await.len() + runs(state, &no_notebook.id).await.len(), 0);
    assert_eq!(runs(state, &unbuilt.id).await.len(), 0);
    assert_eq!(runs(state, &fine.id).await.len(), 1);

    // Each silent workflow says why, with the fire time, where its users look.
    for (wf, code) in
        [(&no_bundle, "invalid_request"), (&no_notebook, "unknown_notebook"), (&unbuilt, "runtime_not_built")]
    {
        let error =
            fire_error(state, &wf.id).await.unwrap_or_else(|| panic!("{} records its failure", wf.name));
        assert_eq!((error.at, error.code.as_str()), (now, code), "{}", wf.name);
    }
    assert!(fire_error(state, &unbuilt.id).await.unwrap().message.contains("nbw runtime build gpu"));
    assert_eq!(fire_error(state, &fine.id).await, None);

    // Once the runtime is built, the next fire runs and the error goes.
    let gpu = NewRuntime {
        name: "gpu".into(),
        version: "v1".into(),
        image: "nbw/good/gpu:v1".into(),
        dockerfile_hash: None,
        image_id: None,
    };
    store::runtimes::insert(&state.db, &good, &gpu, OnConflict::Refuse, 0).await.unwrap();
    let report = scheduler::tick(state, t("2026-05-04T10:02:00Z")).await.unwrap();
    assert_eq!((report.fired, report.failed), (2, 2), "{report:?}");
    assert_eq!(fire_error(state, &unbuilt.id).await, None);
    assert_eq!(fire_error(state, &no_bundle.id).await.unwrap().at, t("2026-05-04T10:02:00Z"));
});

async fn fire_error(state: &AppState, workflow_id: &str) -> Option<FireError> {
    workflows::by_id(&state.db, workflow_id).await.unwrap().unwrap().to_api().last_fire_error
}

/// A second server's state over the same database.
async fn second_server(server: &TestServer) -> AppState {
    let db = Db::connect(&server.database_url).await.unwrap();
    let config = (*server.state.config).clone();
    AppState::new(db, config, Keys::from_secret(&[42; 32]), Artifacts::in_memory())
}

/// `count` workflows in one project, all on an hourly interval starting at `at`.
async fn many(state: &AppState, count: usize, at: DateTime<Utc>) -> Vec<WorkflowRow> {
    let project = project(state, "many", true).await;
    let schedule = json!({"interval_secs": 3600, "start_at": at});
    let mut rows = Vec::with_capacity(count);
    for i in 0..count {
        rows.push(
            workflow(state, &project, &format!("wf-{i:04}"), schedule.clone(), at - Duration::minutes(1))
                .await,
        );
    }
    rows
}

/// Asserts exactly one execution per workflow, for the fire time `at`.
async fn assert_each_fired_once(state: &AppState, rows: &[WorkflowRow], at: DateTime<Utc>) {
    let sql =
        "SELECT workflow_id, scheduled_for, COUNT(*) FROM executions GROUP BY workflow_id, scheduled_for";
    let groups: Vec<(String, i64, i64)> =
        on_db!(&state.db, pool => sqlx::query_as(sql).fetch_all(pool).await).unwrap();
    assert_eq!(groups.len(), rows.len());
    assert!(groups.iter().all(|(_, fire, count)| *fire == at.timestamp_millis() && *count == 1));
    let (total,): (i64,) =
        on_db!(&state.db, pool => sqlx::query_as("SELECT COUNT(*) FROM executions").fetch_one(pool).await)
            .unwrap();
    assert_eq!(total as usize, rows.len());
}

both_backends!(two_servers_ticking_at_once_without_a_lock_fire_each_once, |backend| async move {
    let server = TestServer::start(backend).await;
    let other = second_server(&server).await;
    let at = t("2026-05-04T10:00:00Z");
    let rows = many(&server.state, 1000, at).await;
    let now = at + Duration::seconds(1);
    let (a, b) = tokio::join!(scheduler::tick(&server.state, now), scheduler::tick(&other, now));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.fired + b.fired, 1000, "{a:?} {b:?}");
    assert_eq!((a.errors, b.errors, a.failed, b.failed), (0, 0, 0, 0));
    assert_each_fired_once(&server.state, &rows, at).await;
    for row in rows.iter().step_by(97) {
        assert_eq!(next_fire_at(&server.state, &row.id).await, Some(at + Duration::hours(1)));
    }
});

both_backends!(two_servers_on_one_database_fire_1000_schedules_each_once, |backend| async move {
    let server = TestServer::start(backend).await;
    let other = second_server(&server).await;
    // Real time now: the loops read the wall clock. The fire time leaves room for creating the
    // 1,000 workflows on a loaded machine (2 s was not enough at a load of 14).
    let at = Utc::now() + Duration::seconds(8);
    let at = at - Duration::milliseconds(at.timestamp_subsec_millis() as i64);
    let rows = many(&server.state, 1000, at).await;
    assert!(Utc::now() < at, "creating the workflows took too long for this test");

    let shutdown = CancellationToken::new();
    let loops = [
        scheduler::spawn(server.state.clone(), shutdown.clone()),
        scheduler::spawn(other.clone(), shutdown.clone()),
    ];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut leader_seen = None;
    loop {
        let sql = "SELECT COUNT(*) FROM executions";
        let (count,): (i64,) =
            on_db!(&server.state.db, pool => sqlx::query_as(sql).fetch_one(pool).await).unwrap();
        if leader_seen.is_none() {
            leader_seen = scheduler::leader(&server.state.db).await.unwrap();
        }
        if count >= 1000 || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // A few more ticks of both loops: nothing more may fire.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let leader = scheduler::leader(&server.state.db).await.unwrap().expect("a leader is on record");
    assert_eq!(leader_seen.map(|l| l.holder), Some(leader.holder.clone()), "the lead did not move");
    if let Db::Postgres(Pg { pool, .. }) = &server.state.db {
        // The leader's session dies: the lock goes with it and a new session takes it.
        let holder = advisory_lock_holder(pool).await.expect("the leader holds the lock");
        sqlx::query("SELECT pg_terminate_backend($1)").bind(holder).execute(pool).await.unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            match advisory_lock_holder(pool).await {
                Some(pid) if pid != holder => break,
                _ if std::time::Instant::now() > deadline => panic!("nobody took the lead over"),
                _ => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            }
        }
    }
    shutdown.cancel();
    for handle in loops {
        handle.await.unwrap();
    }
    assert_each_fired_once(&server.state, &rows, at).await;
    // Shutting down gave the lead up, so a restarted server takes over at once.
    assert_eq!(scheduler::leader(&server.state.db).await.unwrap(), None);
    if backend == Backend::Postgres {
        let Db::Postgres(Pg { pool, .. }) = &server.state.db else { unreachable!() };
        let sql = "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' \
                   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";
        let (locks,): (i64,) = sqlx::query_as(sql).fetch_one(pool).await.unwrap();
        assert_eq!(locks, 0, "the advisory lock was released");
    }
});

/// The backend holding an advisory lock in the test database, if any.
async fn advisory_lock_holder(pool: &sqlx::PgPool) -> Option<i32> {
    let sql = "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted \
               AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";
    sqlx::query_as::<_, (i32,)>(sql).fetch_optional(pool).await.unwrap().map(|(pid,)| pid)
}
