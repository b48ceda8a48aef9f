//! Warm wiremock servers, handed from one gateway to the next.
//!
//! Starting a wiremock server costs a thread with a runtime of its own, a port and a probe
//! connection (wiremock's `start` connects to make sure it listens); `fuzz` starts a gateway
//! per case, thousands a run, and that start was a good part of a case's cost beside the
//! signatures (README, "Fuzzing"). So a gateway that ends gives its wiremock server back
//! here, and the next one takes it and points it at its own core. The front door
//! ([`super::limit`]) is still the gateway's own, on a fresh port: a client never reaches
//! an earlier gateway's connections, and what it connects to is the same as before.
//!
//! A server is given back only when no request is between the front door and it: every
//! request the door passed on was answered before the gateway ended (see
//! [`Core::quiet`]). Otherwise, or when enough servers are idle, it stops.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};

use wiremock::{Mock, MockServer};

use super::{bind_loopback, Core, GatewayError, WiremockFront};

/// The core a warm server answers for: its gateway's, or none between gateways.
pub(crate) type Slot = RwLock<Option<Arc<Core>>>;

/// Idle servers kept at most; a fuzz run has one busy per job, a few dozen.
const MAX_IDLE: usize = 64;

/// Idle servers, oldest first: the one taken is the one idle longest.
static IDLE: Mutex<VecDeque<Warm>> = Mutex::new(VecDeque::new());

/// A wiremock server answering for one gateway at a time.
pub(crate) struct Warm {
    _server: MockServer,
    addr: SocketAddr,
    slot: Arc<Slot>,
}

impl Warm {
    /// An idle server, or a new one, answering for `core` from now on.
    pub(crate) async fn take(core: &Arc<Core>) -> Result<Warm, GatewayError> {
        let idle = IDLE.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
        let warm = match idle {
            Some(warm) => warm,
            None => Warm::start().await?,
        };
        *warm.slot.write().unwrap_or_else(|p| p.into_inner()) = Some(core.clone());
        Ok(warm)
    }

    async fn start() -> Result<Warm, GatewayError> {
        let listener = bind_loopback().map_err(|e| GatewayError::listen("127.0.0.1", e))?;
        let addr = listener.local_addr().map_err(GatewayError::Socket)?;
        // The core records every request itself; wiremock's own copy would be waste.
        let server = MockServer::builder()
            .listener(listener)
            .disable_request_recording()
            .start()
            .await;
        let slot = Arc::new(Slot::default());
        Mock::given(wiremock::matchers::any())
            .respond_with(WiremockFront(slot.clone()))
            .mount(&server)
            .await;
        Ok(Warm {
            _server: server,
            addr,
            slot,
        })
    }

    /// Where the front door relays to.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Ends the server's service for its gateway, whose front door is closed: idle again if
    /// nothing is in flight, else stopped.
    pub(crate) fn give_back(self) {
        let core = self.slot.write().unwrap_or_else(|p| p.into_inner()).take();
        if !core.is_some_and(|core| core.quiet()) {
            return;
        }
        let mut idle = IDLE.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push_back(self);
        }
    }
}
