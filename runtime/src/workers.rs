//! Worker threads for a scheduler: kept for the next task, started only when every worker is
//! busy, and all inside one [`std::thread::scope`], so work may borrow the run's state.
//!
//! A worker that finishes a piece of work counts itself idle before reporting the result, so
//! the work handed over next reuses it rather than starting a thread.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::Scope;
use std::time::Duration;

/// Work for a worker thread.
type Work<'scope> = Box<dyn FnOnce() + Send + 'scope>;

/// The worker threads of one scheduler, and the results they send back (`T`).
pub(crate) struct Workers<'scope, 'env, T> {
    scope: &'scope Scope<'scope, 'env>,
    /// Workers waiting for work.
    idle: Arc<AtomicUsize>,
    /// Where work is handed over; closed when this is dropped, which ends idle workers.
    work_tx: mpsc::Sender<Work<'scope>>,
    /// Where workers take work from; the lock is held while waiting, so idle workers queue up
    /// on it, one at the channel.
    work_rx: Arc<Mutex<mpsc::Receiver<Work<'scope>>>>,
    done_tx: mpsc::Sender<T>,
    done_rx: mpsc::Receiver<T>,
    /// Work handed over and not reported yet.
    in_flight: usize,
}

impl<'scope, 'env, T: Send + 'scope> Workers<'scope, 'env, T> {
    /// No workers yet; they are started in `scope` as work needs them.
    pub(crate) fn new(scope: &'scope Scope<'scope, 'env>) -> Self {
        let (work_tx, work_rx) = mpsc::channel();
        let (done_tx, done_rx) = mpsc::channel();
        Workers {
            scope,
            idle: Arc::new(AtomicUsize::new(0)),
            work_tx,
            work_rx: Arc::new(Mutex::new(work_rx)),
            done_tx,
            done_rx,
            in_flight: 0,
        }
    }

    /// Whether no work is out with a worker.
    pub(crate) fn none_in_flight(&self) -> bool {
        self.in_flight == 0
    }

    /// Runs `work` on an idle worker, or on a new one when every worker is busy; its result
    /// comes back through [`Workers::next_result`].
    pub(crate) fn hand_over(&mut self, work: impl FnOnce() -> T + Send + 'scope) {
        self.in_flight += 1;
        let done = self.done_tx.clone();
        let idle = Arc::clone(&self.idle);
        let work: Work<'scope> = Box::new(move || {
            let result = work();
            idle.fetch_add(1, Ordering::SeqCst);
            let _ = done.send(result);
        });
        let claimed = self
            .idle
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |k| k.checked_sub(1))
            .is_ok();
        if !claimed {
            let queue = Arc::clone(&self.work_rx);
            self.scope.spawn(move || worker(&queue));
        }
        let _ = self.work_tx.send(work);
    }

    /// The next result of a worker, waiting at most `timeout` for one.
    pub(crate) fn next_result(&mut self, timeout: Duration) -> Result<T, mpsc::RecvTimeoutError> {
        self.done_rx.recv_timeout(timeout).inspect(|_| {
            self.in_flight -= 1;
        })
    }
}

/// A worker: runs work from the queue until it is closed.
fn worker(queue: &Mutex<mpsc::Receiver<Work<'_>>>) {
    loop {
        let next = match queue.lock() {
            Ok(q) => q.recv(),
            Err(_) => return,
        };
        match next {
            Ok(work) => work(),
            Err(_) => return,
        }
    }
}
