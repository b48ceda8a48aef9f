//! How every listener of the kit admits connections: the run gateway's front door
//! ([`super::limit`]), the raw responder of `serve` and `proxy` ([`super::raw`]) and the TLS
//! front ([`super::tls`]).
//!
//! A listener on a shared CI host must outlive whatever its clients do. So:
//!
//! - a failed `accept` (a full descriptor table: `EMFILE`) never ends the loop; it backs off
//!   (10 ms, doubling to 1 s) and tries again, and asks idle connections to make room;
//! - connections are capped ([`Door::new`]); when every slot is taken, idle connections (a
//!   kept-alive connection between requests, a TLS connection that has not said hello) are
//!   closed to make room ([`Door::idle`]), and a newcomer waits a moment for a slot before
//!   it is turned away;
//! - how long a connection may stay idle, or take over its request head or TLS handshake,
//!   is bounded by the caller with [`HEAD_TIME`] and [`IDLE_TIME`].

use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

/// How long a connection may take to deliver a whole request head (or a TLS handshake) once
/// it has begun: a slow sender (slowloris) is closed after it.
pub const HEAD_TIME: Duration = Duration::from_secs(10);

/// How long a connection may wait, idle, for the first byte of its next request. Shorter than
/// the time an active request may take, and cut short when slots run out.
pub const IDLE_TIME: Duration = Duration::from_secs(15);

/// The longest back-off after failed `accept`s.
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// How long a newcomer waits for a slot while idle connections make room.
const SLOT_WAIT: Duration = Duration::from_millis(250);

/// A listener's admission: the slots of its connections and the call to idle ones to leave.
#[derive(Clone)]
pub struct Door {
    slots: Arc<Semaphore>,
    pressure: Arc<Notify>,
}

/// A connection's slot: held while the connection lives, freed when dropped.
pub struct Slot(#[allow(dead_code)] OwnedSemaphorePermit);

impl Door {
    /// A door for at most `connections` connections at once.
    pub fn new(connections: usize) -> Door {
        Door {
            slots: Arc::new(Semaphore::new(connections.max(1))),
            pressure: Arc::new(Notify::new()),
        }
    }

    /// The next connection with its slot. Never fails: `accept` errors are retried after a
    /// back-off, and a connection for which no slot frees up is closed at once.
    pub async fn admit(&self, listener: &TcpListener) -> (TcpStream, Slot) {
        let mut backoff = Duration::from_millis(10);
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(_) => {
                    // Out of descriptors, most likely: idle connections make room, and the
                    // loop waits instead of spinning or ending.
                    self.pressure.notify_waiters();
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            };
            backoff = Duration::from_millis(10);
            if let Ok(permit) = self.slots.clone().try_acquire_owned() {
                return (stream, Slot(permit));
            }
            self.pressure.notify_waiters();
            match tokio::time::timeout(SLOT_WAIT, self.slots.clone().acquire_owned()).await {
                Ok(Ok(permit)) => return (stream, Slot(permit)),
                _ => drop(stream),
            }
        }
    }

    /// Runs `wait` (a connection waiting, idle, for its client) unless the door needs its
    /// slot first or `limit` passes: `None` then, and the caller closes the connection.
    pub async fn idle<T>(
        &self,
        limit: Duration,
        wait: impl std::future::Future<Output = T>,
    ) -> Option<T> {
        tokio::select! {
            value = wait => Some(value),
            () = self.pressure.notified() => None,
            () = tokio::time::sleep(limit) => None,
        }
    }

    /// Slots free now (for tests and the bench).
    pub fn free(&self) -> usize {
        self.slots.available_permits()
    }
}
