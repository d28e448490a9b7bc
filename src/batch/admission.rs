//! Admission by predicted memory: a [`MemoryGate`] lets a job start when its reserved bytes fit
//! in what the running jobs leave of the budget and a worker is free, in strict arrival order.
//!
//! Why first come, first served: a plan knows a job's memory, not its time, so a scheduler that
//! let small jobs overtake a big one that is waiting for room ("backfilling") could keep that big
//! job waiting for ever behind a steady stream of small ones. Here the job at the head of the
//! queue is admitted as soon as the jobs before it have freed its room, and nothing behind it
//! starts first. The price is that, while a big job waits, the workers the running jobs do not use
//! stay idle; with an upload mix (mostly small images) that is rare and short.

use std::sync::{Arc, Condvar, Mutex};

use crate::error::{Error, Result};
use crate::plan::human;

/// What is admitted now.
#[derive(Debug, Default)]
struct State {
    /// Bytes reserved by running jobs.
    in_use: usize,
    /// Jobs running.
    running: usize,
    /// Highest `in_use` so far.
    peak_in_use: usize,
    /// The next ticket handed out; tickets are served in order.
    next_ticket: u64,
    /// The ticket allowed to be admitted next.
    serving: u64,
}

/// A memory budget shared by concurrent jobs, and a cap on their number.
#[derive(Debug)]
pub struct MemoryGate {
    budget: usize,
    workers: usize,
    state: Mutex<State>,
    changed: Condvar,
}

/// A job's reservation; dropping it frees the bytes and the worker slot.
#[derive(Debug)]
pub struct Permit {
    gate: Arc<MemoryGate>,
    bytes: usize,
}

impl Permit {
    /// Bytes this permit reserves.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut s = self.gate.lock();
        s.in_use -= self.bytes;
        s.running -= 1;
        drop(s);
        self.gate.changed.notify_all();
    }
}

impl MemoryGate {
    /// A gate admitting jobs whose reservations add up to at most `budget` bytes, at most
    /// `workers` (at least 1) at a time.
    pub fn new(budget: usize, workers: usize) -> Arc<MemoryGate> {
        Arc::new(MemoryGate { budget, workers: workers.max(1), state: Mutex::new(State::default()), changed: Condvar::new() })
    }

    /// The budget in bytes.
    pub fn budget(&self) -> usize {
        self.budget
    }

    /// Highest sum of reservations held at once so far.
    pub fn peak_reserved(&self) -> usize {
        self.lock().peak_in_use
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until `bytes` fit beside the running jobs and a worker is free, after every caller
    /// that asked before; then reserves them. A reservation larger than the whole budget is
    /// refused at once with [`Error::Limits`] (it could never run, and must not block the queue).
    pub fn admit(self: &Arc<Self>, bytes: usize) -> Result<Permit> {
        if bytes > self.budget {
            return Err(Error::limits(format!(
                "the job needs {} (planned heap and per-job overhead), more than the whole batch budget of {}",
                human(bytes as u64),
                human(self.budget as u64)
            )));
        }
        let mut s = self.lock();
        let ticket = s.next_ticket;
        s.next_ticket += 1;
        while s.serving != ticket || s.running >= self.workers || s.in_use + bytes > self.budget {
            s = self.changed.wait(s).unwrap_or_else(|p| p.into_inner());
        }
        s.serving += 1;
        s.in_use += bytes;
        s.running += 1;
        s.peak_in_use = s.peak_in_use.max(s.in_use);
        drop(s);
        // The next ticket may fit too.
        self.changed.notify_all();
        Ok(Permit { gate: Arc::clone(self), bytes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn a_job_over_the_whole_budget_is_refused_without_waiting() {
        let gate = MemoryGate::new(100, 2);
        let _running = gate.admit(90).unwrap();
        let err = gate.admit(101).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Limits);
    }

    #[test]
    fn reservations_never_exceed_the_budget_and_a_big_job_is_not_overtaken() {
        let gate = MemoryGate::new(100, 4);
        let order = Arc::new(Mutex::new(Vec::new()));
        let live = Arc::new(AtomicUsize::new(60));
        let small = gate.admit(60).unwrap();
        std::thread::scope(|scope| {
            // The big job asks first and must wait for `small`; the later small ones must wait
            // behind it even though they would fit beside `small`, and cannot fit beside the big
            // one (so the big job's entry in `order` is surely first).
            // Each job is started once the one before it holds its ticket (not after a sleep:
            // on a loaded machine a thread can start late and take its ticket out of order).
            let queued = |n: u64| {
                while gate.lock().next_ticket < n {
                    std::thread::sleep(Duration::from_millis(1));
                }
            };
            for (i, bytes) in [(0, 90), (1, 20), (2, 20)] {
                queued(1 + i as u64);
                let (gate, order, live) = (&gate, &order, &live);
                scope.spawn(move || {
                    let permit = gate.admit(bytes).unwrap();
                    let now = live.fetch_add(bytes, Ordering::SeqCst) + bytes;
                    assert!(now <= 100, "{now} bytes admitted at once");
                    order.lock().unwrap().push(i);
                    std::thread::sleep(Duration::from_millis(10));
                    live.fetch_sub(bytes, Ordering::SeqCst);
                    drop(permit);
                });
            }
            queued(4);
            std::thread::sleep(Duration::from_millis(100));
            assert!(order.lock().unwrap().is_empty(), "nothing may overtake the waiting big job");
            live.fetch_sub(60, Ordering::SeqCst);
            drop(small);
        });
        assert_eq!(order.lock().unwrap()[0], 0);
        assert!(gate.peak_reserved() <= 100);
    }

    #[test]
    fn the_worker_cap_holds_whatever_the_memory() {
        let gate = MemoryGate::new(1000, 1);
        let first = gate.admit(1).unwrap();
        let started = Arc::new(AtomicUsize::new(0));
        std::thread::scope(|scope| {
            let (gate, started) = (&gate, &started);
            scope.spawn(move || {
                let _p = gate.admit(1).unwrap();
                started.store(1, Ordering::SeqCst);
            });
            std::thread::sleep(Duration::from_millis(50));
            assert_eq!(started.load(Ordering::SeqCst), 0);
            drop(first);
        });
        assert_eq!(started.load(Ordering::SeqCst), 1);
    }
}
