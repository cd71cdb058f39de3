//! A TCP proxy in front of a real server, which a test can cut, slow, stall and restore:
//! the server stays real, only the network between it and the crate fails.
//!
//! - [`cut`](Proxy::cut): every open connection is closed and new ones are refused (a
//!   server that went away, a killed connection).
//! - [`delay`](Proxy::delay): every chunk, either way, waits before it is forwarded (a slow
//!   link or a slow server).
//! - [`stall`](Proxy::stall): connections are accepted and bytes are read, but nothing is
//!   forwarded (a hung server, a black-holed route): the client sees no error, only
//!   silence, which only its own timeouts end.
//! - [`restore`](Proxy::restore): everything flows again, at once; a chunk a stall held is
//!   forwarded then, as a network that recovers would deliver it late.
//!
//! [`upstream`](Proxy::upstream) lists the local addresses of the open connections to the
//! server, which is how the server names them (`CLIENT KILL ADDR`, `pg_stat_activity`'s
//! `client_port`, MariaDB's `PROCESSLIST`): a test kills its own connections on the server
//! and no one else's.
#![allow(dead_code, unreachable_pub)]

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What the proxy does with the bytes of its connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Forwards at once.
    Pass,
    /// Refuses and closes everything.
    Cut,
    /// Forwards each chunk after this long.
    Delay(Duration),
    /// Holds every chunk until the mode changes.
    Stall,
}

pub struct Proxy {
    pub addr: SocketAddr,
    mode: watch::Sender<Mode>,
    upstream: Arc<Mutex<HashSet<SocketAddr>>>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `target`.
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let (mode, _) = watch::channel(Mode::Pass);
        let upstream = Arc::new(Mutex::new(HashSet::new()));
        let (accept_mode, open) = (mode.clone(), upstream.clone());
        tokio::spawn(async move {
            loop {
                let Ok((inbound, _)) = listener.accept().await else { break };
                if *accept_mode.borrow() == Mode::Cut {
                    drop(inbound); // refused while down
                    continue;
                }
                let (mode, open) = (accept_mode.subscribe(), open.clone());
                tokio::spawn(async move {
                    let Ok(outbound) = TcpStream::connect(target).await else { return };
                    let Ok(local) = outbound.local_addr() else { return };
                    open.lock().expect("lock").insert(local);
                    let _ = inbound.set_nodelay(true);
                    let _ = outbound.set_nodelay(true);
                    let (inbound_read, inbound_write) = inbound.into_split();
                    let (outbound_read, outbound_write) = outbound.into_split();
                    // Either direction ending (or a cut) ends the connection.
                    tokio::select! {
                        () = pump(inbound_read, outbound_write, mode.clone()) => {}
                        () = pump(outbound_read, inbound_write, mode.clone()) => {}
                        () = cut(mode) => {}
                    }
                    open.lock().expect("lock").remove(&local);
                });
            }
        });
        Self { addr, mode, upstream }
    }

    /// The local addresses of the open connections to the server.
    pub fn upstream(&self) -> Vec<SocketAddr> {
        self.upstream.lock().expect("lock").iter().copied().collect()
    }

    /// Cuts every open connection and refuses new ones.
    pub fn cut(&self) {
        self.mode.send_replace(Mode::Cut);
    }

    /// Forwards every chunk `by` late, both ways, on open and new connections.
    pub fn delay(&self, by: Duration) {
        self.mode.send_replace(Mode::Delay(by));
    }

    /// Accepts and reads, but forwards nothing until [`restore`](Self::restore) (or a cut).
    pub fn stall(&self) {
        self.mode.send_replace(Mode::Stall);
    }

    /// Forwards at once again (and accepts connections again after a cut).
    pub fn restore(&self) {
        self.mode.send_replace(Mode::Pass);
    }
}

/// Resolves when the mode becomes [`Mode::Cut`] (or the proxy is gone).
async fn cut(mut mode: watch::Receiver<Mode>) {
    let _ = mode.wait_for(|mode| *mode == Mode::Cut).await;
}

/// Copies `from` to `to`, one chunk at a time, as the mode says.
async fn pump(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    mut mode: watch::Receiver<Mode>,
) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        let now = *mode.borrow_and_update();
        match now {
            Mode::Pass => {}
            Mode::Cut => return,
            Mode::Delay(by) => tokio::time::sleep(by).await,
            Mode::Stall => {
                if mode.wait_for(|mode| *mode != Mode::Stall).await.is_err() {
                    return;
                }
            }
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}
