//! Password checks on a few threads of their own, bounded, one try of a name at a time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use super::throttle::digest;
use crate::error::ApiError;

/// Password checks in progress: bounded, so that a flood of sign-ins neither holds argon2's
/// memory (19 MiB each) without limit nor takes every core from the sync path, and one at a
/// time per name, so that the throttle sees each try's outcome before the next is let in.
/// The checks run on a few threads of their own, each keeping argon2's working memory, so that
/// the server's memory for passwords is that, whatever the number of sign-ins.
#[derive(Debug)]
pub struct Logins {
    /// Password checks running at once: a permit, held by the job until it is done (even if
    /// its client went away), then a worker.
    pub(super) checks: Arc<tokio::sync::Semaphore>,
    /// A lock for each name being signed in now (by digest), so that one name's tries are
    /// checked one at a time and no other name's wait on them.
    names: Mutex<HashMap<[u8; 32], Arc<tokio::sync::Mutex<()>>>>,
    /// The workers' queue.
    jobs: Mutex<std::sync::mpsc::Sender<Job>>,
}

type Job = Box<dyn FnOnce() + Send>;

impl Logins {
    /// At most `checks` password checks at once (at least one), on as many threads.
    pub fn new(checks: usize) -> Logins {
        let checks = checks.max(1);
        let (send, receive) = std::sync::mpsc::channel::<Job>();
        let receive = Arc::new(Mutex::new(receive));
        for n in 0..checks {
            let receive = receive.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("password-{n}"))
                .spawn(move || {
                    loop {
                        let job = receive
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .recv();
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password worker");
            }
        }
        Logins {
            checks: Arc::new(tokio::sync::Semaphore::new(checks)),
            names: Mutex::default(),
            jobs: Mutex::new(send),
        }
    }

    /// Waits for `name`'s turn: the tries of one name are checked one after another.
    pub(super) async fn turn(&self, name: &str) -> NameTurn<'_> {
        let key = digest(&[b"turn", name.as_bytes()]);
        let lock = {
            let mut names = self.names.lock().unwrap_or_else(PoisonError::into_inner);
            if names.len() > 1024 {
                // Locks left by tries that gave up waiting: nobody holds or waits for them.
                names.retain(|_, lock| Arc::strong_count(lock) > 1);
            }
            names.entry(key).or_default().clone()
        };
        NameTurn {
            logins: self,
            key,
            guard: Some(lock.lock_owned().await),
        }
    }

    /// Runs `f` on a password worker, holding `turn` until it is done, and waits for it. A job
    /// whose client went away before a worker took it is skipped.
    pub(super) async fn run<T: Send + 'static>(
        &self,
        turn: tokio::sync::OwnedSemaphorePermit,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (send, receive) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            if !send.is_closed() {
                let _ = send.send(f());
            }
            drop(turn);
        });
        self.jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .send(job)
            .ok()?;
        receive.await.ok()
    }
}

/// A name's turn to have its password checked; the name's lock is forgotten when nobody else
/// waits for it.
pub(super) struct NameTurn<'a> {
    logins: &'a Logins,
    key: [u8; 32],
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Drop for NameTurn<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut names = self
            .logins
            .names
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if names
            .get(&self.key)
            .is_some_and(|lock| Arc::strong_count(lock) == 1)
        {
            names.remove(&self.key);
        }
    }
}

pub(super) fn busy() -> ApiError {
    ApiError::busy(
        2,
        "the server is busy with other sign-ins: try again in a few seconds",
    )
}
