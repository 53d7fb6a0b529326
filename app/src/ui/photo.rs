//! Taking or picking a photo. On the desktop a normal file picker: Dioxus hands over the path
//! and the app reads the file itself, off the UI thread. On Android and iOS Dioxus 0.7 drops
//! file inputs, so there the button asks the page for a photo through an input created outside
//! the Dioxus tree, which opens the camera (see `docs/MOBILE.md`).

use std::path::PathBuf;
use std::sync::Arc;

use dioxus::prelude::*;

use crate::i18n::{Lang, T, tr};
use crate::photo::{PhotoError, PhotoSettings};
use crate::store::{PhotoRecord, Repo};
use crate::ui::Ui;

/// A photo the user gave: a file on the desktop, bytes from the camera on a phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Picked {
    /// A file chosen in the picker.
    Path(PathBuf),
    /// A photo read by the page (phones).
    Bytes(Vec<u8>),
}

/// Photos a page is importing: what they are for while it works (`None` when idle), and a way
/// to start. Made by [`use_photo_import`]; a page shows [`PhotoImport::busy`] on its buttons.
pub(crate) struct PhotoImport<K: 'static> {
    busy: Signal<Option<K>>,
    ui: Ui,
}

impl<K: 'static> Clone for PhotoImport<K> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K: 'static> Copy for PhotoImport<K> {}

/// The photo import of a page: one import at a time, off the UI thread; what goes wrong is
/// shown as the page's notice.
pub(crate) fn use_photo_import<K: 'static>() -> PhotoImport<K> {
    PhotoImport {
        busy: use_signal(|| None),
        ui: use_context::<Ui>(),
    }
}

impl<K: Clone + 'static> PhotoImport<K> {
    /// What the photos in progress are for, if any are.
    pub(crate) fn busy(&self) -> Option<K> {
        (self.busy)()
    }

    /// Imports the photos for `what` and hands them to `done`; leaving the page stops it.
    pub(crate) fn start(
        self,
        what: K,
        picked: Vec<Picked>,
        done: impl FnOnce(Vec<PhotoRecord>) + 'static,
    ) {
        spawn(self.run(what, picked, done));
    }

    /// The same, but the photos are handled even after the user has left the page.
    pub(crate) fn start_forever(
        self,
        what: K,
        picked: Vec<Picked>,
        done: impl FnOnce(Vec<PhotoRecord>) + 'static,
    ) {
        dioxus::dioxus_core::spawn_forever(self.run(what, picked, done));
    }

    fn run(
        mut self,
        what: K,
        picked: Vec<Picked>,
        done: impl FnOnce(Vec<PhotoRecord>) + 'static,
    ) -> impl Future<Output = ()> + 'static {
        self.busy.set(Some(what));
        let ui = self.ui;
        let repo = ui.repo();
        async move {
            let result = import(repo, picked).await;
            // The page may be gone (see `start_forever`).
            if let Ok(mut busy) = self.busy.try_write() {
                *busy = None;
            }
            match result {
                Ok(added) => done(added),
                Err(e) => ui.failed(crate::i18n::photo_error((ui.lang)(), &e)),
            }
        }
    }
}

/// Processes and stores photos the user gave, one at a time off the UI thread.
async fn import(repo: Arc<Repo>, picked: Vec<Picked>) -> Result<Vec<PhotoRecord>, PhotoError> {
    let mut out = Vec::new();
    for p in picked {
        let settings = PhotoSettings {
            time_zone: repo.clock().tz,
            ..PhotoSettings::default()
        };
        out.push(match p {
            Picked::Path(path) => crate::photo::import_file(repo.clone(), path, settings).await?,
            Picked::Bytes(bytes) => crate::photo::import(repo.clone(), bytes, settings).await?,
        });
    }
    Ok(out)
}

/// A button that takes a photo. `testid` names it for the end-to-end script.
#[component]
pub fn PhotoButton(
    lang: Lang,
    label: T,
    testid: String,
    busy: bool,
    on_pick: EventHandler<Vec<Picked>>,
) -> Element {
    let text = if busy {
        tr(lang, T::ProcessingPhoto)
    } else {
        tr(lang, label)
    };
    #[cfg(feature = "mobile")]
    {
        return rsx! {
            button { class: "photo", "data-testid": "{testid}", disabled: busy,
                onclick: move |_| {
                    spawn(async move {
                        if let Some(bytes) = camera().await {
                            on_pick.call(vec![Picked::Bytes(bytes)]);
                        }
                    });
                },
                "{text}"
            }
        };
    }
    #[cfg(not(feature = "mobile"))]
    rsx! {
        // Dioxus reads a file input's files through its form.
        form { class: "photo", "data-testid": "{testid}",
            label { class: if busy { "button busy" } else { "button" },
                input { r#type: "file", name: "photo", accept: "image/*", capture: "environment",
                    disabled: busy,
                    onchange: move |e: FormEvent| {
                        let picked: Vec<Picked> =
                            e.files().into_iter().map(|f| Picked::Path(f.path())).collect();
                        if !picked.is_empty() {
                            on_pick.call(picked);
                        }
                    },
                }
                "{text}"
            }
        }
    }
}

#[cfg(feature = "mobile")]
/// The page's camera input, made outside the Dioxus tree; the photo comes back in base64
/// chunks so no single message is large.
const CAMERA_JS: &str = r#"
const input = document.createElement("input");
input.type = "file";
input.accept = "image/*";
input.capture = "environment";
input.style.display = "none";
document.body.appendChild(input);
const file = await new Promise((resolve) => {
  input.addEventListener("change", () => resolve(input.files[0] || null), { once: true });
  input.addEventListener("cancel", () => resolve(null), { once: true });
  input.click();
});
input.remove();
if (!file) { dioxus.send(null); return; }
const bytes = new Uint8Array(await file.arrayBuffer());
const step = 256 * 1024;
for (let i = 0; i < bytes.length; i += step) {
  let s = "";
  const part = bytes.subarray(i, i + step);
  for (let j = 0; j < part.length; j++) s += String.fromCharCode(part[j]);
  dioxus.send(btoa(s));
}
dioxus.send("");
"#;

#[cfg(feature = "mobile")]
/// Asks the page for a photo from the camera; `None` when the user cancels.
async fn camera() -> Option<Vec<u8>> {
    let mut eval = document::eval(CAMERA_JS);
    let mut bytes = Vec::new();
    loop {
        let chunk: Option<String> = eval.recv().await.ok()?;
        match chunk {
            None => return None,
            Some(c) if c.is_empty() => return Some(bytes),
            Some(c) => bytes.extend(zonepatrol_shared::protocol::b64::decode(&c).ok()?),
        }
    }
}
