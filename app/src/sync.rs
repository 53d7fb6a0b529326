//! The sync engine: sends local changes and photos, takes in what changed on the server, and
//! reports progress and state for the UI.
//!
//! One sync is a loop of requests to `POST /v1/sync`. Each sends the documents with local
//! changes (up to a byte budget) and the cursor, and takes in the answer in one flushed batch
//! before the cursor moves, so a sync cut off at any point resumes where it stopped: the
//! server has either stored a push (and acknowledges it again, unchanged, when it comes a
//! second time) or not. With nothing to send and nothing new, a sync is one small request.
//! Photos in the outbox follow: the server is asked which it lacks and how much of each it
//! holds, and only the rest of each is sent. Once the sync is done, the thumbnails of the
//! branch's open problems that other phones took are fetched (never failing the sync), so
//! that the holder and the verifier see them offline.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::{Notify, watch};
use zonepatrol_shared::Actor;
use zonepatrol_shared::protocol::{
    API, BlobCheckRequest, BlobCheckResponse, BlobState, ErrorBody, LoginRequest, LoginResponse,
    Outcome, SyncRequest, SyncResponse, UPLOAD_LENGTH, UPLOAD_OFFSET,
};

use crate::store::{Incoming, Repo, Session, StoreError};

/// Why a sync or a sign-in failed, in words for the user.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// No session.
    #[error("not signed in: sign in to send your work")]
    NotSignedIn,
    /// The server could not be reached or the connection broke.
    #[error(
        "no connection to the server ({0}): your work is saved on this phone and will be sent when there is a connection"
    )]
    Offline(String),
    /// The token was refused.
    #[error("the server does not accept this sign-in any more ({0}): sign in again")]
    Unauthorized(String),
    /// Too many wrong passwords for this name: the server checks none until the wait is over.
    #[error(
        "too many wrong passwords for this name: wait {} min and try again, or ask an admin to set a new password",
        minutes(*.0)
    )]
    TooManyAttempts(u64),
    /// The server is busy (a flood of sign-ins or large pushes): try again after the seconds.
    #[error(
        "the server is busy: your work is saved on this phone; try again in {0} s (the app does by itself)"
    )]
    Busy(u64),
    /// The server answered with an error.
    #[error("the server answered {status}: {message}")]
    Server {
        /// The HTTP status.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// The server's answer could not be understood.
    #[error("the server's answer could not be read ({0}): update the app, or try again later")]
    Protocol(String),
    /// Signed in on the phone without the server: the work waits for an online sign-in.
    #[error(
        "signed in on this phone without the server: your work is saved here; sign in again where the server is reachable to send it"
    )]
    SignedInOffline,
    /// An offline sign-in did not open.
    #[error(transparent)]
    Unlock(#[from] crate::store::Unlock),
    /// Local storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The text given as the mine's certificate authority holds no certificate.
    #[error(
        "that is not a certificate: paste the whole PEM text the mine's IT gave, from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----"
    )]
    BadAuthority,
}

/// Who signed in, and whether the server took part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    /// Who.
    pub user: Actor,
    /// Signed in on the phone alone: the server could not be reached.
    pub offline: bool,
}

/// Where sync stands, for the UI.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SyncState {
    /// Not run yet.
    #[default]
    Idle,
    /// Running.
    Syncing,
    /// The last sync finished at this time (ms).
    Done {
        /// When.
        at: i64,
    },
    /// No connection; will retry.
    Offline {
        /// What happened.
        reason: String,
    },
    /// Failed for a reason the user must act on (sign in again, update the app…).
    Failed {
        /// What happened and what to do.
        reason: String,
        /// What the user should do, for the banner in their language.
        fix: Fix,
    },
}

/// What the user should do about a failed sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fix {
    /// Sign in (again).
    SignIn,
    /// Signed in on the phone alone: the work waits for an online sign-in.
    SignInOnline,
    /// Free some space on the phone.
    FreeSpace,
    /// Update the app, or try again later.
    UpdateOrRetry,
}

impl Fix {
    /// The fix for an error.
    pub fn of(e: &SyncError) -> Fix {
        match e {
            SyncError::SignedInOffline => Fix::SignInOnline,
            SyncError::NotSignedIn | SyncError::Unauthorized(_) | SyncError::Unlock(_) => {
                Fix::SignIn
            }
            SyncError::Store(_) => Fix::FreeSpace,
            SyncError::Offline(_)
            | SyncError::Server { .. }
            | SyncError::Protocol(_)
            | SyncError::TooManyAttempts(_)
            | SyncError::Busy(_)
            | SyncError::BadAuthority => Fix::UpdateOrRetry,
        }
    }
}

/// The most thumbnails one sync fetches: the rest come at the next.
pub const THUMBS_PER_SYNC: usize = 200;

/// The largest thumbnail kept: the app makes them far smaller (320 px JPEG), so anything
/// bigger is not a thumbnail.
pub const THUMB_MAX_BYTES: usize = 512 * 1024;

/// The most time thumbnails are fetched for after one sync.
pub const THUMB_FETCH_BUDGET: Duration = Duration::from_secs(60);

/// How long a thumbnail the server did not have waits before it is asked for again.
const ASK_AGAIN_AFTER: Duration = Duration::from_secs(3600);

/// How much moved in the current or last sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    /// Documents sent.
    pub docs_up: u64,
    /// Documents received.
    pub docs_down: u64,
    /// Bytes of request bodies sent.
    pub bytes_up: u64,
    /// Bytes of answers received.
    pub bytes_down: u64,
    /// Photos sent whole.
    pub blobs_up: u64,
    /// Thumbnails fetched from the server (photos other phones took).
    pub blobs_down: u64,
    /// Requests made.
    pub round_trips: u64,
    /// Pushes refused by the server and put in quarantine.
    pub refused: u64,
}

/// The state and progress the UI shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncStatus {
    /// The state.
    pub state: SyncState,
    /// The counts.
    pub progress: Progress,
}

/// A sync client for one repository.
#[derive(Debug, Clone)]
pub struct SyncClient {
    repo: Arc<Repo>,
    /// Shared by the client's clones: trusting the mine's authority changes it for all.
    http: Arc<std::sync::RwLock<reqwest::Client>>,
    status: watch::Sender<SyncStatus>,
    /// The most change bytes sent in one request.
    push_budget: usize,
    /// Thumbnails the server did not have, and since when: not asked for at every sync.
    absent: Arc<std::sync::Mutex<std::collections::HashMap<String, std::time::Instant>>>,
}

fn offline(e: &reqwest::Error) -> SyncError {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    SyncError::Offline(text)
}

/// Installs the TLS crypto provider (ring, which builds for Android) once per process.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The preference that holds the mine's own certificate authority (PEM), when one is trusted.
const AUTHORITY: &str = "trusted authority";

/// The certificates of a PEM text, checked: at least one, each one a certificate rustls reads.
fn authority_certificates(pem: &str) -> Result<Vec<reqwest::Certificate>, SyncError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let ders: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|_| SyncError::BadAuthority)?;
    if ders.is_empty() || ders.len() > 16 {
        return Err(SyncError::BadAuthority);
    }
    ders.iter()
        .map(|d| reqwest::Certificate::from_der(d).map_err(|_| SyncError::BadAuthority))
        .collect()
}

/// The SHA-256 fingerprint of a PEM's first certificate (`AB:CD:…`), as `openssl x509
/// -fingerprint -sha256` prints it, for a person to compare.
pub fn authority_fingerprint(pem: &str) -> Option<String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    use sha2::Digest;
    let der = CertificateDer::pem_slice_iter(pem.as_bytes())
        .next()?
        .ok()?;
    Some(
        sha2::Sha256::digest(der.as_ref())
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":"),
    )
}

/// The most text taken as an authority: a few certificates.
const MAX_AUTHORITY_CHARS: usize = 64 * 1024;

/// The certificates of a pasted PEM, written out again on their own: nothing else of what was
/// pasted (a private key pasted along by mistake, text around it) is kept on the phone.
fn certificates_only(text: &str) -> Result<String, SyncError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    if text.trim().is_empty() || text.len() > MAX_AUTHORITY_CHARS || text.contains("PRIVATE KEY") {
        return Err(SyncError::BadAuthority);
    }
    authority_certificates(text)?;
    let mut out = String::new();
    for der in CertificateDer::pem_slice_iter(text.as_bytes()) {
        let der = der.map_err(|_| SyncError::BadAuthority)?;
        let body = zonepatrol_shared::protocol::b64::encode(der.as_ref());
        out.push_str("-----BEGIN CERTIFICATE-----\n");
        for line in body.as_bytes().chunks(64) {
            out.push_str(&String::from_utf8_lossy(line));
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
    }
    Ok(out)
}

/// An HTTP client trusting the usual roots and, when given, the mine's own authority.
fn http_client(authority: Option<&str>) -> Result<reqwest::Client, SyncError> {
    install_crypto();
    let builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(120));
    let mine = match authority {
        Some(pem) => authority_certificates(pem)?,
        None => Vec::new(),
    };
    // rustls-platform-verifier needs JNI set up and a Kotlin library on Android; the
    // Mozilla roots need neither (see docs/MOBILE.md).
    #[cfg(target_os = "android")]
    let builder = builder.tls_certs_only(
        webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .filter_map(|der| reqwest::Certificate::from_der(der).ok())
            .chain(mine),
    );
    #[cfg(not(target_os = "android"))]
    let builder = builder.tls_certs_merge(mine);
    builder
        .build()
        .map_err(|e| SyncError::Protocol(e.to_string()))
}

impl SyncClient {
    /// The HTTP client as it is now (it changes when the mine's authority is trusted).
    fn http(&self) -> reqwest::Client {
        self.http.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Trusts the mine's own certificate authority (a PEM the mine's IT gives), or stops
    /// trusting it (`None`): kept on the phone, used from the next request on. A PEM that holds
    /// no certificate is refused and the old trust kept.
    pub fn trust_authority(&self, pem: Option<&str>) -> Result<(), SyncError> {
        let kept = match pem {
            None => None,
            Some(text) => Some(certificates_only(text)?),
        };
        let http = http_client(kept.as_deref())?;
        self.repo
            .set_preference(AUTHORITY, kept.as_deref().unwrap_or_default())?;
        *self.http.write().unwrap_or_else(|e| e.into_inner()) = http;
        Ok(())
    }

    /// The mine's authority this phone trusts, if any.
    pub fn trusted_authority(&self) -> Result<Option<String>, SyncError> {
        Ok(self
            .repo
            .preference(AUTHORITY)?
            .filter(|p| !p.trim().is_empty()))
    }

    /// A client for a repository.
    pub fn new(repo: Arc<Repo>) -> Result<SyncClient, SyncError> {
        let authority = repo.preference(AUTHORITY)?.filter(|p| !p.trim().is_empty());
        // A stored authority that no longer reads (it cannot happen through `trust_authority`)
        // must not keep the phone from syncing with public certificates.
        let http = http_client(authority.as_deref()).or_else(|_| http_client(None))?;
        let http = Arc::new(std::sync::RwLock::new(http));
        // The banner shows the last sync's time from the start, not "never synced".
        let state = match repo.last_synced()? {
            Some(at) => SyncState::Done { at },
            None => SyncState::Idle,
        };
        Ok(SyncClient {
            repo,
            http,
            status: watch::Sender::new(SyncStatus {
                state,
                ..SyncStatus::default()
            }),
            push_budget: 4 * 1024 * 1024,
            absent: Arc::default(),
        })
    }

    /// Signs out: the person's work is sent first when the server can be reached, then the
    /// server revokes the token, and the phone forgets the session. Documents and unsent
    /// work stay; what could not be sent goes when the person next signs in online.
    pub async fn logout(&self) -> Result<(), SyncError> {
        if let Some(session) = self.repo.session()? {
            if self.repo.has_unsent_of(&session.user.user)? {
                let _ = tokio::time::timeout(Duration::from_secs(20), self.sync()).await;
            }
            let url = format!("{}/v1/logout", session.server);
            // Offline underground: the phone forgets the token anyway.
            let _ = self
                .http()
                .post(url)
                .bearer_auth(&session.token)
                .timeout(Duration::from_secs(5))
                .send()
                .await;
        }
        self.repo.clear_session()?;
        self.set_state(SyncState::Idle);
        Ok(())
    }

    /// The repository.
    pub fn repo(&self) -> &Arc<Repo> {
        &self.repo
    }

    /// Watches the state and progress.
    pub fn status(&self) -> watch::Receiver<SyncStatus> {
        self.status.subscribe()
    }

    /// Signs in with the server and keeps the session, and a salted hash of the password so
    /// that the person can sign in on this phone offline next time. Whoever used the phone
    /// before keeps their unsent work, drafts and refused edits.
    pub async fn login(
        &self,
        server: &str,
        user: &str,
        password: &str,
        device: &str,
    ) -> Result<Actor, SyncError> {
        let server = server.trim_end_matches('/').to_owned();
        let body = LoginRequest {
            user: user.to_owned(),
            password: password.to_owned(),
            device: device.to_owned(),
            device_key: Some(self.repo.device_key().id().to_string()),
            device_proof: Some(self.repo.device_key().prove(user)),
        };
        let (response, _) = self
            .call::<LoginResponse>(&server, "/login", None, &body)
            .await?;
        self.repo.set_session(&Session {
            server,
            token: response.token,
            user: response.user.clone(),
            time_zone: response.time_zone,
            server_key: response.server_key,
        })?;
        let (repo, name, password) = (
            self.repo.clone(),
            response.user.user.clone(),
            password.to_owned(),
        );
        blocking(move || repo.remember_password(&name, &password)).await?;
        Ok(response.user)
    }

    /// Signs in with the server or, when it cannot be reached, on the phone alone with the
    /// password the person last signed in with here (underground, a shared phone changes
    /// hands without the server). Says which it was.
    pub async fn sign_in(
        &self,
        server: &str,
        user: &str,
        password: &str,
        device: &str,
    ) -> Result<SignedIn, SyncError> {
        match self.login(server, user, password, device).await {
            Ok(user) => Ok(SignedIn {
                user,
                offline: false,
            }),
            Err(SyncError::Offline(why)) => {
                let (repo, server, name, password) = (
                    self.repo.clone(),
                    server.trim_end_matches('/').to_owned(),
                    user.to_owned(),
                    password.to_owned(),
                );
                let unlocked = tokio::task::spawn_blocking(move || {
                    repo.sign_in_offline(&server, &name, &password, crate::store::now_millis())
                })
                .await
                .map_err(|e| SyncError::Protocol(e.to_string()))?;
                match unlocked {
                    Ok(session) => Ok(SignedIn {
                        user: session.user,
                        offline: true,
                    }),
                    // Someone never seen here needs the server: say that it cannot be reached.
                    Err(crate::store::Unlock::Unknown(_)) => Err(SyncError::Offline(why)),
                    Err(e) => Err(e.into()),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Hands the phone to someone else without signing out: the person's unsent work still
    /// goes to the server under their name.
    pub fn switch_user(&self) -> Result<(), SyncError> {
        self.repo.park_session()?;
        self.set_state(SyncState::Idle);
        Ok(())
    }

    async fn call<T: DeserializeOwned>(
        &self,
        server: &str,
        route: &str,
        token: Option<&str>,
        body: &impl Serialize,
    ) -> Result<(T, u64), SyncError> {
        let body = serde_json::to_vec(body).map_err(|e| SyncError::Protocol(e.to_string()))?;
        let sent = body.len() as u64;
        let mut request = self
            .http()
            .post(format!("{server}{API}{route}"))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(|e| offline(&e))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
        let bytes = response.bytes().await.map_err(|e| offline(&e))?;
        self.status.send_modify(|s| {
            s.progress.bytes_up += sent;
            s.progress.bytes_down += bytes.len() as u64;
            s.progress.round_trips += 1;
        });
        if !status.is_success() {
            return Err(error_of(status, retry_after, &bytes));
        }
        serde_json::from_slice(&bytes)
            .map(|v| (v, sent))
            .map_err(|e| SyncError::Protocol(e.to_string()))
    }

    fn set_state(&self, state: SyncState) {
        self.status.send_modify(|s| s.state = state);
    }

    /// Syncs now: documents, then photos. Returns the counts of this sync.
    pub async fn sync(&self) -> Result<Progress, SyncError> {
        self.status.send_modify(|s| {
            s.state = SyncState::Syncing;
            s.progress = Progress::default();
        });
        let mut result = self.sync_inner().await;
        // The phone's other people's work goes whatever became of this person's (signed in
        // offline, nobody signed in, a token the server no longer takes), unless the server is
        // away.
        let current = self
            .repo
            .session()
            .ok()
            .flatten()
            .map(|s| s.user.user)
            .unwrap_or_default();
        if !matches!(result, Err(SyncError::Offline(_) | SyncError::Busy(_)))
            && self.sync_others(&current).await
            && result.is_ok()
            && self.repo.has_unsent_of(&current).unwrap_or(false)
        {
            // What this person did on top of another's work goes now that theirs is in.
            result = self.sync_inner().await;
        }
        match &result {
            Ok(()) => {
                let at = crate::store::now_millis();
                // Only for the banner after a restart: a failure to note it loses nothing.
                let _ = self.repo.set_last_synced(at);
                self.set_state(SyncState::Done { at });
                // Then the thumbnails other phones took: the lists are fresh already, and a
                // thumbnail that does not come never fails the sync. One update when some
                // came, for the pages that show them.
                if let Ok(Some(session)) = self.repo.session() {
                    let moved = self.fetch_thumbs(&session).await;
                    if moved.round_trips > 0 {
                        self.status.send_modify(|s| {
                            s.progress.round_trips += moved.round_trips;
                            s.progress.bytes_down += moved.bytes_down;
                            s.progress.blobs_down += moved.blobs_down;
                        });
                    }
                }
            }
            Err(e @ SyncError::Offline(_)) => self.set_state(SyncState::Offline {
                reason: e.to_string(),
            }),
            Err(e) => self.set_state(SyncState::Failed {
                reason: e.to_string(),
                fix: Fix::of(e),
            }),
        }
        let progress = self.status.borrow().progress;
        result.map(|()| progress)
    }

    async fn sync_inner(&self) -> Result<(), SyncError> {
        let session = self.repo.session()?.ok_or(SyncError::NotSignedIn)?;
        if session.token.is_empty() {
            return Err(SyncError::SignedInOffline);
        }
        self.sync_as(&session, true).await?;
        self.send_photos(&session).await
    }

    /// The work of the phone's other people, each under their own token while they have one:
    /// what they did while the server was away goes up as soon as it is back, whoever holds
    /// the phone. A token the server no longer takes is forgotten; that person's work then
    /// waits for them to sign in. Says whether anyone's work went.
    async fn sync_others(&self, current: &str) -> bool {
        let Ok(accounts) = self.repo.accounts() else {
            return false;
        };
        let mut sent = false;
        for account in accounts {
            let name = account.user.user.clone();
            let Some(session) = account.kept_session() else {
                continue;
            };
            if name == current {
                continue;
            }
            let repo = self.repo.clone();
            let waiting = {
                let name = name.clone();
                blocking(move || repo.has_unsent_of(&name)).await
            };
            if !matches!(waiting, Ok(true)) {
                continue;
            }
            match self.sync_as(&session, false).await {
                Ok(()) => {
                    sent = true;
                    // Photos too: whoever took them, the outbox is the phone's.
                    let _ = self.send_photos(&session).await;
                }
                Err(SyncError::Unauthorized(_)) => {
                    let _ = self.repo.forget_token(&name);
                }
                Err(_) => return sent,
            }
        }
        sent
    }

    /// Sends one person's work and takes in what they may read, under their token.
    async fn sync_as(&self, session: &Session, current: bool) -> Result<(), SyncError> {
        let user = session.user.user.clone();
        // Each round sends what is unsent and takes in one page of news; a handful of rounds
        // is normal, this many means something keeps changing under us.
        for round in 0..10_000 {
            let push = {
                let repo = self.repo.clone();
                let budget = self.push_budget;
                let user = user.clone();
                blocking(move || repo.outgoing(&user, budget)).await?
            };
            let request = SyncRequest {
                cursor: self.repo.cursor(&user)?,
                push,
                max_bytes: None,
                // A session from before keys (no server key known): its sign-in is bound to
                // this phone's key now. Later sessions were bound at sign-in.
                device_key: session
                    .server_key
                    .is_none()
                    .then(|| self.repo.device_key().id().to_string()),
                device_proof: session
                    .server_key
                    .is_none()
                    .then(|| self.repo.device_key().prove(&session.user.user)),
                // What this phone carries for other phones, and what became of what its
                // people handed on; the branch's device list when it changed.
                carried: self.repo.carried_out()?,
                handed: if round == 0 {
                    self.repo.handed_pending()?
                } else {
                    Vec::new()
                },
                devices: (round == 0)
                    .then(|| self.repo.device_list_version())
                    .transpose()?,
                whole: self.repo.wanted_whole(&user)?,
            };
            let asked_whole = !request.whole.is_empty();
            let (mut response, _) = self
                .call::<SyncResponse>(&session.server, "/sync", Some(&session.token), &request)
                .await?;
            if let Some(tz) = &response.time_zone
                && current
                && let Some(mut now) = self.repo.session()?
                && now.time_zone != *tz
            {
                // The server's time zone changed since sign-in: follow it.
                now.time_zone = tz.clone();
                self.repo.set_session(&now)?;
            }
            if let Some(checkpoint) = &response.checkpoint
                && let Some(key) = session
                    .server_key
                    .as_deref()
                    .and_then(|k| k.parse::<zonepatrol_shared::signing::KeyId>().ok())
                && checkpoint.verify(&key).is_ok()
            {
                // The server's signed word of its log, checked against the key it gave at
                // sign-in: kept, the latest, as evidence.
                self.repo.keep_checkpoint(checkpoint)?;
            }
            let carried_acks = std::mem::take(&mut response.carried);
            self.repo.settle_handed(&response.handed)?;
            if let Some(list) = &response.devices
                && let Some(key) = session
                    .server_key
                    .as_deref()
                    .and_then(|k| k.parse::<zonepatrol_shared::signing::KeyId>().ok())
            {
                self.repo.keep_device_list(list, &key)?;
            } else if request.devices.is_some() && response.devices.is_none() {
                // Asked, and the one held is still the server's.
                self.repo.device_list_current()?;
            }
            let more = response.more;
            let pushed = request.push.len() as u64;
            let down = response.docs.len() as u64;
            let refused = {
                let repo = self.repo.clone();
                let user = user.clone();
                match blocking(move || take_in(&repo, &user, &request, &response)).await {
                    // Data that does not load is fetched again whole: start the cursor over.
                    Err(e @ SyncError::Store(StoreError::BadRemote { .. })) => {
                        self.repo.reset_cursor(&session.user.user)?;
                        return Err(e);
                    }
                    other => other?,
                }
            };
            // After the answer's documents: what of a refused carried item was shown here goes,
            // and what the server has by another way stays.
            self.repo.settle_carried(&carried_acks)?;
            self.status.send_modify(|s| {
                s.progress.docs_up += pushed;
                s.progress.docs_down += down;
                s.progress.refused += refused;
            });
            // Documents that did not connect are asked for whole once more in this sync (and
            // again at the next, should they still not).
            if !more
                && !self.repo.has_unsent_of(&user)?
                && (asked_whole || self.repo.wanted_whole(&user)?.is_empty())
            {
                break;
            }
        }
        Ok(())
    }

    /// Fetches the thumbnails of open problems that other phones took, after a sync is done
    /// and apart from it: at most [`THUMBS_PER_SYNC`] and [`THUMB_FETCH_BUDGET`] at a time,
    /// each at most [`THUMB_MAX_BYTES`] and kept only if its bytes match its name. One that
    /// cannot be had (the server lacks it or fails on it, too big, damaged) is asked for
    /// again after [`ASK_AGAIN_AFTER`]; the link dropping or the server being busy stops the
    /// round until the next sync. Nothing here fails a sync. Returns what moved.
    async fn fetch_thumbs(&self, session: &Session) -> Progress {
        let mut moved = Progress::default();
        let wanted = {
            let repo = self.repo.clone();
            let branch = session.user.branch.clone();
            match blocking(move || repo.thumbs_missing(&branch)).await {
                Ok(wanted) => wanted,
                Err(_) => return moved,
            }
        };
        let now = std::time::Instant::now();
        let wanted: Vec<String> = {
            let mut absent = self.absent.lock().unwrap_or_else(|e| e.into_inner());
            absent.retain(|_, since| now.duration_since(*since) < ASK_AGAIN_AFTER);
            wanted
                .into_iter()
                .filter(|h| !absent.contains_key(h))
                .take(THUMBS_PER_SYNC)
                .collect()
        };
        let later = |hash: String| {
            let mut absent = self.absent.lock().unwrap_or_else(|e| e.into_inner());
            if absent.len() < 10_000 {
                absent.insert(hash, now);
            }
        };
        let until = tokio::time::Instant::now() + THUMB_FETCH_BUDGET;
        for hash in wanted {
            let fetched = tokio::time::timeout_at(until, async {
                let mut response = self
                    .http()
                    .get(format!("{}{API}/blobs/{hash}", session.server))
                    .bearer_auth(&session.token)
                    .send()
                    .await
                    .ok()?;
                let status = response.status();
                if !status.is_success() {
                    return Some(Err(status));
                }
                let mut bytes = Vec::new();
                while let Some(chunk) = response.chunk().await.ok()? {
                    bytes.extend_from_slice(&chunk);
                    if bytes.len() > THUMB_MAX_BYTES {
                        break;
                    }
                }
                Some(Ok(bytes))
            })
            .await;
            moved.round_trips += 1;
            let bytes = match fetched {
                // Out of time, or the link dropped: the rest wait for the next sync.
                Err(_) | Ok(None) => break,
                Ok(Some(Err(status))) => {
                    if matches!(
                        status,
                        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
                    ) {
                        break;
                    }
                    later(hash);
                    continue;
                }
                Ok(Some(Ok(bytes))) => bytes,
            };
            moved.bytes_down += bytes.len() as u64;
            if bytes.len() > THUMB_MAX_BYTES {
                later(hash);
                continue;
            }
            let repo = self.repo.clone();
            let name = hash.clone();
            match blocking(move || repo.keep_blob(&name, &bytes)).await {
                Ok(()) => moved.blobs_down += 1,
                Err(SyncError::Store(StoreError::BadRemote { .. })) => later(hash),
                Err(_) => break,
            }
        }
        moved
    }

    async fn send_photos(&self, session: &Session) -> Result<(), SyncError> {
        let mut outbox = self.repo.outbox()?;
        if outbox.is_empty() {
            return Ok(());
        }
        // Smallest first: over a weak link the thumbnails arrive before the photos.
        outbox.sort_by_key(|o| o.size);
        let check = BlobCheckRequest {
            hashes: outbox.iter().map(|o| o.hash.clone()).collect(),
        };
        let (answer, _) = self
            .call::<BlobCheckResponse>(
                &session.server,
                "/blobs/check",
                Some(&session.token),
                &check,
            )
            .await?;
        // One photo that cannot be sent does not hold back the others.
        let mut first_error = None;
        let mut blobs = answer.blobs;
        blobs.sort_by_key(|b| outbox.iter().position(|o| o.hash == b.hash));
        for blob in blobs {
            if blob.stored {
                self.repo.blob_sent(&blob.hash)?;
                continue;
            }
            if let Err(e) = self.upload(session, &blob).await {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Sends the rest of one photo from the offset the server holds.
    async fn upload(&self, session: &Session, blob: &BlobState) -> Result<(), SyncError> {
        let bytes = tokio::fs::read(self.repo.blob_path(&blob.hash))
            .await
            .map_err(StoreError::from)?;
        let mut offset = blob.offset.min(bytes.len() as u64);
        for _ in 0..3 {
            let rest = bytes[usize::try_from(offset).unwrap_or(0)..].to_vec();
            let sent = rest.len() as u64;
            let response = self
                .http()
                .put(format!("{}{API}/blobs/{}", session.server, blob.hash))
                .bearer_auth(&session.token)
                .header(UPLOAD_OFFSET, offset)
                .header(UPLOAD_LENGTH, bytes.len())
                .body(rest)
                .send()
                .await
                .map_err(|e| offline(&e))?;
            let status = response.status();
            let held = response
                .headers()
                .get(UPLOAD_OFFSET)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            let body = response.bytes().await.map_err(|e| offline(&e))?;
            self.status.send_modify(|s| {
                s.progress.bytes_up += sent;
                s.progress.bytes_down += body.len() as u64;
                s.progress.round_trips += 1;
            });
            match status {
                StatusCode::OK | StatusCode::CREATED => {
                    self.repo.blob_sent(&blob.hash)?;
                    self.status.send_modify(|s| s.progress.blobs_up += 1);
                    return Ok(());
                }
                StatusCode::CONFLICT | StatusCode::ACCEPTED if held.is_some() => {
                    offset = held.unwrap_or(0).min(bytes.len() as u64);
                }
                _ => return Err(error_of(status, None, &body)),
            }
        }
        Err(SyncError::Offline(format!(
            "the upload of photo {} did not finish",
            blob.hash
        )))
    }

    /// Syncs whenever woken, every `every`, and after failures with backoff (1 s doubling to
    /// 5 minutes), until `shutdown` completes.
    pub async fn run(
        &self,
        wake: Arc<Notify>,
        every: Duration,
        shutdown: impl Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        let mut backoff = Duration::from_secs(1);
        loop {
            let wait = match self.sync().await {
                Ok(_) => {
                    backoff = Duration::from_secs(1);
                    every
                }
                // Nobody to sync as, or not as this person: the others' work still goes.
                Err(
                    SyncError::Unauthorized(_)
                    | SyncError::NotSignedIn
                    | SyncError::SignedInOffline,
                ) => every,
                Err(_) => {
                    let wait = backoff;
                    backoff = (backoff * 2).min(Duration::from_secs(300));
                    wait
                }
            };
            tokio::select! {
                () = &mut shutdown => return,
                () = wake.notified() => {},
                () = tokio::time::sleep(wait.min(Duration::from_secs(24 * 3600))) => {},
            }
        }
    }
}

/// Whole minutes, rounded up, of a wait in seconds.
pub fn minutes(seconds: u64) -> u64 {
    seconds.div_ceil(60).max(1)
}

fn error_of(status: StatusCode, retry_after: Option<u64>, body: &[u8]) -> SyncError {
    let message = serde_json::from_slice::<ErrorBody>(body)
        .map(|e| e.message)
        .unwrap_or_else(|_| String::from_utf8_lossy(body).chars().take(200).collect());
    if status == StatusCode::UNAUTHORIZED {
        SyncError::Unauthorized(message)
    } else if status == StatusCode::TOO_MANY_REQUESTS {
        SyncError::TooManyAttempts(retry_after.unwrap_or(60))
    } else if status == StatusCode::SERVICE_UNAVAILABLE {
        SyncError::Busy(retry_after.unwrap_or(5))
    } else {
        SyncError::Server {
            status: status.as_u16(),
            message,
        }
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, SyncError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| SyncError::Protocol(e.to_string()))?
        .map_err(SyncError::from)
}

/// Takes in one answer: acknowledgements first, then the pulled documents with the new cursor.
/// Returns how many pushes were refused.
fn take_in(
    repo: &Repo,
    user: &str,
    request: &SyncRequest,
    response: &SyncResponse,
) -> Result<u64, StoreError> {
    let mut refused = 0;
    let mut accepted = Vec::new();
    for (push, ack) in request.push.iter().zip(&response.acks) {
        if push.id != ack.id {
            return Err(StoreError::BadRemote {
                id: ack.id.clone(),
                why: "acknowledgements out of order".into(),
            });
        }
        let incoming = Incoming {
            id: &ack.id,
            heads: &ack.heads,
            changes: &ack.changes,
        };
        match &ack.outcome {
            Outcome::Accepted => accepted.push(incoming),
            Outcome::Refused { refusal } => {
                refused += 1;
                repo.refused(user, &ack.id, &push.base, refusal, incoming)?;
            }
            Outcome::MissingBase => repo.resend_whole(&ack.id)?,
        }
    }
    let pulled: Vec<Incoming<'_>> = response
        .docs
        .iter()
        .map(|d| Incoming {
            id: &d.id,
            heads: &d.heads,
            changes: &d.changes,
        })
        .collect();
    accepted.extend(pulled);
    repo.take_in(user, &accepted, Some(response.cursor))?;
    // Asked for whole and not sent (no longer the person's to read, or gone): asked no more.
    let unanswered: Vec<&String> = request
        .whole
        .iter()
        .filter(|id| !response.docs.iter().any(|d| &d.id == *id))
        .collect();
    repo.forget_whole(user, &unanswered)?;
    Ok(refused)
}
