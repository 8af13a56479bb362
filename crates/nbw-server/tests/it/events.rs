//! Live events over server-sent events, on both backends: replay of a finished execution from
//! the start, from `Last-Event-ID` and from `?after=`, live delivery while it runs (woken in
//! process, or polled when another server stored the events), `end` when it finishes, and
//! project roles.

use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use nbw_core::api::ExecutionEvent;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::queue_support::Fixture;
use crate::support::assert_error;

/// One server-sent event.
#[derive(Debug, Clone, PartialEq)]
struct Sse {
    id: Option<String>,
    event: String,
    data: Value,
}

/// Reads server-sent events off a response.
struct SseReader {
    body: Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>,
    buffer: String,
}

impl SseReader {
    async fn open(f: &Fixture, id: &str, token: &str, query: &str, last_event_id: Option<&str>) -> SseReader {
        let mut request = f
            .server
            .http
            .get(format!("{}/v1/executions/{id}/events{query}", f.server.base))
            .bearer_auth(token);
        if let Some(last) = last_event_id {
            request = request.header("Last-Event-ID", last);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        SseReader { body: Box::pin(response.bytes_stream()), buffer: String::new() }
    }

    /// The next event, or `None` when the server closed the stream; panics after 5 s.
    async fn next(&mut self) -> Option<Sse> {
        tokio::time::timeout(Duration::from_secs(5), self.next_inner()).await.expect("an event within 5 s")
    }

    async fn next_inner(&mut self) -> Option<Sse> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = Sse { id: None, event: "message".into(), data: Value::Null };
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(value) = line.strip_prefix("id:") {
                        event.id = Some(value.trim().to_owned());
                    } else if let Some(value) = line.strip_prefix("event:") {
                        event.event = value.trim().to_owned();
                    } else if let Some(value) = line.strip_prefix("data:") {
                        data.push_str(value.trim_start());
                    }
                }
                if data.is_empty() && event.id.is_none() {
                    continue; // a keep-alive comment
                }
                event.data = serde_json::from_str(&data).expect("data is JSON");
                return Some(event);
            }
            match self.body.next().await {
                Some(chunk) => self.buffer.push_str(std::str::from_utf8(&chunk.unwrap()).unwrap()),
                None => return None,
            }
        }
    }

    /// Sequence numbers of the next `n` events.
    async fn seqs(&mut self, n: usize) -> Vec<u64> {
        let mut seqs = Vec::new();
        for _ in 0..n {
            let event = self.next().await.expect("an event");
            assert_eq!(event.event, "output");
            let parsed: ExecutionEvent = serde_json::from_value(event.data).unwrap();
            assert_eq!(event.id, Some(parsed.seq.to_string()));
            seqs.push(parsed.seq);
        }
        seqs
    }

    async fn expect_end(&mut self, state: &str) {
        let end = self.next().await.expect("the end event");
        assert_eq!(end.event, "end");
        assert_eq!(end.data, json!({"state": state}));
        assert_eq!(self.next().await, None, "the stream closes after end");
    }
}

both_backends!(finished_executions_replay_their_stream, |backend| async move {
    let f = Fixture::new(backend).await;
    let project = f.project("replay").await;
    let execution = f.run(&project).await;
    let id = execution.id.as_str();
    let agent = f.agent("runner", json!({})).await;
    f.claim(&agent, 0).await;
    f.events(&agent, id, 1..=5).await;
    f.complete(&agent, id, "failed").await;

    let mut stream = SseReader::open(&f, id, &f.owner, "", None).await;
    let first = stream.next().await.unwrap();
    assert_eq!(first.id.as_deref(), Some("1"));
    assert_eq!(first.data["payload"], json!({"text": "line 1"}));
    assert_eq!(first.data["kind"], "output");
    assert_eq!(stream.seqs(4).await, vec![2, 3, 4, 5]);
    stream.expect_end("failed").await;

    let mut stream = SseReader::open(&f, id, &f.owner, "", Some("3")).await;
    assert_eq!(stream.seqs(2).await, vec![4, 5]);
    stream.expect_end("failed").await;
    let mut stream = SseReader::open(&f, id, &f.owner, "?after=4", None).await;
    assert_eq!(stream.seqs(1).await, vec![5]);
    stream.expect_end("failed").await;
    let mut stream = SseReader::open(&f, id, &f.owner, "?after=1", Some("4")).await;
    assert_eq!(stream.seqs(1).await, vec![5], "Last-Event-ID wins over ?after");
    stream.expect_end("failed").await;

    // Viewers read; strangers get 404, as if the execution did not exist.
    let viewer = f.server.user("vic", false).await;
    let stranger = f.server.user("sam", false).await;
    let (status, _) = f
        .server
        .put(&format!("/v1/projects/{}/members/vic", project.name), &f.owner, json!({"role": "viewer"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut stream = SseReader::open(&f, id, &viewer, "?after=5", None).await;
    stream.expect_end("failed").await;
    let path = format!("/v1/executions/{id}/events");
    assert_error(f.server.get(&path, &stranger).await, StatusCode::NOT_FOUND, "not_found");
    assert_error(
        f.server.get("/v1/executions/web.nope/events", &f.owner).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let response = f
        .server
        .http
        .get(format!("{}{path}", f.server.base))
        .bearer_auth(&f.owner)
        .header("Last-Event-ID", "x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
});

both_backends!(live_events_stream_while_the_execution_runs, |backend| async move {
    let f = Fixture::new(backend).await;
    let project = f.project("live").await;
    let execution = f.run(&project).await;
    let id = execution.id.as_str();
    let agent = f.agent("runner", json!({})).await;

    // Opened before anything ran: the stream waits.
    let mut stream = SseReader::open(&f, id, &f.owner, "", None).await;
    f.claim(&agent, 0).await;
    f.events(&agent, id, 1..=2).await;
    assert_eq!(stream.seqs(2).await, vec![1, 2]);

    f.events(&agent, id, 3..=3).await;
    assert_eq!(stream.seqs(1).await, vec![3]);

    // Stored without a local wake-up (as through another server): found by the poll.
    let event = ExecutionEvent {
        seq: 4,
        kind: "output".into(),
        payload: json!({"text": "far"}),
        time: chrono::Utc::now(),
    };
    assert!(
        nbw_server::store::queue::insert_events(&f.server.state.db, id, &agent.id, &[event]).await.unwrap()
    );
    assert_eq!(stream.seqs(1).await, vec![4]);

    f.complete(&agent, id, "succeeded").await;
    stream.expect_end("succeeded").await;
});
