//! Taking or picking a photo. On the desktop a normal file picker: Dioxus hands over the path
//! and the app reads the file itself, off the UI thread. On Android and iOS Dioxus 0.7 drops
//! file inputs, so there the button asks the page for a photo through an input created outside
//! the Dioxus tree, which opens the camera (see `docs/MOBILE.md`).

use std::path::PathBuf;

use dioxus::prelude::*;

use crate::i18n::{Lang, T, tr};

/// A photo the user gave: a file on the desktop, bytes from the camera on a phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Picked {
    /// A file chosen in the picker.
    Path(PathBuf),
    /// A photo read by the page (phones).
    Bytes(Vec<u8>),
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
