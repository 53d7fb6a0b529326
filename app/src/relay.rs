//! Phone to phone, with no server: two phones on the same hotspot or local Wi-Fi hand each
//! other their work to carry up to the server.
//!
//! One phone listens ([`listen`]) and shows an invitation ([`Invite`]: its address and a code
//! of eight digits, as a QR code and as text); the other connects with both. The channel is a
//! Noise `XXpsk0` handshake (X25519, ChaCha20-Poly1305, SHA-256; the `snow` crate) whose
//! pre-shared key is made from the code, so that a phone without the invitation learns
//! nothing (not even which phone waits) and does not use the invitation up, and whose static
//! keys are the phones' own signing keys in their X25519 form, so that each learns the other's
//! key from the handshake itself. Each phone names its key and person
//! inside the handshake, and the other checks them against the branch's device list the server
//! signed: a phone not on it, revoked, or whose handshake key is not the key it names, gets
//! nothing and the channel closes. Then each gives its offer ([`Repo::offer`]) and takes the
//! other's ([`Repo::take_offer`]). `docs/PROTOCOL.md` (*Phone to phone*) has the bytes.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use zonepatrol_shared::relay::{Carried, DeviceList};
use zonepatrol_shared::signing::KeyId;

use crate::store::{Repo, StoreError, Taken};

/// The Noise pattern and primitives.
pub const NOISE: &str = "Noise_XXpsk0_25519_ChaChaPoly_SHA256";

/// The prologue both sides bind the handshake to.
const PROLOGUE: &[u8] = b"zonepatrol-relay-v2";

/// What the pre-shared key is made from, before the code.
const PSK_CONTEXT: &[u8] = b"zonepatrol-relay-psk-v2\0";

/// The longest a whole meeting may take.
const MEETING: Duration = Duration::from_secs(600);

/// How many meetings with the invitation's code a waiting phone tries, at most, before one
/// works (connections without the code do not count).
const MAX_TRIES: usize = 20;

/// The largest offer taken, in bytes of JSON (and the most a phone offers).
const MAX_OFFER: usize = crate::store::MAX_OFFER_BYTES;

/// How long a waiting phone gives a connection to show it has the invitation's code.
const FIRST_STEP: Duration = Duration::from_secs(5);

/// How many connections a waiting phone hears out at once.
const MAX_OPEN: usize = 4;

/// The longest one step of a meeting may take.
const STEP: Duration = Duration::from_secs(30);

/// The largest Noise message, and what of it is left for data.
const NOISE_MAX: usize = 65_535;
const CHUNK: usize = NOISE_MAX - 16;

/// Why a meeting failed.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// Nobody is signed in with the server's key known.
    #[error("sign in where the server is reachable once before exchanging with other phones")]
    NotSignedIn,
    /// No device list yet.
    #[error(
        "sync with the server once before exchanging with other phones: this phone does not know the branch's phones yet"
    )]
    NoDeviceList,
    /// The device list is too old to trust.
    #[error(
        "this phone last heard from the server {0} days ago: sync with the server before exchanging with other phones, so that it knows which phones were revoked"
    )]
    StaleList(i64),
    /// The other phone does not have this invitation's code (or closed the connection before
    /// the handshake).
    #[error(
        "the other phone did not take the connection: check the address and the code it shows, bring the phones closer, and try again"
    )]
    NoInvite,
    /// The other phone is not one of the branch's, or is revoked.
    #[error("the other phone is not one of the branch's phones ({0}): nothing was exchanged")]
    Stranger(String),
    /// The connection failed or was too slow.
    #[error(
        "the connection to the other phone failed ({0}): bring the phones closer and try again"
    )]
    Io(String),
    /// The handshake or a message did not hold.
    #[error("the other phone's messages do not hold ({0}): nothing more was taken")]
    Channel(String),
    /// The store.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<std::io::Error> for RelayError {
    fn from(e: std::io::Error) -> RelayError {
        RelayError::Io(e.to_string())
    }
}

impl From<snow::Error> for RelayError {
    fn from(e: snow::Error) -> RelayError {
        RelayError::Channel(e.to_string())
    }
}

/// What a phone says of itself inside the handshake.
#[derive(Debug, Serialize, Deserialize)]
struct Hello {
    /// Its signing key (hex).
    key: String,
    /// The person signed in on it.
    user: String,
}

/// What one meeting did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchanged {
    /// The other phone's person.
    pub peer: String,
    /// The other phone's key (hex).
    pub peer_key: String,
    /// Items given.
    pub gave: usize,
    /// What was taken.
    pub taken: Taken,
}

/// What a listening phone shows: where it waits, and the code a phone must know to meet it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invite {
    /// The address.
    pub addr: std::net::SocketAddr,
    /// Eight digits.
    pub code: String,
}

impl Invite {
    /// An invitation to `addr` with a fresh code.
    pub fn new(addr: std::net::SocketAddr) -> Invite {
        let n: u32 = rand::random_range(0..100_000_000);
        Invite {
            addr,
            code: format!("{n:08}"),
        }
    }

    /// The QR code's text: `zonepatrol-relay:IP:PORT#CODE`.
    pub fn text(&self) -> String {
        format!("zonepatrol-relay:{}#{}", self.addr, self.code)
    }

    /// A scanned or typed invitation: the QR code's text, or the address and the code as a
    /// person types them (`192.168.43.1:47800 1234 5678`, `…#12345678`; full-width digits and
    /// punctuation, as a Chinese keyboard gives them, read as their ASCII forms).
    pub fn parse(text: &str) -> Option<Invite> {
        let text: String = text
            .chars()
            .map(|c| match c {
                '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
                '\u{3002}' => '.',
                c if c.is_whitespace() => ' ',
                c => c,
            })
            .collect();
        let text = text.trim();
        let text = text.strip_prefix("zonepatrol-relay:").unwrap_or(text);
        let (addr, code) = text.split_once(['#', ' '])?;
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != 8 || !code.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        Some(Invite {
            addr: addr.trim().parse().ok()?,
            code,
        })
    }
}

/// The Noise pre-shared key of an invitation's code.
fn psk(code: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::new()
        .chain_update(PSK_CONTEXT)
        .chain_update(code.as_bytes())
        .finalize()
        .into()
}

/// Waits on `socket` for a phone with the invitation's `code`, for at most `wait`. Each
/// connection is heard out on its own (at most [`MAX_OPEN`] at once), and one that does not
/// show the code within [`FIRST_STEP`] is closed unanswered, so that neither a flood of
/// connections nor a silent one keeps the phone with the code out. A meeting with the code
/// that fails (a stranger, a link that dropped) lets the next one try, at most [`MAX_TRIES`];
/// the first meeting made ends it. Meetings under way are never cut short: past `wait` no new
/// connection is taken but those open finish (each within [`MEETING`]), and any still going
/// when one has been made finish on their own.
pub async fn listen(
    repo: Arc<Repo>,
    socket: tokio::net::TcpListener,
    code: &str,
    wait: Duration,
) -> Result<Exchanged, RelayError> {
    let deadline = tokio::time::Instant::now() + wait;
    let code = code.to_owned();
    let mut open = tokio::task::JoinSet::new();
    let mut last = RelayError::Io("no phone came".into());
    let mut tries = 0;
    let mut expired = false;
    loop {
        if expired && open.is_empty() {
            return Err(last);
        }
        tokio::select! {
            accepted = socket.accept(), if !expired && open.len() < MAX_OPEN => match accepted {
                Ok((stream, _)) => {
                    open.spawn(exchange(repo.clone(), stream, false, code.clone()));
                }
                // The phone out of sockets for a moment: not a reason to spin.
                Err(e) => {
                    last = e.into();
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            },
            Some(done) = open.join_next(), if !open.is_empty() => match done {
                Ok(Ok(met)) => {
                    open.detach_all();
                    return Ok(met);
                }
                // This phone cannot meet anyone: no use waiting.
                Ok(Err(
                    e @ (RelayError::NotSignedIn
                    | RelayError::NoDeviceList
                    | RelayError::StaleList(_)
                    | RelayError::Store(_)),
                )) => {
                    open.detach_all();
                    return Err(e);
                }
                Ok(Err(RelayError::NoInvite)) | Err(_) => {}
                Ok(Err(e)) => {
                    last = e;
                    tries += 1;
                    if tries >= MAX_TRIES {
                        open.detach_all();
                        return Err(last);
                    }
                }
            },
            () = tokio::time::sleep_until(deadline), if !expired => expired = true,
        }
    }
}

/// Meets another phone over `stream`, with the invitation's `code`: `initiator` is the phone
/// that connected. A whole meeting takes at most ten minutes.
pub async fn exchange(
    repo: Arc<Repo>,
    stream: TcpStream,
    initiator: bool,
    code: impl AsRef<str>,
) -> Result<Exchanged, RelayError> {
    tokio::time::timeout(MEETING, meet(repo, stream, initiator, code.as_ref()))
        .await
        .map_err(|_| RelayError::Io("the meeting took too long".into()))?
}

async fn meet(
    repo: Arc<Repo>,
    mut stream: TcpStream,
    initiator: bool,
    code: &str,
) -> Result<Exchanged, RelayError> {
    let session = repo.session()?.ok_or(RelayError::NotSignedIn)?;
    let server: KeyId = session
        .server_key
        .as_deref()
        .and_then(|k| k.parse().ok())
        .ok_or(RelayError::NotSignedIn)?;
    let list = repo.device_list(&server)?.ok_or(RelayError::NoDeviceList)?;
    let age = crate::store::now_millis().saturating_sub(repo.device_list_at()?.unwrap_or(0));
    if age > crate::store::DEVICE_LIST_DAYS * 24 * 3_600_000 {
        return Err(RelayError::StaleList(age / (24 * 3_600_000)));
    }
    let me = session.user.clone();
    let hello = serde_json::to_vec(&Hello {
        key: repo.device_key().id().to_string(),
        user: me.user.clone(),
    })
    .map_err(|e| RelayError::Channel(e.to_string()))?;
    let secret = repo.device_key().scalar_bytes();
    let psk = psk(code);
    let builder = snow::Builder::new(NOISE.parse()?)
        .local_private_key(&secret)?
        .psk(0, &psk)?
        .prologue(PROLOGUE)?;
    let mut buf = vec![0u8; NOISE_MAX];
    let (mut transport, peer_hello) = if initiator {
        let mut hs = builder.build_initiator()?;
        let n = hs.write_message(&[], &mut buf)?;
        send(&mut stream, &buf[..n]).await?;
        // A phone without this code closes at once: nothing comes back.
        let msg = match recv(&mut stream).await {
            Err(RelayError::Io(_)) => return Err(RelayError::NoInvite),
            other => other?,
        };
        let mut payload = vec![0u8; NOISE_MAX];
        let n = hs.read_message(&msg, &mut payload)?;
        let peer: Hello = parse_hello(&payload[..n])?;
        check_peer(&hs.get_remote_static(), &peer, &list)?;
        let n = hs.write_message(&hello, &mut buf)?;
        send(&mut stream, &buf[..n]).await?;
        (hs.into_transport_mode()?, peer)
    } else {
        let mut hs = builder.build_responder()?;
        // The first message shows the code, soon, or the connection closes unanswered.
        let msg = tokio::time::timeout(FIRST_STEP, recv(&mut stream))
            .await
            .map_err(|_| RelayError::NoInvite)?
            .map_err(|_| RelayError::NoInvite)?;
        let mut payload = vec![0u8; NOISE_MAX];
        hs.read_message(&msg, &mut payload)
            .map_err(|_| RelayError::NoInvite)?;
        let n = hs.write_message(&hello, &mut buf)?;
        send(&mut stream, &buf[..n]).await?;
        let msg = recv(&mut stream).await?;
        let n = hs.read_message(&msg, &mut payload)?;
        let peer: Hello = parse_hello(&payload[..n])?;
        check_peer(&hs.get_remote_static(), &peer, &list)?;
        (hs.into_transport_mode()?, peer)
    };
    let peer = list
        .person(&peer_hello.user)
        .cloned()
        .ok_or_else(|| RelayError::Stranger(peer_hello.user.clone()))?;

    let offer = {
        let repo = repo.clone();
        let peer = peer.clone();
        let key = peer_hello.key.clone();
        blocking(move || repo.offer(&server, &peer, &key)).await??
    };
    let gave = offer.len();
    let ours = serde_json::to_vec(&offer).map_err(|e| RelayError::Channel(e.to_string()))?;
    let theirs = if initiator {
        send_sealed(&mut stream, &mut transport, &ours).await?;
        recv_sealed(&mut stream, &mut transport).await?
    } else {
        let theirs = recv_sealed(&mut stream, &mut transport).await?;
        send_sealed(&mut stream, &mut transport, &ours).await?;
        theirs
    };
    let items: Vec<Carried> =
        serde_json::from_slice(&theirs).map_err(|e| RelayError::Channel(e.to_string()))?;
    let taken = {
        let repo = repo.clone();
        let (user, key) = (peer_hello.user.clone(), peer_hello.key.clone());
        blocking(move || repo.take_offer(&me, &user, &key, &list, items, gave)).await??
    };
    Ok(Exchanged {
        peer: peer_hello.user,
        peer_key: peer_hello.key,
        gave,
        taken,
    })
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, RelayError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| RelayError::Channel(e.to_string()))
}

fn parse_hello(bytes: &[u8]) -> Result<Hello, RelayError> {
    serde_json::from_slice(bytes).map_err(|_| RelayError::Channel("no valid hello".into()))
}

/// The other phone's key must be the one its handshake used, and on the list for its person.
fn check_peer(remote: &Option<&[u8]>, peer: &Hello, list: &DeviceList) -> Result<(), RelayError> {
    let key: KeyId = peer
        .key
        .parse()
        .map_err(|_| RelayError::Stranger(peer.user.clone()))?;
    let expected = zonepatrol_shared::relay::x25519_public(&key)
        .ok_or_else(|| RelayError::Stranger(peer.user.clone()))?;
    if remote.is_none_or(|r| r != expected) {
        return Err(RelayError::Stranger(format!(
            "{}: its handshake key is not the key it names",
            peer.user
        )));
    }
    if !list.admits(&peer.key, &peer.user) || list.person(&peer.user).is_none() {
        return Err(RelayError::Stranger(peer.user.clone()));
    }
    Ok(())
}

async fn send(stream: &mut TcpStream, bytes: &[u8]) -> Result<(), RelayError> {
    let len = u32::try_from(bytes.len()).map_err(|_| RelayError::Channel("too long".into()))?;
    tokio::time::timeout(STEP, async {
        stream.write_all(&len.to_be_bytes()).await?;
        stream.write_all(bytes).await?;
        stream.flush().await
    })
    .await
    .map_err(|_| RelayError::Io("timed out".into()))??;
    Ok(())
}

async fn recv(stream: &mut TcpStream) -> Result<Vec<u8>, RelayError> {
    tokio::time::timeout(STEP, async {
        let mut len = [0u8; 4];
        stream.read_exact(&mut len).await?;
        let len = u32::from_be_bytes(len) as usize;
        if len > NOISE_MAX {
            return Err(RelayError::Channel(
                "a message longer than Noise allows".into(),
            ));
        }
        let mut buf = vec![0u8; len];
        stream.read_exact(&mut buf).await?;
        Ok(buf)
    })
    .await
    .map_err(|_| RelayError::Io("timed out".into()))?
}

/// Sends bytes of any size: their length, then chunks, each its own Noise message.
async fn send_sealed(
    stream: &mut TcpStream,
    t: &mut snow::TransportState,
    bytes: &[u8],
) -> Result<(), RelayError> {
    let mut buf = vec![0u8; NOISE_MAX];
    let n = t.write_message(&(bytes.len() as u64).to_be_bytes(), &mut buf)?;
    send(stream, &buf[..n]).await?;
    for chunk in bytes.chunks(CHUNK) {
        let n = t.write_message(chunk, &mut buf)?;
        send(stream, &buf[..n]).await?;
    }
    Ok(())
}

async fn recv_sealed(
    stream: &mut TcpStream,
    t: &mut snow::TransportState,
) -> Result<Vec<u8>, RelayError> {
    let mut buf = vec![0u8; NOISE_MAX];
    let msg = recv(stream).await?;
    let n = t.read_message(&msg, &mut buf)?;
    let len = <[u8; 8]>::try_from(&buf[..n])
        .map(u64::from_be_bytes)
        .map_err(|_| RelayError::Channel("no length".into()))?;
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    if len > MAX_OFFER {
        return Err(RelayError::Channel(format!(
            "an offer of {} MiB, more than a phone takes",
            len / (1024 * 1024)
        )));
    }
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        let msg = recv(stream).await?;
        let n = t.read_message(&msg, &mut buf)?;
        if n == 0 || out.len() + n > len {
            return Err(RelayError::Channel("an offer longer than it said".into()));
        }
        out.extend_from_slice(&buf[..n]);
    }
    Ok(out)
}
