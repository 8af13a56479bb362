//! The warm kernel pool: kernels of one kernelspec started ahead of time, each used by exactly
//! one execution, refilled in the background.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nbw_engine::{KernelSearch, WarmKernel};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Warm kernels of one kernelspec.
pub struct WarmPool {
    name: String,
    ready: Mutex<VecDeque<WarmKernel>>,
    taken: Notify,
}

impl WarmPool {
    /// Keeps `size` kernels of kernelspec `name` ready until `shutdown`.
    pub fn start(
        name: &str,
        search: KernelSearch,
        size: usize,
        shutdown: CancellationToken,
    ) -> Arc<WarmPool> {
        let pool = Arc::new(WarmPool {
            name: name.to_owned(),
            ready: Mutex::new(VecDeque::new()),
            taken: Notify::new(),
        });
        tokio::spawn(refill(pool.clone(), search, size, shutdown));
        pool
    }

    /// A ready kernel for a notebook of kernelspec `name`, if one is waiting.
    pub fn take(&self, name: &str) -> Option<WarmKernel> {
        if name != self.name {
            return None;
        }
        let mut ready = self.ready.lock().expect("pool lock");
        let kernel = loop {
            let mut kernel = ready.pop_front()?;
            if kernel.is_alive() {
                break kernel;
            }
        };
        drop(ready);
        self.taken.notify_one();
        Some(kernel)
    }

    fn len(&self) -> usize {
        self.ready.lock().expect("pool lock").len()
    }
}

async fn refill(pool: Arc<WarmPool>, search: KernelSearch, size: usize, shutdown: CancellationToken) {
    while !shutdown.is_cancelled() {
        if pool.len() < size {
            match WarmKernel::start(&pool.name, &search, Duration::from_secs(60)).await {
                Ok(kernel) => {
                    pool.ready.lock().expect("pool lock").push_back(kernel);
                    continue;
                }
                Err(e) => tracing::warn!(kernel = %pool.name, error = %e, "could not start a warm kernel"),
            }
        }
        tokio::select! {
            _ = pool.taken.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            _ = shutdown.cancelled() => {}
        }
    }
    // Dropping the pool's kernels kills them; doing it now frees them before the process exits.
    pool.ready.lock().expect("pool lock").clear();
}
