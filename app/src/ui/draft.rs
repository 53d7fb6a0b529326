//! Keeping a form's draft as it is typed: a page holds its form's state in a [`Drafted`], which
//! restores the user's draft when the page opens, saves a moment after the last change (and at
//! once when photos change, or when the page closes), and removes the draft when the form is
//! submitted.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use dioxus::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use zonepatrol_shared::docs::Marks;

use crate::records::draft::{self, Form};
use crate::store::{PhotoRecord, Repo};
use crate::ui::Ui;

/// How long after the last keystroke the draft is written.
const QUIET: Duration = Duration::from_millis(400);

/// A form's state waiting to be written: its body, its photos and their marks.
type Pending<B> = (B, Vec<PhotoRecord>, BTreeMap<String, Marks>);

/// What waits to be written, and who writes it.
struct Saver<B> {
    repo: Arc<Repo>,
    user: String,
    form: Form,
    pending: RefCell<Option<Pending<B>>>,
    generation: Cell<u64>,
}

impl<B: Serialize> Saver<B> {
    /// Writes what waits; says whether there was anything.
    fn write_now(&self) -> bool {
        let Some((body, photos, marks)) = self.pending.borrow_mut().take() else {
            return false;
        };
        // A draft that cannot be written now is written with the next change; the form
        // itself still holds it.
        if let Err(e) = draft::save(&self.repo, &self.user, &self.form, &body, &photos, &marks) {
            eprintln!("zonepatrol: a draft could not be kept: {e}");
        }
        true
    }
}

/// A form's state, kept as a draft.
pub(crate) struct Drafted<B: 'static> {
    /// What the form holds.
    pub body: Signal<B>,
    /// Its photos, in the order taken.
    pub photos: Signal<Vec<PhotoRecord>>,
    /// What the user marked on them, by photo.
    pub marks: Signal<BTreeMap<String, Marks>>,
    /// The form opened on a draft kept earlier.
    pub restored: bool,
    saver: Rc<Saver<B>>,
}

impl<B: 'static> Clone for Drafted<B> {
    fn clone(&self) -> Self {
        Drafted {
            body: self.body,
            photos: self.photos,
            marks: self.marks,
            restored: self.restored,
            saver: self.saver.clone(),
        }
    }
}

/// The draft of `form` for `user`: restored if there is one, else `fresh()`.
pub(crate) fn use_draft<B>(user: &str, form: Form, fresh: impl FnOnce() -> B) -> Drafted<B>
where
    B: Clone + Default + Serialize + DeserializeOwned + 'static,
{
    let ui = use_context::<Ui>();
    let user = user.to_owned();
    let saver = use_hook(|| {
        Rc::new(Saver {
            repo: ui.repo(),
            user: user.clone(),
            form: form.clone(),
            pending: RefCell::new(None),
            generation: Cell::new(0),
        })
    });
    let loaded = use_hook(|| draft::load::<B>(&saver.repo, &user, &form).ok().flatten());
    let restored = loaded.is_some();
    let (start, start_photos, start_marks) = match loaded {
        Some(d) => (Some(d.body), d.photos, d.marks),
        None => (None, Vec::new(), BTreeMap::new()),
    };
    let body = use_signal(move || start.unwrap_or_else(fresh));
    let photos = use_signal(move || start_photos);
    let marks = use_signal(move || start_marks);
    use_drop({
        let saver = saver.clone();
        let mut revision = ui.revision;
        move || {
            // The page that replaces this one was drawn before this write: it reads again.
            if saver.write_now()
                && let Ok(mut r) = revision.try_write()
            {
                *r += 1;
            }
        }
    });
    Drafted {
        body,
        photos,
        marks,
        restored,
        saver,
    }
}

impl<B: Clone + Serialize + 'static> Drafted<B> {
    /// Takes the form's new state; it is written once typing pauses.
    pub(crate) fn set(&self, value: B) {
        let mut body = self.body;
        body.set(value);
        self.queue();
        let generation = self.saver.generation.get();
        let saver = self.saver.clone();
        spawn(async move {
            tokio::time::sleep(QUIET).await;
            if saver.generation.get() == generation {
                saver.write_now();
            }
        });
    }

    /// Adds photos, and writes the draft at once.
    pub(crate) fn add_photos(&self, added: Vec<PhotoRecord>) {
        let mut photos = self.photos;
        {
            let mut list = photos.write();
            for p in added {
                // The same photo picked twice is one photo.
                if !list.iter().any(|q| q.hash == p.hash) {
                    list.push(p);
                }
            }
        }
        self.queue();
        self.saver.write_now();
    }

    /// Takes a photo off the form (before it is submitted), and writes the draft at once.
    pub(crate) fn remove_photo(&self, hash: &str) {
        let mut photos = self.photos;
        photos.write().retain(|p| p.hash != hash);
        let mut marks = self.marks;
        marks.write().remove(hash);
        self.queue();
        let _ = self.saver.write_now();
        // Its files go now, unless a document or another draft holds it.
        if let Err(e) = self.saver.repo.release_photos(&[hash.to_owned()]) {
            eprintln!("zonepatrol: a removed photo could not be deleted yet: {e}");
        }
    }

    /// Takes what the user marked on a photo, and writes the draft at once.
    pub(crate) fn set_marks(&self, hash: &str, new: Marks) {
        let mut marks = self.marks;
        if new.is_empty() {
            marks.write().remove(hash);
        } else {
            marks.write().insert(hash.to_owned(), new);
        }
        self.queue();
        self.saver.write_now();
    }

    /// The form was submitted: the draft goes.
    pub(crate) fn finish(&self) {
        self.cancel();
        let _ = draft::finish(&self.saver.repo, &self.saver.user, &self.saver.form);
    }

    fn queue(&self) {
        let s = &self.saver;
        s.generation.set(s.generation.get() + 1);
        *s.pending.borrow_mut() = Some((
            self.body.peek().clone(),
            self.photos.peek().clone(),
            self.marks.peek().clone(),
        ));
    }

    fn cancel(&self) {
        let s = &self.saver;
        s.generation.set(s.generation.get() + 1);
        s.pending.borrow_mut().take();
    }
}
