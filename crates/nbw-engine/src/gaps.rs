//! Noticing a message the kernel sent but nbw never received.
//!
//! ZeroMQ's PUB socket drops messages for a subscriber that falls behind, without telling
//! anyone. Kernels built on `jupyter_client` number their messages: a msg_id is
//! `{session}_{pid}_{n}`, with `n` counting every message that session sent on any socket. nbw
//! reads every socket the kernel writes to, so the numbers it sees must be contiguous; a hole
//! means a lost message and the run is reported "output incomplete", never clean.
//!
//! Tracking starts at the first message answering nbw's first execute request: earlier
//! broadcasts may have gone out before the subscription was in place. Each `{session}_{pid}`
//! prefix counts on its own (a forked child process gets its own pid). Kernels whose ids do
//! not follow this shape (UUIDs) cannot be checked this way and are not flagged, and the run
//! applies the check to Python kernels only: bash_kernel, also built on ipykernel, was seen to
//! skip numbers now and then with every output arriving.

use std::collections::{BTreeSet, HashMap};

/// Sequence numbers seen per sender prefix, from the moment tracking was armed.
#[derive(Debug, Default)]
pub struct GapDetector {
    armed: bool,
    seen: HashMap<String, BTreeSet<u64>>,
}

impl GapDetector {
    /// Starts tracking; messages before this are ignored.
    pub fn arm(&mut self) {
        self.armed = true;
    }

    /// Records a received message id.
    pub fn observe(&mut self, msg_id: &str) {
        if !self.armed {
            return;
        }
        if let Some((prefix, n)) = split_counter(msg_id) {
            self.seen.entry(prefix.to_owned()).or_default().insert(n);
        }
    }

    /// The number of messages missing between the first and the last seen of each sender.
    pub fn missing(&self) -> u64 {
        self.seen
            .values()
            .map(|ns| match (ns.first(), ns.last()) {
                (Some(first), Some(last)) => last - first + 1 - ns.len() as u64,
                _ => 0,
            })
            .sum()
    }
}

fn split_counter(msg_id: &str) -> Option<(&str, u64)> {
    let (prefix, n) = msg_id.rsplit_once('_')?;
    let (_, pid) = prefix.rsplit_once('_')?;
    pid.parse::<u32>().ok()?;
    Some((prefix, n.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contiguous_ids_are_complete_and_holes_are_counted() {
        let mut d = GapDetector::default();
        d.observe("s_10_1");
        d.arm();
        for n in [5, 7, 6, 8] {
            d.observe(&format!("s_10_{n}"));
        }
        d.observe("s_11_40");
        d.observe("0f1e2d3c-uuid-style");
        assert_eq!(d.missing(), 0);
        d.observe("s_10_11");
        assert_eq!(d.missing(), 2);
    }
}
