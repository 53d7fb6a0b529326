//! HTTPS of the server's own (`serve --tls-cert FILE --tls-key FILE`), with rustls and its
//! `ring` provider (no OpenSSL). A mine often has no public certificate: its own certificate
//! authority signs the server's, and the phones are told to trust that authority.
//!
//! The pair is checked at start (files there and readable, PEM, a certificate chain and a
//! private key that belong together), and the server refuses to start otherwise, saying which.
//! SIGHUP reads the pair again: connections already open keep theirs, new ones get the new
//! one; a pair that does not load is logged and the old one kept.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use anyhow::{Context, anyhow, bail};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;

/// Where the certificate chain and its key are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, PEM, the server's own first.
    pub cert: PathBuf,
    /// The private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// The largest PEM file read.
const MAX_PEM_BYTES: u64 = 1024 * 1024;

fn read_pem(path: &std::path::Path, what: &str) -> anyhow::Result<Vec<u8>> {
    let len = std::fs::metadata(path)
        .with_context(|| format!("the {what} file {} cannot be read", path.display()))?
        .len();
    if len > MAX_PEM_BYTES {
        bail!(
            "the {what} file {} is {len} bytes: that is not a PEM {what}",
            path.display()
        );
    }
    std::fs::read(path)
        .with_context(|| format!("the {what} file {} cannot be read", path.display()))
}

/// Reads and checks the pair: the server configuration it makes.
pub fn load(files: &TlsFiles) -> anyhow::Result<Arc<ServerConfig>> {
    let cert_pem = read_pem(&files.cert, "certificate")?;
    let key_pem = read_pem(&files.key, "key")?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| {
            anyhow!(
                "the certificate file {} is not PEM ({e})",
                files.cert.display()
            )
        })?;
    if certs.is_empty() {
        bail!(
            "the certificate file {} holds no certificate (-----BEGIN CERTIFICATE-----)",
            files.cert.display()
        );
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        anyhow!(
            "the key file {} holds no private key in PEM ({e})",
            files.key.display()
        )
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let signing = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| anyhow!("the key in {} cannot be used ({e})", files.key.display()))?;
    let certified = CertifiedKey::new(certs, signing);
    certified.keys_match().map_err(|_| {
        anyhow!(
            "the key in {} does not belong to the certificate in {}: give the pair that was \
             issued together",
            files.key.display(),
            files.cert.display()
        )
    })?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| anyhow!("TLS cannot be set up: {e}"))?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(Single(Arc::new(certified))));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// One certificate for every name.
#[derive(Debug)]
struct Single(Arc<CertifiedKey>);

impl rustls::server::ResolvesServerCert for Single {
    fn resolve(&self, _: rustls::server::ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// The configuration new connections get, replaced on reload.
#[derive(Debug)]
pub struct Current {
    files: TlsFiles,
    config: RwLock<Arc<ServerConfig>>,
}

impl Current {
    /// Loads the pair; refuses what [`load`] refuses.
    pub fn new(files: TlsFiles) -> anyhow::Result<Current> {
        let config = load(&files)?;
        Ok(Current {
            files,
            config: RwLock::new(config),
        })
    }

    /// The configuration for a new connection.
    pub fn config(&self) -> Arc<ServerConfig> {
        self.config
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Reads the pair again; keeps the old one if the new one does not load.
    pub fn reload(&self) -> anyhow::Result<()> {
        let config = load(&self.files)?;
        *self.config.write().unwrap_or_else(|e| e.into_inner()) = config;
        Ok(())
    }
}

/// Reloads the pair on every SIGHUP, for as long as `current` is in use.
pub async fn reload_on_hangup(current: std::sync::Weak<Current>) {
    #[cfg(unix)]
    {
        let Ok(mut hangups) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            tracing::warn!(
                "SIGHUP cannot be watched: the certificate is reloaded only by a restart"
            );
            return;
        };
        while hangups.recv().await.is_some() {
            let Some(current) = current.upgrade() else {
                return;
            };
            match current.reload() {
                Ok(()) => tracing::info!("the TLS certificate was reloaded"),
                Err(e) => {
                    tracing::error!(error = %format!("{e:#}"), "the TLS certificate could not be reloaded; the old one is kept")
                }
            }
        }
    }
    #[cfg(not(unix))]
    let _ = current;
}
