//! Marking the defect on a photo: circles, arrows and short labels drawn with a finger in a
//! glove. Drag to draw; a tap drops a mark of a good size where it lands; the last mark shows
//! two large handles that move its ends; undo takes back each step. What is drawn is a list of
//! [`PhotoMark`]s, kept beside the photo (never burnt into it) and drawn by the same overlay
//! as everywhere else ([`zonepatrol_shared::docs::marks::overlay_svg`]).

use dioxus::prelude::*;
use zonepatrol_shared::docs::marks::{LABEL_CHARS, MARKS_PER_PHOTO, SCALE, keyed, overlay_svg};
use zonepatrol_shared::docs::{MarkKind, Marks, PhotoMark};

use crate::i18n::{Lang, T, tr};

/// A handle's reach around its centre, in pixels on the screen: a gloved fingertip.
const HANDLE_PX: f64 = 40.0;
/// A press that moves less than this (in pixels) is a tap.
const TAP_PX: f64 = 12.0;
/// A tapped circle's radius, and a tapped arrow's length across and down, in thousandths of
/// the photo's width.
const TAP_SIZE: f64 = 90.0;
/// Words offered for a label, for a gloved hand.
const QUICK_WORDS: [&str; 6] = ["隐患", "积水", "杂物", "破损", "漏点", "缺失"];

/// A point on the photo, in thousandths of its width and height.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct At {
    /// Across.
    pub x: f64,
    /// Down.
    pub y: f64,
}

/// Which end of a mark a handle moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    First,
    Second,
}

/// What a press started.
#[derive(Debug, Clone, PartialEq)]
enum Drag {
    /// Drawing a new mark from this point.
    New(At),
    /// Moving an end of the last mark: which, where the press was, how far the end lay from
    /// it (so the end follows the finger without jumping to it), and the tool and words at the
    /// press, for a press that turns out to be a tap.
    Handle {
        end: End,
        from: At,
        offset: (f64, f64),
        tool: MarkKind,
        words: String,
    },
}

/// The marks being drawn on one photo, with the steps to undo.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Editor {
    marks: Vec<PhotoMark>,
    undo: Vec<Vec<PhotoMark>>,
    drag: Option<Drag>,
    /// The photo's height over its width (1 when not known).
    aspect: f64,
}

fn unit(v: f64) -> u16 {
    // Clamped to the photo; a NaN lands on the edge, not in a panic.
    v.clamp(0.0, f64::from(SCALE)).round() as u16
}

/// How far apart two points are on the screen, in pixels, for a photo of `px` pixels.
fn apart(a: At, b: At, px: (f64, f64)) -> f64 {
    let dx = (a.x - b.x) / f64::from(SCALE) * px.0;
    let dy = (a.y - b.y) / f64::from(SCALE) * px.1;
    (dx * dx + dy * dy).sqrt()
}

impl Editor {
    /// An editor on a photo of `width` × `height` pixels holding `marks`.
    pub fn new(marks: &Marks, width: u32, height: u32) -> Editor {
        let aspect = if width == 0 || height == 0 {
            1.0
        } else {
            f64::from(height) / f64::from(width)
        };
        Editor {
            marks: marks.values().cloned().collect(),
            undo: Vec::new(),
            drag: None,
            aspect,
        }
    }

    /// The marks as the document keeps them.
    pub fn marks(&self) -> Marks {
        keyed(self.marks.iter().cloned())
    }

    /// How many marks there are.
    pub fn len(&self) -> usize {
        self.marks.len()
    }

    /// Whether nothing is drawn.
    pub fn is_empty(&self) -> bool {
        self.marks.is_empty()
    }

    /// Whether undo does anything: a step to take back, or a mark kept earlier to take off.
    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty() || !self.marks.is_empty()
    }

    /// The ends of the last mark, which its handles move (a label has one).
    pub fn handles(&self) -> Vec<At> {
        let Some(m) = self.marks.last() else {
            return Vec::new();
        };
        let first = At {
            x: f64::from(m.x1),
            y: f64::from(m.y1),
        };
        if m.kind == MarkKind::Label {
            return vec![first];
        }
        vec![
            first,
            At {
                x: f64::from(m.x2),
                y: f64::from(m.y2),
            },
        ]
    }

    /// A press at `at` with `tool` chosen; `px` is the photo's size on the screen (width,
    /// height) for the handles' reach. A label needs its words first: `false` when it has none,
    /// or when the photo holds as many marks as it may.
    pub fn press(&mut self, at: At, tool: MarkKind, words: &str, px: (f64, f64)) -> bool {
        self.drag = None;
        if !(at.x.is_finite() && at.y.is_finite()) {
            return false;
        }
        // A handle of the last mark, if the press lands on one (the nearer of the two).
        let handles = self.handles();
        let grabbed = handles
            .iter()
            .enumerate()
            .map(|(i, &h)| (apart(h, at, px), i, h))
            .filter(|(d, _, _)| *d <= HANDLE_PX)
            .min_by(|a, b| a.0.total_cmp(&b.0));
        if let Some((_, i, h)) = grabbed {
            self.undo.push(self.marks.clone());
            self.drag = Some(Drag::Handle {
                end: if i == 0 { End::First } else { End::Second },
                from: at,
                offset: (h.x - at.x, h.y - at.y),
                tool,
                words: words.to_owned(),
            });
            return true;
        }
        self.start(at, tool, words)
    }

    /// Starts a new mark at `at`.
    fn start(&mut self, at: At, tool: MarkKind, words: &str) -> bool {
        let words: String = words.trim().chars().take(LABEL_CHARS).collect();
        if (tool == MarkKind::Label && words.is_empty()) || self.marks.len() >= MARKS_PER_PHOTO {
            return false;
        }
        self.undo.push(self.marks.clone());
        let (x, y) = (unit(at.x), unit(at.y));
        self.marks.push(PhotoMark {
            kind: tool,
            x1: x,
            y1: y,
            x2: x,
            y2: y,
            text: if tool == MarkKind::Label {
                words
            } else {
                String::new()
            },
        });
        self.drag = Some(Drag::New(at));
        true
    }

    /// The finger moved to `at` while pressing.
    pub fn drag_to(&mut self, at: At) {
        if !(at.x.is_finite() && at.y.is_finite()) {
            return;
        }
        let (Some(drag), Some(m)) = (&self.drag, self.marks.last_mut()) else {
            return;
        };
        // A label has one point; the other marks draw towards their second.
        match drag {
            Drag::Handle { end, offset, .. } => {
                let (x, y) = (unit(at.x + offset.0), unit(at.y + offset.1));
                if *end == End::First || m.kind == MarkKind::Label {
                    (m.x1, m.y1) = (x, y);
                } else {
                    (m.x2, m.y2) = (x, y);
                }
            }
            Drag::New(_) if m.kind == MarkKind::Label => (m.x1, m.y1) = (unit(at.x), unit(at.y)),
            Drag::New(_) => (m.x2, m.y2) = (unit(at.x), unit(at.y)),
        }
    }

    /// The finger lifted at `at`. A new mark that barely moved was a tap: it gets a good size
    /// around (a circle) or pointing at (an arrow) the spot. A handle that barely moved was a
    /// tap too, for a new mark with the tool chosen: gloves are not precise.
    pub fn release(&mut self, at: At, px: (f64, f64)) {
        self.drag_to(at);
        let Some(drag) = self.drag.take() else {
            return;
        };
        let from = match drag {
            Drag::New(from) => from,
            Drag::Handle {
                from, tool, words, ..
            } => {
                if apart(at, from, px) <= TAP_PX {
                    self.undo();
                    if self.start(from, tool, &words) {
                        self.release(from, px);
                    }
                }
                return;
            }
        };
        // A NaN distance (a bad event) is no tap either.
        if apart(at, from, px).partial_cmp(&TAP_PX) != Some(std::cmp::Ordering::Less) {
            return;
        }
        let aspect = self.aspect;
        let Some(m) = self.marks.last_mut() else {
            return;
        };
        // Down the photo, the same length on the screen is more thousandths when it is wide.
        let (dx, dy) = (TAP_SIZE, TAP_SIZE / aspect.max(0.05));
        match m.kind {
            MarkKind::Circle => {
                (m.x1, m.y1) = (unit(from.x - dx), unit(from.y - dy));
                (m.x2, m.y2) = (unit(from.x + dx), unit(from.y + dy));
            }
            MarkKind::Arrow => {
                // From the upper left, or from the lower right near that corner.
                let sx = if from.x < 2.0 * dx { 1.0 } else { -1.0 };
                let sy = if from.y < 2.0 * dy { 1.0 } else { -1.0 };
                (m.x1, m.y1) = (unit(from.x + sx * 2.0 * dx), unit(from.y + sy * 2.0 * dy));
                (m.x2, m.y2) = (unit(from.x), unit(from.y));
            }
            MarkKind::Label => {}
        }
    }

    /// The gesture was taken over (a second finger, the system): what it started is taken
    /// back.
    pub fn cancel(&mut self) {
        if self.drag.take().is_some()
            && let Some(before) = self.undo.pop()
        {
            self.marks = before;
        }
    }

    /// Takes back the last step; with none left, takes off the last mark (one kept earlier).
    pub fn undo(&mut self) {
        self.drag = None;
        match self.undo.pop() {
            Some(before) => self.marks = before,
            None => {
                self.marks.pop();
            }
        }
    }

    /// Takes every mark off (one step to undo).
    pub fn clear(&mut self) {
        self.drag = None;
        if !self.marks.is_empty() {
            self.undo.push(std::mem::take(&mut self.marks));
        }
    }
}

/// The full-screen view that marks a photo. `src` is the photo; `width` × `height` its size
/// in pixels (0 when not known). `on_done` takes the marks; `on_cancel` leaves them as they were.
#[component]
pub fn Annotate(
    lang: Lang,
    src: String,
    width: u32,
    height: u32,
    start: Marks,
    on_done: EventHandler<Marks>,
    on_cancel: EventHandler<()>,
) -> Element {
    let mut editor = use_signal(|| Editor::new(&start, width, height));
    let mut tool = use_signal(|| MarkKind::Circle);
    let mut words = use_signal(String::new);
    let mut hint = use_signal(|| None::<T>);
    // The drawing surface and where it lies on the screen (left, top, width, height),
    // measured when it appears, when the photo has loaded, when it changes size and after each
    // stroke. A point is read from the pointer's place in the window less the surface's: the
    // event's own offset is wrong in WebKitGTK for a surface inside a sized container.
    let mut surface = use_signal(|| None::<std::rc::Rc<MountedData>>);
    let mut rect = use_signal(|| (0.0f64, 0.0f64, 0.0f64, 0.0f64));
    let measure = move || {
        spawn(async move {
            let Some(el) = surface.peek().clone() else {
                return;
            };
            if let Ok(r) = el.get_client_rect().await {
                let now = (r.min_x(), r.min_y(), r.width(), r.height());
                if *rect.peek() != now {
                    rect.set(now);
                }
            }
        });
    };
    let at = move |e: &PointerEvent| -> Option<At> {
        let (left, top, w, h) = *rect.peek();
        if w < 1.0 || h < 1.0 {
            return None;
        }
        let p = e.client_coordinates();
        Some(At {
            x: (p.x - left) / w * f64::from(SCALE),
            y: (p.y - top) / h * f64::from(SCALE),
        })
    };
    let size = move || {
        let (_, _, w, h) = *rect.peek();
        (w, h)
    };
    let overlay = overlay_svg(&editor.read().marks(), width, height, "marks");
    let handles = editor.read().handles();
    // The photo as large as the frame allows, in its own shape, so that the overlay, the
    // handles and the finger all agree.
    let shape = if width == 0 || height == 0 {
        "width: 100%".to_owned()
    } else {
        format!(
            "aspect-ratio: {width} / {height}; width: min(100cqw, calc(100cqh * {width} / {height}))"
        )
    };
    rsx! {
        div { class: "viewer annotate", role: "dialog", "data-testid": "annotate",
            div { class: "viewer-tools",
                for (kind, label, id) in [
                    (MarkKind::Circle, T::MarkCircle, "circle"),
                    (MarkKind::Arrow, T::MarkArrow, "arrow"),
                    (MarkKind::Label, T::MarkLabel, "label"),
                ] {
                    button { key: "{id}", class: "choice", "data-testid": "annotate-{id}",
                        "aria-pressed": "{tool() == kind}",
                        onclick: move |_| {
                            tool.set(kind);
                            hint.set(None);
                        },
                        {tr(lang, label)}
                    }
                }
                button { class: "choice", "data-testid": "annotate-undo",
                    disabled: !editor.read().can_undo(),
                    onclick: move |_| editor.write().undo(),
                    {tr(lang, T::Undo)}
                }
            }
            if tool() == MarkKind::Label {
                div { class: "annotate-words",
                    input { "data-testid": "annotate-text", maxlength: "{LABEL_CHARS}",
                        "aria-label": "{tr(lang, T::LabelWords)}",
                        placeholder: "{tr(lang, T::LabelWords)}",
                        value: "{words}",
                        oninput: move |e| {
                            words.set(e.value().chars().take(LABEL_CHARS).collect());
                            hint.set(None);
                        },
                    }
                    if lang == Lang::Zh {
                        for w in QUICK_WORDS {
                            button { key: "{w}", class: "choice", "aria-pressed": "{words() == w}",
                                onclick: move |_| {
                                    words.set(w.to_owned());
                                    hint.set(None);
                                },
                                "{w}"
                            }
                        }
                    }
                }
            }
            p { class: "hint", "data-testid": "annotate-hint",
                {tr(lang, hint().unwrap_or(T::AnnotateHint))}
            }
            // The frame changes size whenever anything above it does (the words row, a longer
            // hint, the keyboard): the photo may have moved without changing size.
            div { class: "annotate-frame", onresize: move |_| measure(),
                div { class: "annotate-photo", style: "{shape}",
                    img { src: "{src}", alt: "", onload: move |_| measure() }
                    div { class: "marks-layer", dangerous_inner_html: "{overlay}" }
                    for (i, h) in handles.iter().enumerate() {
                        div { key: "{i}", class: "handle", "data-testid": "annotate-handle-{i}",
                            style: "left: {h.x / 10.0}%; top: {h.y / 10.0}%",
                        }
                    }
                    div { class: "annotate-touch", "data-testid": "annotate-surface",
                        // The size the drawing goes by, for the end-to-end run to compare.
                        "data-size": "{rect().2:.0}x{rect().3:.0}",
                        onmounted: move |e| {
                            surface.set(Some(e.data()));
                            measure();
                        },
                        onresize: move |_| measure(),
                        onpointerdown: move |e| {
                            e.prevent_default();
                            // A second finger or a resting palm draws nothing.
                            if !e.is_primary() {
                                return;
                            }
                            let Some(p) = at(&e) else {
                                measure();
                                return;
                            };
                            let (kind, typed) = (*tool.peek(), words.peek().clone());
                            let size = size();
                            if !editor.write().press(p, kind, &typed, size) {
                                hint.set(Some(if kind == MarkKind::Label { T::LabelFirst } else { T::AnnotateHint }));
                            }
                        },
                        onpointermove: move |e| {
                            if !e.is_primary() || e.held_buttons().is_empty() {
                                return;
                            }
                            if let Some(p) = at(&e) {
                                editor.write().drag_to(p);
                            }
                        },
                        onpointercancel: move |_| editor.write().cancel(),
                        onpointerup: move |e| {
                            if !e.is_primary() {
                                return;
                            }
                            if let Some(p) = at(&e) {
                                let size = size();
                                editor.write().release(p, size);
                            }
                            measure();
                        },
                    }
                }
            }
            div { class: "viewer-tools",
                button { class: "primary", "data-testid": "annotate-done",
                    onclick: move |_| on_done.call(editor.read().marks()),
                    "✓ {tr(lang, T::Done)} ({editor.read().len()})"
                }
                button { "data-testid": "annotate-clear",
                    disabled: editor.read().is_empty(),
                    onclick: move |_| editor.write().clear(),
                    {tr(lang, T::ClearMarks)}
                }
                button { "data-testid": "annotate-cancel",
                    onclick: move |_| on_cancel.call(()),
                    {tr(lang, T::Cancel)}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCREEN: (f64, f64) = (400.0, 300.0);

    fn at(x: f64, y: f64) -> At {
        At { x, y }
    }

    #[test]
    fn a_drag_draws_from_press_to_lift() {
        let mut e = Editor::new(&Marks::new(), 4000, 3000);
        assert!(e.press(at(100.0, 100.0), MarkKind::Circle, "", SCREEN));
        e.drag_to(at(300.0, 200.0));
        e.release(at(400.0, 500.0), SCREEN);
        let m = e.marks();
        let first = m.values().next().expect("a mark");
        assert_eq!(
            (first.x1, first.y1, first.x2, first.y2),
            (100, 100, 400, 500)
        );
        assert_eq!(m.keys().next().map(String::as_str), Some("00"));
    }

    #[test]
    fn a_tap_drops_a_round_circle_and_an_arrow_pointing_at_the_spot() {
        let mut e = Editor::new(&Marks::new(), 4000, 3000);
        e.press(at(500.0, 500.0), MarkKind::Circle, "", SCREEN);
        e.release(at(501.0, 501.0), SCREEN);
        e.press(at(50.0, 50.0), MarkKind::Arrow, "", SCREEN);
        e.release(at(50.0, 50.0), SCREEN);
        let marks: Vec<PhotoMark> = e.marks().into_values().collect();
        let c = &marks[0];
        // 90 across of a 4:3 photo is 120 down: round on the screen.
        assert_eq!((c.x1, c.x2), (410, 590));
        assert_eq!((c.y1, c.y2), (380, 620));
        let a = &marks[1];
        assert_eq!((a.x2, a.y2), (50, 50), "the head on the spot");
        assert!(a.x1 > 50 && a.y1 > 50, "the tail inside the photo: {a:?}");
    }

    #[test]
    fn a_label_needs_its_words_and_keeps_twenty() {
        let mut e = Editor::new(&Marks::new(), 0, 0);
        assert!(!e.press(at(10.0, 10.0), MarkKind::Label, "  ", SCREEN));
        assert!(e.is_empty());
        assert!(e.press(at(10.0, 10.0), MarkKind::Label, &"漏".repeat(30), SCREEN));
        e.release(at(10.0, 10.0), SCREEN);
        let m = e.marks();
        let label = m.values().next().expect("label");
        assert_eq!(label.text.chars().count(), LABEL_CHARS);
        assert_eq!(zonepatrol_shared::docs::marks::marks_problem(&m), None);
    }

    #[test]
    fn a_handle_moves_the_last_marks_end_and_undo_takes_it_back() {
        let mut e = Editor::new(&Marks::new(), 4000, 3000);
        e.press(at(100.0, 100.0), MarkKind::Arrow, "", SCREEN);
        e.release(at(600.0, 600.0), SCREEN);
        // The head's handle is at (600, 600): 240 × 180 px on the screen; 20 px away reaches it.
        assert!(e.press(at(640.0, 620.0), MarkKind::Circle, "", SCREEN));
        e.release(at(800.0, 900.0), SCREEN);
        assert_eq!(e.len(), 1, "moved, not drawn");
        let m = e.marks().into_values().next().expect("arrow");
        // The head follows the finger from where it lay, without jumping to it.
        assert_eq!((m.x2, m.y2), (760, 880));
        e.undo();
        let m = e.marks().into_values().next().expect("arrow");
        assert_eq!((m.x2, m.y2), (600, 600));
        e.undo();
        assert!(e.is_empty());
        assert!(!e.can_undo());
    }

    #[test]
    fn a_tap_on_a_handle_drops_a_new_mark_and_marks_kept_earlier_can_go() {
        let mut e = Editor::new(&Marks::new(), 4000, 3000);
        e.press(at(300.0, 300.0), MarkKind::Circle, "", SCREEN);
        e.release(at(500.0, 500.0), SCREEN);
        // A gloved tap beside the circle's corner with the arrow chosen: an arrow, the circle
        // as it was.
        assert!(e.press(at(510.0, 510.0), MarkKind::Arrow, "", SCREEN));
        e.release(at(511.0, 511.0), SCREEN);
        let marks: Vec<PhotoMark> = e.marks().into_values().collect();
        assert_eq!(marks.len(), 2);
        assert_eq!((marks[0].x2, marks[0].y2), (500, 500));
        assert_eq!(marks[1].kind, MarkKind::Arrow);
        assert_eq!((marks[1].x2, marks[1].y2), (510, 510));

        // Opened again later, the marks kept can be taken off one by one, or all at once.
        let mut again = Editor::new(&e.marks(), 4000, 3000);
        assert!(again.can_undo());
        again.undo();
        assert_eq!(again.len(), 1);
        again.clear();
        assert!(again.is_empty());
        again.undo();
        assert_eq!(again.len(), 1, "clearing is one step back");
        // A gesture the system takes over leaves nothing behind.
        again.press(at(900.0, 100.0), MarkKind::Circle, "", SCREEN);
        again.cancel();
        assert_eq!(again.len(), 1);
    }

    #[test]
    fn marks_stay_on_the_photo_and_stop_at_the_limit() {
        let mut e = Editor::new(&Marks::new(), 4000, 3000);
        assert!(!e.press(at(10.0, f64::NAN), MarkKind::Circle, "", SCREEN));
        e.press(at(-50.0, -20.0), MarkKind::Circle, "", SCREEN);
        e.drag_to(at(f64::NAN, 10.0));
        e.release(at(5000.0, 2000.0), SCREEN);
        let m = e.marks().into_values().next().expect("mark");
        assert_eq!((m.x1, m.y1, m.x2, m.y2), (0, 0, 1000, 1000));
        for i in 1..MARKS_PER_PHOTO {
            let x = 10.0 + i as f64 * 40.0;
            assert!(e.press(at(x, 990.0), MarkKind::Circle, "", (4000.0, 3000.0)));
            e.release(at(x, 990.0), (4000.0, 3000.0));
        }
        assert!(!e.press(at(500.0, 5.0), MarkKind::Circle, "", SCREEN));
        assert_eq!(e.len(), MARKS_PER_PHOTO);
    }
}
