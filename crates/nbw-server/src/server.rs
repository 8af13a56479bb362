//! Running the server: open the database (migrating it), the key and the artifact store, start
//! the background loops, serve HTTP until SIGTERM or Ctrl-C, then stop cleanly.

use anyhow::Context;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::api::router;
use crate::state::AppState;
use crate::artifacts::Artifacts;
use crate::auth::Keys;
use crate::config::Config;
use crate::db::{Db, redact_url};

/// Opens everything the server needs, migrating the database.
pub async fn open(config: Config) -> anyhow::Result<AppState> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating the data directory {}", config.data_dir.display()))?;
    let url = config.database_url();
    let db = Db::connect(&url).await.with_context(|| format!("connecting to {}", redact_url(&url)))?;
    db.migrate().await?;
    let keys = Keys::load(std::env::var("NBW_SECRET_KEY").ok().as_deref(), &config.data_dir)?;
    let artifacts = Artifacts::open(&config.artifacts_url())?;
    Ok(AppState::new(db, config, keys, artifacts))
}

/// Starts the loops that run beside the API (scheduler, lease reaper, notification outbox).
pub fn spawn_background(state: &AppState, shutdown: &CancellationToken) -> Vec<JoinHandle<()>> {
    let mut loops = vec![crate::scheduler::spawn(state.clone(), shutdown.clone())];
    loops.extend(crate::queue::spawn_loops(state, shutdown));
    loops.push(crate::notify::spawn(state.clone(), shutdown.clone()));
    loops
}

/// Serves until `shutdown` is cancelled; background loops stop with it.
pub async fn serve(state: AppState, shutdown: CancellationToken) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(state.config.listen)
        .await
        .with_context(|| format!("listening on {}", state.config.listen))?;
    serve_on(state, listener, shutdown).await
}

/// Like [`serve`], on a listener already bound (standalone binds first to print its URL).
pub async fn serve_on(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    tracing::info!(address = %listener.local_addr()?, backend = state.db.backend(), "nbw server listening");
    let loops = spawn_background(&state, &shutdown);
    let app = router(state.clone());
    let stop = shutdown.clone();
    // With connection info, so the login rate limit can count failures per client address.
    axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await?;
    shutdown.cancel();
    for handle in loops {
        let _ = handle.await;
    }
    state.db.close().await;
    Ok(())
}

/// Cancels `token` at the first SIGTERM or SIGINT.
pub fn cancel_on_signals(token: CancellationToken) {
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
        else {
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        tracing::info!("shutting down");
        token.cancel();
    });
}
