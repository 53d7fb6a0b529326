//! The accept loop: HTTP/1 connections, each bounded in time and all bounded in number.
//!
//! `axum::serve` keeps a connection open for as long as its client likes: a client that sends
//! its headers a byte at a time, or opens a connection and says nothing, holds a socket and a
//! task for ever, and a few thousand of them hold the server. Here every connection:
//! - must send a request's headers within [`Settings::header_timeout`] (hyper's header-read
//!   timer, which also runs while a kept-alive connection waits for its next request);
//! - must keep a request body moving: a body that sends nothing for
//!   [`Settings::body_timeout`] fails, and its handler answers or drops it;
//! - takes one of [`Settings::max_connections`] places (fewer if the process may not open
//!   that many files), held until it closes; while none is free, the loop stops accepting and
//!   new clients wait in the kernel's listen queue;
//! - is one of at most [`Settings::connections_per_address`] from its address (an IPv6 /64):
//!   beyond that a new one is closed at once, so that one client cannot take every place (a mine's phones
//!   share one address behind its gateway, so the number is generous).
//!
//! Each request carries the client's address (`ConnectInfo<SocketAddr>`), which the login
//! throttle counts by. Shutting down stops accepting, lets requests in flight finish, and closes
//! idle connections.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower::ServiceExt;
use tower_http::timeout::TimeoutBody;

use crate::Settings;

/// The connections served at once: at most `wanted`, and fewer if the process may not open
/// that many files (Linux says how many in `/proc/self/limits`; some are kept for the store,
/// the photos and the log).
fn connection_places(wanted: usize) -> usize {
    let files = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|limits| {
            limits
                .lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3))
                .and_then(|soft| soft.parse::<usize>().ok())
        });
    match files {
        Some(files) => wanted.min(files.saturating_sub(128)).max(1),
        None => wanted.max(1),
    }
}

/// The address a connection is counted under: an IPv6 client can pick any address in its /64,
/// so the /64 is counted.
fn counted_as(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => {
            let mut octets = v6.octets();
            octets[8..].fill(0);
            IpAddr::V6(octets.into())
        }
        v4 => v4,
    }
}

/// How long a stopping server waits for requests in flight.
const SHUTDOWN_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Serves `app` on `listener` until `shutdown` completes, then waits for requests in flight.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    settings: &Settings,
    tls: Option<Arc<crate::tls::Current>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let places = Arc::new(tokio::sync::Semaphore::new(connection_places(
        settings.max_connections,
    )));
    let per_address = settings.connections_per_address.max(1);
    let open: Arc<std::sync::Mutex<HashMap<IpAddr, usize>>> = Arc::default();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(settings.header_timeout)
        .keep_alive(true);
    let body_timeout = settings.body_timeout;
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let place = tokio::select! {
            () = &mut shutdown => break,
            place = places.clone().acquire_owned() => match place {
                Ok(place) => place,
                Err(_) => break,
            },
        };
        let (stream, address) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was taken:
                    // wait a moment rather than spin.
                    tracing::warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let ip = counted_as(address.ip());
        {
            let mut open = open.lock().unwrap_or_else(|e| e.into_inner());
            let count = open.entry(ip).or_default();
            if *count >= per_address {
                tracing::debug!(%ip, "too many connections from one address");
                continue;
            }
            *count += 1;
        }
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let app = app.clone();
            async move {
                let mut request =
                    request.map(|body| Body::new(TimeoutBody::new(body_timeout, body)));
                request
                    .extensions_mut()
                    .insert(ConnectInfo::<SocketAddr>(address));
                Ok::<_, Infallible>(app.oneshot(request).await.unwrap_or_else(|e| match e {}))
            }
        });
        let open = open.clone();
        crate::metrics::connections(1.0);
        let served: std::pin::Pin<Box<dyn Future<Output = ()> + Send>> = match &tls {
            None => {
                let connection =
                    graceful.watch(http.serve_connection(TokioIo::new(stream), service));
                Box::pin(async move {
                    let _ = connection.await;
                })
            }
            Some(tls) => {
                // The handshake happens on the connection's own task, bounded like a request's
                // headers; the configuration is the one current when the connection came.
                let acceptor = tokio_rustls::TlsAcceptor::from(tls.config());
                let http = http.clone();
                let watcher = graceful.watcher();
                let handshake_timeout = settings.header_timeout;
                Box::pin(async move {
                    let Ok(Ok(stream)) =
                        tokio::time::timeout(handshake_timeout, acceptor.accept(stream)).await
                    else {
                        return;
                    };
                    let connection =
                        watcher.watch(http.serve_connection(TokioIo::new(stream), service));
                    let _ = connection.await;
                })
            }
        };
        tokio::spawn(async move {
            // A client that goes away or times out ends its connection; nothing to report.
            served.await;
            crate::metrics::connections(-1.0);
            drop(place);
            let mut open = open.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(count) = open.get_mut(&ip) {
                *count -= 1;
                if *count == 0 {
                    open.remove(&ip);
                }
            }
        });
    }
    drop(listener);
    // Requests in flight finish; a client that keeps one open for ever does not hold the stop.
    if tokio::time::timeout(SHUTDOWN_WAIT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections were still open when the server stopped");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_client_counts_as_its_64_and_an_ipv4_one_as_itself() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("v6");
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().expect("v6");
        let c: IpAddr = "2001:db8:1:3::1".parse().expect("v6");
        assert_eq!(counted_as(a), counted_as(b));
        assert_ne!(counted_as(a), counted_as(c));
        let v4: IpAddr = "10.1.2.3".parse().expect("v4");
        assert_eq!(counted_as(v4), v4);
    }
}
