//! Taking or picking a photo. On the desktop a normal file picker: Dioxus hands over the path
//! and the app reads the file itself, off the UI thread. On Android and iOS Dioxus 0.7 drops
//! file inputs, so there the button asks the page for a photo through an input created outside
//! the Dioxus tree, which opens the camera (see `docs/MOBILE.md`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use dioxus::prelude::*;
use zonepatrol_shared::docs::marks::overlay_svg;
use zonepatrol_shared::docs::{Marks, PhotoRef};

use crate::i18n::{Lang, T, tr};
use crate::photo::{PhotoError, PhotoSettings};
use crate::store::{PhotoRecord, Repo};
use crate::ui::Ui;
use crate::ui::annotate::Annotate;

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

/// A photo on a form or a record: its name, its thumbnail's address (`None` while the
/// thumbnail is not on the phone), its size and what was marked on it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Shown {
    /// The full-size photo's SHA-256.
    pub hash: String,
    /// The thumbnail as a `data:` address.
    pub thumb: Option<String>,
    /// The full-size photo's width and height in pixels (0 when not known).
    pub size: (u32, u32),
    /// What was marked on it.
    pub marks: Marks,
}

impl Shown {
    /// Its marks as an overlay laid over it.
    fn overlay(&self) -> String {
        overlay_svg(&self.marks, self.size.0, self.size.1, "marks")
    }
}

/// The photos a form holds, in the order taken, with their stored thumbnails and what the
/// user marked on each (by photo).
pub fn shown(repo: &Repo, photos: &[PhotoRecord], marks: &BTreeMap<String, Marks>) -> Vec<Shown> {
    photos
        .iter()
        .map(|p| Shown {
            hash: p.hash.clone(),
            thumb: data_address(repo, &p.thumb),
            size: (p.width, p.height),
            marks: marks.get(&p.hash).cloned().unwrap_or_default(),
        })
        .collect()
}

/// Photos known by their references alone (another phone's photos: their full size is not
/// fetched, so the thumbnail names them), in order.
pub fn shown_thumbs(repo: &Repo, photos: &[PhotoRef]) -> Vec<Shown> {
    photos
        .iter()
        .map(|p| Shown {
            hash: p.thumb.clone(),
            thumb: data_address(repo, &p.thumb),
            size: (p.width, p.height),
            marks: p.marks.clone(),
        })
        .collect()
}

/// A stored photo file as a `data:` address, if it is on the phone.
pub(crate) fn data_address(repo: &Repo, hash: &str) -> Option<String> {
    let bytes = std::fs::read(repo.photo_file(hash)?).ok()?;
    Some(format!(
        "data:image/jpeg;base64,{}",
        zonepatrol_shared::protocol::b64::encode(&bytes)
    ))
}

/// A row of photos as thumbnails, in the order taken, with their marks drawn over them. A
/// tap opens one full screen (the full-size photo when it is on the phone), where it can be
/// enlarged with large buttons or pinched; with `removable`, each has a large "remove" button,
/// and with `markable` the full-screen view marks the defect on it ([`Annotate`]), for a form
/// not yet submitted.
#[component]
pub fn PhotoStrip(
    lang: Lang,
    photos: Vec<Shown>,
    testid: String,
    /// Whether each photo has a remove button (a form not yet submitted).
    #[props(default)]
    removable: bool,
    #[props(default)] on_remove: EventHandler<String>,
    /// Whether the user may mark the photos (a form not yet submitted).
    #[props(default)]
    markable: bool,
    /// A photo's new marks, by its hash.
    #[props(default)]
    on_mark: EventHandler<(String, Marks)>,
) -> Element {
    // The photo open full screen: which (by its hash: a sync may reorder the strip while it is
    // open), its address, and how far it is enlarged (1, 2 or 4 times); and whether it is
    // being marked.
    let mut open = use_signal(|| None::<(String, String)>);
    let mut zoom = use_signal(|| 1u32);
    let mut marking = use_signal(|| false);
    let ui = try_consume_context::<Ui>();
    if photos.is_empty() {
        return rsx! {};
    }
    let opened = open().and_then(|(hash, src)| {
        photos
            .iter()
            .find(|p| p.hash == hash)
            .cloned()
            .map(|p| (p, src))
    });
    rsx! {
        div { class: "thumbs", "data-testid": "{testid}",
            for (i, photo) in photos.into_iter().enumerate() {
                div { key: "{photo.hash}", class: "thumb-box",
                    if let Some(src) = photo.thumb.clone() {
                        button { class: "thumb-open", "data-testid": "{testid}-{i}",
                            "aria-label": "{tr(lang, T::OpenPhoto)} {i + 1}",
                            onclick: {
                                let hash = photo.hash.clone();
                                move |_| {
                                    let full = ui.and_then(|ui| data_address(&ui.repo(), &hash));
                                    zoom.set(1);
                                    marking.set(false);
                                    open.set(Some((hash.clone(), full.unwrap_or_else(|| src.clone()))));
                                }
                            },
                            img { class: "thumb", src: "{photo.thumb.clone().unwrap_or_default()}", alt: "{i + 1}" }
                            if !photo.marks.is_empty() {
                                div { class: "marks-layer", "data-testid": "{testid}-marks-{i}",
                                    dangerous_inner_html: "{photo.overlay()}" }
                            }
                        }
                    } else {
                        span { class: "thumb missing dim", {tr(lang, T::PhotoNotHere)} }
                    }
                    if removable {
                        button { class: "thumb-remove", "data-testid": "{testid}-remove-{i}",
                            "aria-label": "{tr(lang, T::RemovePhoto)} {i + 1}",
                            onclick: {
                                let hash = photo.hash.clone();
                                move |_| on_remove.call(hash.clone())
                            },
                            "✕ {tr(lang, T::RemovePhoto)}"
                        }
                    }
                }
            }
        }
        if let Some((photo, src)) = opened {
            if marking() {
                Annotate {
                    lang,
                    src,
                    width: photo.size.0,
                    height: photo.size.1,
                    start: photo.marks.clone(),
                    on_done: {
                        let hash = photo.hash.clone();
                        move |marks: Marks| {
                            marking.set(false);
                            on_mark.call((hash.clone(), marks));
                        }
                    },
                    on_cancel: move |_| marking.set(false),
                }
            } else {
                div { class: "viewer", role: "dialog", "data-testid": "photo-viewer",
                    div { class: "viewer-tools",
                        button { class: "choice", "data-testid": "viewer-zoom",
                            onclick: move |_| zoom.set(if zoom() >= 4 { 1 } else { zoom() * 2 }),
                            "🔍 ×{zoom}"
                        }
                        if markable {
                            button { class: "choice", "data-testid": "viewer-annotate",
                                onclick: move |_| marking.set(true),
                                "✎ {tr(lang, T::Annotate)}"
                            }
                        }
                        button { class: "choice", "data-testid": "viewer-close",
                            onclick: move |_| open.set(None),
                            {tr(lang, T::Close)}
                        }
                    }
                    div { class: "viewer-frame",
                        div { class: "viewer-photo", style: "width: {zoom() * 100}%",
                            img { src: "{src}", alt: "" }
                            if !photo.marks.is_empty() {
                                div { class: "marks-layer", "data-testid": "viewer-marks",
                                    dangerous_inner_html: "{photo.overlay()}" }
                            }
                        }
                    }
                }
            }
        }
    }
}
