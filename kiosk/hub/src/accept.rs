//! The hub's accept loop: every connection of the hall network passes here before the router.
//!
//! The hall's network is open to customers' phones, so a client must not be able to stop the
//! hub by holding connections: open connections are capped (in all and per client address, the
//! cap derived from the process's file limit and kept well below it), a connection that is slow
//! to send its request head — or that sits idle between requests — is closed after
//! `header_read_timeout`, and a stop gives in-flight requests a bounded `drain` before the rest are
//! dropped. Event streams (WebSocket upgrades) keep their connection slot for as long as they
//! live; their own pings and timeouts (`stream.rs`) look after them. Optional TLS (rustls) sits
//! between the socket and HTTP.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;

/// File descriptors kept out of the connection cap: the database and its log, read connections,
/// the lock file, the listener, logs, and whatever the runtime opens.
const RESERVED_FILES: u64 = 128;
/// Above this many connections a Pi spends more memory on buffers than a hall ever needs: a few
/// hundred screens and staff pages are a big hall.
const MOST_CONNECTIONS: usize = 2048;
/// One address (a phone, a PC, or several behind one router) may hold this many at most.
const MOST_PER_CLIENT: usize = 256;
/// The largest request head hyper buffers. The router's own limits (`edge.rs`) sit below it, so
/// a long URI or header gets a JSON answer; a head past this gets hyper's bare 431.
pub const MAX_HEAD_BYTES: usize = 32 * 1024;

/// How the hub serves connections; tests shorten the timeouts and lower the caps.
#[derive(Clone)]
pub struct ServeOptions {
    /// Connections open at once; past it new ones are closed as soon as they are accepted.
    pub max_connections: usize,
    /// Connections open at once from one client address.
    pub max_connections_per_client: usize,
    /// The time a client has to send a complete request head (and the TLS handshake before it),
    /// and the longest a kept-alive connection may sit idle between requests.
    pub header_read_timeout: Duration,
    /// On stop, how long in-flight requests have to finish before their connections are dropped.
    pub drain: Duration,
    /// Serve HTTPS with this configuration instead of plain HTTP.
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

impl std::fmt::Debug for ServeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeOptions")
            .field("max_connections", &self.max_connections)
            .field(
                "max_connections_per_client",
                &self.max_connections_per_client,
            )
            .field("header_read_timeout", &self.header_read_timeout)
            .field("drain", &self.drain)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl ServeOptions {
    /// The defaults for a process whose soft file limit is `open_files`.
    pub fn for_file_limit(open_files: u64) -> ServeOptions {
        let max_connections = connection_cap(open_files);
        ServeOptions {
            max_connections,
            max_connections_per_client: MOST_PER_CLIENT.min(max_connections),
            header_read_timeout: Duration::from_secs(10),
            drain: Duration::from_secs(5),
            tls: None,
        }
    }

    /// The defaults for this process as its file limit stands now.
    pub fn for_this_process() -> ServeOptions {
        ServeOptions::for_file_limit(file_limit())
    }
}

/// Half of what the file limit leaves after the reserve: every connection is one descriptor, and
/// the other half is headroom (SQLite, blocking threads, a burst accepted before it is counted).
pub fn connection_cap(open_files: u64) -> usize {
    let spare = open_files.saturating_sub(RESERVED_FILES) / 2;
    usize::try_from(spare)
        .unwrap_or(usize::MAX)
        .clamp(16, MOST_CONNECTIONS)
}

/// The soft limit on open files.
pub fn file_limit() -> u64 {
    use rustix::process::{Resource, getrlimit};
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

/// Raise this process's soft limit on open files to its hard limit (systemd's default soft limit
/// is 1,024, which a hall's screens plus a flood of connections can reach). Returns the limit in
/// force afterwards.
pub fn raise_file_limit() -> u64 {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let now = getrlimit(Resource::Nofile);
    // An unlimited hard limit is not a value the kernel takes for open files: ask for a plenty.
    let want = now.maximum.unwrap_or(65_536);
    if now.current.is_some_and(|c| c < want) {
        let raised = Rlimit {
            current: Some(want),
            maximum: now.maximum,
        };
        if let Err(e) = setrlimit(Resource::Nofile, raised) {
            tracing::warn!(error = %e, "cannot raise the open-file limit");
        }
    }
    file_limit()
}

/// A rustls server configuration from a PEM certificate chain and a PEM private key.
pub fn load_tls(cert: &Path, key: &Path) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("cannot read the certificate {}", cert.display()))?;
    if chain.is_empty() {
        anyhow::bail!("{} holds no PEM certificate", cert.display());
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("cannot read the private key {}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("the certificate and the private key do not make a TLS identity")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Who holds connection slots: the cap in all, and the count per client address.
struct Slots {
    all: Arc<Semaphore>,
    per_client: Mutex<HashMap<IpAddr, usize>>,
    per_client_cap: usize,
    refused: Mutex<(Instant, u64)>,
}

/// One connection's place; given back when the connection (or the WebSocket it became) closes.
struct Slot {
    _permit: OwnedSemaphorePermit,
    slots: Arc<Slots>,
    client: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut map = self
            .slots
            .per_client
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.client);
            }
        }
    }
}

impl Slots {
    fn take(self: &Arc<Self>, client: IpAddr) -> Option<Slot> {
        let permit = self.all.clone().try_acquire_owned().ok()?;
        let mut map = self.per_client.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(client).or_insert(0);
        if *n >= self.per_client_cap {
            return None;
        }
        *n += 1;
        Some(Slot {
            _permit: permit,
            slots: self.clone(),
            client,
        })
    }

    /// Refusals are logged at most every ten seconds, with how many there were: a flood must not
    /// fill the log as well.
    fn note_refused(&self, client: IpAddr) {
        let mut r = self.refused.lock().unwrap_or_else(|p| p.into_inner());
        r.1 += 1;
        if r.0.elapsed() >= Duration::from_secs(10) {
            tracing::warn!(
                refused = r.1,
                last_client = %client,
                "connection limit reached: new connections closed"
            );
            *r = (Instant::now(), 0);
        }
    }
}

/// A connection's byte stream, holding its slot for as long as it lives (also after an upgrade
/// to WebSocket, which takes the stream over).
struct Held<S> {
    io: S,
    _slot: Slot,
}

impl<S: AsyncRead + Unpin> AsyncRead for Held<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Held<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

/// Accept and serve connections until `stop` completes; then stop accepting, run `on_stop`, give
/// open connections `opts.drain` to finish their requests, and drop whatever is left. `listener`
/// speaks TLS when `opts.tls` is set; `plain`, if any, always plain HTTP (for programs on the hub's
/// own machine that speak no HTTPS); both share the caps.
pub async fn serve_connections(
    listener: TcpListener,
    plain: Option<TcpListener>,
    app: Router,
    opts: ServeOptions,
    stop: impl Future<Output = ()> + Send + 'static,
    on_stop: impl FnOnce() + Send,
) -> io::Result<()> {
    let slots = Arc::new(Slots {
        all: Arc::new(Semaphore::new(opts.max_connections)),
        per_client: Mutex::new(HashMap::new()),
        per_client_cap: opts.max_connections_per_client.max(1),
        refused: Mutex::new((Instant::now() - Duration::from_secs(60), 0)),
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(opts.header_read_timeout)
        .max_buf_size(MAX_HEAD_BYTES)
        .keep_alive(true);
    let tls = opts.tls.clone().map(tokio_rustls::TlsAcceptor::from);
    let (stopping_tx, stopping) = watch::channel(false);
    let mut conns = JoinSet::new();
    tokio::pin!(stop);
    loop {
        let (accepted, tls) = tokio::select! {
            biased;
            _ = &mut stop => break,
            // Finished connection tasks are collected as they end, so the set stays small.
            Some(_) = conns.join_next(), if !conns.is_empty() => continue,
            a = listener.accept() => (a, tls.clone()),
            a = accept(plain.as_ref()), if plain.is_some() => (a, None),
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) if out_of_resources(&e) => {
                // Out of descriptors or memory for a moment: wait instead of spinning on it.
                tracing::error!(error = %e, "accept error");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            // A client that reset before it was accepted: nothing to wait for.
            Err(e) => {
                tracing::debug!(error = %e, "accept error");
                continue;
            }
        };
        let Some(slot) = slots.take(peer.ip()) else {
            slots.note_refused(peer.ip());
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let conn = Conn {
            http: http.clone(),
            app: app.clone(),
            peer,
            handshake_timeout: opts.header_read_timeout,
            stopping: stopping.clone(),
        };
        conns.spawn(async move {
            let stream = Held {
                io: stream,
                _slot: slot,
            };
            match tls {
                None => conn.serve(stream).await,
                Some(acceptor) => {
                    match tokio::time::timeout(conn.handshake_timeout, acceptor.accept(stream))
                        .await
                    {
                        Ok(Ok(tls_stream)) => conn.serve(tls_stream).await,
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake too slow: closed"),
                    }
                }
            }
        });
    }
    drop(listener);
    drop(plain);
    on_stop();
    let _ = stopping_tx.send(true);
    let drained = tokio::time::timeout(opts.drain, async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            left = conns.len(),
            "connections still busy after the drain: dropped"
        );
        conns.shutdown().await;
    }
    Ok(())
}

fn out_of_resources(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

async fn accept(listener: Option<&TcpListener>) -> io::Result<(tokio::net::TcpStream, SocketAddr)> {
    match listener {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    }
}

/// What a connection task needs.
struct Conn {
    http: hyper::server::conn::http1::Builder,
    app: Router,
    peer: SocketAddr,
    handshake_timeout: Duration,
    stopping: watch::Receiver<bool>,
}

impl Conn {
    async fn serve<S>(mut self, stream: S)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let peer = self.peer;
        let app = self.app;
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            // The client's address for handlers that limit per client (sign-in).
            req.extensions_mut().insert(ConnectInfo(peer));
            tower::ServiceExt::oneshot(app.clone(), req)
        });
        let conn = self
            .http
            .serve_connection(TokioIo::new(stream), service)
            .with_upgrades();
        tokio::pin!(conn);
        let result = tokio::select! {
            r = conn.as_mut() => r,
            () = stopped(&mut self.stopping) => {
                // Finish the request in progress, if any, then close; an idle or half-sent
                // connection closes now.
                conn.as_mut().graceful_shutdown();
                conn.await
            }
        };
        if let Err(e) = result {
            tracing::debug!(%peer, error = %e, "connection ended with an error");
        }
    }
}

/// Resolves once the hub is stopping (the receiver's guard is not held across an await).
async fn stopped(stopping: &mut watch::Receiver<bool>) {
    let _ = stopping.wait_for(|s| *s).await.map(|_| ());
}
