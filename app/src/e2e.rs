//! The scripted end-to-end run of the desktop app (feature `e2e`, never in a release): a task
//! inside the real app drives its real window the way a person would, by clicking and typing
//! in the page through `document::eval`, and takes a screenshot of the whole screen after each
//! step with ImageMagick's `import`. WebDriver cannot be used: dioxus-desktop never turns on
//! WebKit's automation.
//!
//! Set `ZONEPATROL_E2E_OUT` (screenshot folder), `ZONEPATROL_E2E_SERVER`,
//! `ZONEPATROL_E2E_USER`, `ZONEPATROL_E2E_PASSWORD` and `ZONEPATROL_E2E_PHOTO` (a photo file).
//! The app exits 0 when the scenario is done and everything is on the server, 1 otherwise.
//! `scripts/e2e` runs it under Xvfb against a real server and checks the server afterwards.
//!
//! The run has three parts. The first ends with a form half filled in, then kills the app with
//! SIGKILL (leaving the file [`KILLED`] in the screenshot folder to say it meant to). Meanwhile
//! a manager publishes the month and the server goes down. The second
//! (`ZONEPATROL_E2E_PHASE=after-kill`) starts the app again on the same phone folder with the
//! server away, finds the draft on home, opens it with what was typed, and submits it; then
//! the phone is handed to the zone holder and back, both signing in on the phone alone. The
//! third (`ZONEPATROL_E2E_PHASE=back-online`), with the server back, sees the assessment
//! refused (the month was published), has the manager reopen the month, and applies the
//! refused edit again with one tap.

#![allow(unused_qualifications)]

use std::path::PathBuf;
use std::time::Duration;

use dioxus::prelude::*;

use crate::ui::Services;

/// The scenario's settings, from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    out: PathBuf,
    server: String,
    user: String,
    password: String,
    photo: PathBuf,
    /// The manager who reopens the month.
    manager: String,
    phase: Phase,
}

/// Which part of the run this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Up to the kill.
    First,
    /// Started again after the kill, with the server away.
    AfterKill,
    /// The server is back.
    BackOnline,
}

/// The file the first part leaves in the screenshot folder before it kills the app.
pub const KILLED: &str = "killed-on-purpose";

/// The remarks typed into the month's assessment before the app is killed.
pub const DRAFT: &str = "草稿：三号架电缆吊挂待复查";

impl Scenario {
    /// The scenario, if `ZONEPATROL_E2E_OUT` asks for one.
    pub fn from_env() -> Option<Result<Scenario, String>> {
        let out = std::env::var_os("ZONEPATROL_E2E_OUT")?;
        let var = |name: &str| std::env::var(name).map_err(|_| format!("set {name}"));
        Some((|| {
            Ok(Scenario {
                out: PathBuf::from(out),
                server: var("ZONEPATROL_E2E_SERVER")?,
                user: var("ZONEPATROL_E2E_USER")?,
                password: var("ZONEPATROL_E2E_PASSWORD")?,
                photo: PathBuf::from(var("ZONEPATROL_E2E_PHOTO")?),
                manager: std::env::var("ZONEPATROL_E2E_MANAGER").unwrap_or_else(|_| "mgr".into()),
                phase: match std::env::var("ZONEPATROL_E2E_PHASE").as_deref() {
                    Ok("after-kill") => Phase::AfterKill,
                    Ok("back-online") => Phase::BackOnline,
                    _ => Phase::First,
                },
            })
        })())
    }
}

/// The root component of a scripted run: the app, driven by the [`Scenario`] in the context.
#[allow(non_snake_case)]
pub fn Root() -> Element {
    let scenario = consume_context::<Scenario>();
    rsx! { Driven { scenario } }
}

/// The app with the scenario running beside it.
#[component]
fn Driven(scenario: Scenario) -> Element {
    use_future(move || {
        let scenario = scenario.clone();
        async move {
            let services = consume_context::<Services>();
            let ran = match scenario.phase {
                Phase::First => run(&scenario, &services).await,
                Phase::AfterKill => after_kill(&scenario, &services).await,
                Phase::BackOnline => back_online(&scenario, &services).await,
            };
            let code = match ran {
                Ok(()) => {
                    println!("e2e: scenario done");
                    0
                }
                Err(e) => {
                    eprintln!("e2e: FAILED: {e}");
                    let _ = shot(&scenario, "failed").await;
                    1
                }
            };
            std::process::exit(code);
        }
    });
    rsx! { crate::App {} }
}

/// Helpers put in front of every script.
///
/// The first line keeps every evaluation alive until its answer is read. dioxus-desktop frees
/// an evaluation when the page's garbage collector drops its channel (a `FinalizationRegistry`
/// sends "drop"); when that message arrives before the app has read the answer, `join` fails
/// with `EvalError::Finished` although the script ran. A scripted run makes a few hundred
/// evaluations, so keeping them costs nothing.
const HELPERS: &str = r#"
window.finalizationRegistry = { register() {}, unregister() {} };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function find(sel, ms = 30000) {
  const end = Date.now() + ms;
  for (;;) {
    const el = document.querySelector(sel);
    if (el) return el;
    if (Date.now() > end) throw new Error("nothing matches " + sel + " on " + document.body.innerText.slice(0, 300));
    await sleep(100);
  }
}
async function click(sel) { const el = await find(sel); el.scrollIntoView({block: "center"}); el.click(); return true; }
async function type(sel, text) {
  const el = await find(sel);
  const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
  Object.getOwnPropertyDescriptor(proto, "value").set.call(el, text);
  el.dispatchEvent(new Event("input", { bubbles: true }));
  el.dispatchEvent(new Event("change", { bubbles: true }));
  return true;
}
async function textOf(sel) { return (await find(sel)).innerText; }
async function waitText(sel, want, ms = 30000) {
  const end = Date.now() + ms;
  for (;;) {
    const el = document.querySelector(sel);
    if (el && el.innerText.includes(want)) return el.innerText;
    if (Date.now() > end) throw new Error(sel + " never said " + want + "; it says " + (el ? el.innerText : "nothing"));
    await sleep(100);
  }
}
async function pickFile(sel, path) {
  const input = await find(sel);
  const files = new DataTransfer();
  // The desktop shell takes a file's name as its path.
  files.items.add(new File([], path, { type: "image/jpeg" }));
  input.files = files.files;
  input.dispatchEvent(new Event("change", { bubbles: true }));
  return true;
}
"#;

/// Runs a script in the page; its `return` value comes back, a thrown error is the failure.
async fn js(script: &str) -> Result<serde_json::Value, String> {
    let wrapped = format!(
        "{HELPERS}\ntry {{ return {{ ok: await (async () => {{ {script} }})() }}; }} catch (e) {{ return {{ err: String(e && e.message || e) }}; }}"
    );
    let value: serde_json::Value = document::eval(&wrapped)
        .join()
        .await
        .map_err(|e| format!("eval: {e}"))?;
    match value.get("err") {
        Some(e) => Err(format!(
            "{} (in: {})",
            e.as_str().unwrap_or_default(),
            script.trim()
        )),
        None => Ok(value.get("ok").cloned().unwrap_or_default()),
    }
}

fn lit(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

/// A screenshot of the whole (phone-sized) screen.
async fn shot(s: &Scenario, name: &str) -> Result<(), String> {
    // Let the page paint first.
    tokio::time::sleep(Duration::from_millis(600)).await;
    std::fs::create_dir_all(&s.out).map_err(|e| format!("{}: {e}", s.out.display()))?;
    let path = s.out.join(format!("{name}.png"));
    let status = tokio::process::Command::new("import")
        .args(["-window", "root"])
        .arg(&path)
        .status()
        .await
        .map_err(|e| format!("ImageMagick's import could not run: {e}"))?;
    if !status.success() {
        return Err(format!("import failed for {}", path.display()));
    }
    println!("e2e: screenshot {}", path.display());
    Ok(())
}

/// The note the scenario writes on the deducted item; the check looks for it on the server.
pub const NOTE: &str = "电缆吊挂不整齐";
/// What the holder writes about the fix.
pub const FIX: &str = "已按标准重新吊挂";
/// The reason the zone holder gives for asking for more time.
pub const MORE_TIME: &str = "液压支架配件未到，申请延期";

/// Waits until a check on the device's store holds (30 s at most).
async fn wait_for(
    what: &str,
    mut check: impl FnMut() -> Result<bool, String>,
) -> Result<(), String> {
    println!("e2e: {what}");
    for _ in 0..300 {
        if check()? {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("{what}: not after 30 s"))
}

async fn step(what: &str, script: &str) -> Result<serde_json::Value, String> {
    println!("e2e: {what}");
    js(script).await.map_err(|e| format!("{what}: {e}"))
}

/// A tap that swaps the page (signing in): the webview may lose the evaluation as the page
/// changes under it, after the tap was made; what the tap led to is checked with [`look`].
async fn tap(what: &str, selector: &str) -> Result<(), String> {
    println!("e2e: {what}");
    match js(&format!("return click({});", lit(selector))).await {
        Ok(_) => Ok(()),
        Err(e) if e.starts_with("eval:") => {
            println!("e2e: {what}: the webview lost the evaluation ({e}); looking at the page");
            Ok(())
        }
        Err(e) => Err(format!("{what}: {e}")),
    }
}

/// A step that only reads the page: when the webview loses the evaluation itself (dioxus's
/// `EvalError`, not the script failing), it is asked again, at most three times in all. A step
/// that clicks or types is never repeated: it could act twice.
async fn look(what: &str, script: &str) -> Result<serde_json::Value, String> {
    println!("e2e: {what}");
    let mut tries = 0;
    loop {
        tries += 1;
        match js(script).await {
            Err(e) if e.starts_with("eval:") && tries < 3 => {
                println!("e2e: {what}: the webview lost the evaluation ({e}); asking again");
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            done => return done.map_err(|e| format!("{what}: {e}")),
        }
    }
}

/// Waits for a sync that started after the last edit to finish with nothing left to send:
/// documents and photos are on the server.
async fn synced(services: &Services) -> Result<(), String> {
    // Everything must reach the server, documents and photos: wait for a sync that started
    // after the last edit to finish with nothing left to send.
    println!("e2e: sync");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
    let mut status = services.client.status();
    loop {
        let asked = crate::store::now_millis();
        services.wake.notify_one();
        let done = tokio::time::timeout_at(deadline, async {
            loop {
                if status.changed().await.is_err() {
                    return false;
                }
                let state = status.borrow_and_update().state.clone();
                if let crate::sync::SyncState::Done { at } = state
                    && at >= asked
                {
                    return true;
                }
            }
        })
        .await
        .unwrap_or(false);
        let repo = &services.repo;
        let unsent = repo.has_unsent().map_err(|e| e.to_string())?;
        let photos = repo.outbox().map_err(|e| e.to_string())?.len();
        if done && !unsent && photos == 0 {
            break;
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!(
                "not synced after 3 minutes: unsent documents {unsent}, photos {photos}, state {:?}",
                status.borrow().state
            ));
        }
    }
    Ok(())
}

async fn run(s: &Scenario, services: &Services) -> Result<(), String> {
    let photo = s
        .photo
        .canonicalize()
        .map_err(|e| format!("{}: {e}", s.photo.display()))?;
    let photo = photo.to_string_lossy().into_owned();

    // Before anything acts on the page: from here on no evaluation is freed early (see HELPERS).
    look("keep evaluations until read", "return true;").await?;
    look(
        "the sign-in form",
        "await find('[data-testid=sign-in]'); return true;",
    )
    .await?;
    step("fill in the sign-in form",
        &format!(
            "await type('#server', {}); await type('#user', {}); await type('#password', {}); return true;",
            lit(&s.server),
            lit(&s.user),
            lit(&s.password)
        ),
    )
    .await?;
    shot(s, "01-sign-in").await?;
    step("sign in", "return click('[data-testid=sign-in]');").await?;
    look("the first sync brings the branch's zones",
        "await find('[data-testid=go-start-patrol]'); return waitText('[data-testid=sync-banner]', '已同步', 60000);",
    )
    .await?;
    shot(s, "02-home").await?;

    step(
        "start a patrol",
        "return click('[data-testid=go-start-patrol]');",
    )
    .await?;
    look(
        "the start screen",
        "return find('[data-testid=start]').then(() => true);",
    )
    .await?;
    shot(s, "03-start-patrol").await?;
    step("start", "return click('[data-testid=start]');").await?;
    let zone = look(
        "the patrol's zones",
        "const el = await find('[data-testid^=open-]'); return el.dataset.testid.slice(5);",
    )
    .await?;
    let zone = zone.as_str().unwrap_or_default().to_owned();
    shot(s, "04-patrol-zones").await?;

    step(
        "open the first zone",
        &format!("return click('[data-testid=open-{zone}]');"),
    )
    .await?;
    let ids = look(
        "the checklist",
        "const el = await find('[data-testid^=deduct-]'); return [el.dataset.testid.slice(7), el.closest('[data-testid^=item-]').dataset.testid.slice(5)];",
    )
    .await?;
    let deduct = ids[0].as_str().unwrap_or_default().to_owned();
    let item = ids[1].as_str().unwrap_or_default().to_owned();
    step("one deduction",
        &format!(
            "await click('[data-testid=deduct-{deduct}]'); await waitText('[data-testid=count-{deduct}]', '1'); return waitText('[data-testid=saved]', '已保存');"
        ),
    )
    .await?;
    step("a photo on the item",
        &format!(
            "await pickFile('[data-testid=photo-{item}] input', {}); await waitText('[data-testid=photos-{item}]', '1', 60000); return find('[data-testid=thumbs-{item}] img');",
            lit(&photo)
        ),
    )
    .await?;
    step(
        "a note on the item",
        &format!("return type('[data-testid=note-{item}]', {});", lit(NOTE)),
    )
    .await?;
    wait_for("the note saved in the store", || {
        for id in services
            .repo
            .ids_with_prefix("sheet:")
            .map_err(|e| e.to_string())?
        {
            let doc_id = id
                .parse()
                .map_err(|e: zonepatrol_shared::docs::DocIdError| e.to_string())?;
            let sheet: Option<zonepatrol_shared::docs::Sheet> =
                services.repo.read(&doc_id).map_err(|e| e.to_string())?;
            let noted = sheet
                .iter()
                .flat_map(|s| s.zones.values())
                .any(|z| z.items.get(&item).is_some_and(|i| i.note.as_str() == NOTE));
            if noted {
                return Ok(true);
            }
        }
        Ok(false)
    })
    .await?;
    shot(s, "05-score-zone").await?;

    step(
        "raise a problem from the item",
        &format!("return click('[data-testid=raise-{item}]');"),
    )
    .await?;
    step("describe it",
        "await type('[data-testid=description]', '电缆吊挂不规范，有掉落风险'); await type('[data-testid=measure]', '按标准重新吊挂电缆'); return true;",
    )
    .await?;
    step("a photo of the problem",
        &format!(
            "await pickFile('[data-testid=problem-photo] input', {}); return waitText('[data-testid=problem-photos]', '1', 60000);",
            lit(&photo)
        ),
    )
    .await?;
    step(
        "mark the defect on the photo",
        r#"
await click('[data-testid=problem-thumbs-0]');
await click('[data-testid=viewer-annotate]');
const surface = await find('[data-testid=annotate-surface]');
// The photo loads and the surface is measured.
await sleep(800);
const fire = (type, fx, fy, buttons) => {
  const r = surface.getBoundingClientRect();
  surface.dispatchEvent(new PointerEvent(type, { bubbles: true, cancelable: true, pointerId: 1,
    pointerType: "touch", isPrimary: true, buttons,
    clientX: r.left + r.width * fx, clientY: r.top + r.height * fy }));
};
const stroke = async (points) => {
  fire("pointerdown", points[0][0], points[0][1], 1); await sleep(120);
  for (const [x, y] of points.slice(1)) { fire("pointermove", x, y, 1); await sleep(120); }
  const last = points[points.length - 1];
  fire("pointerup", last[0], last[1], 0); await sleep(300);
};
await stroke([[0.30, 0.30], [0.45, 0.42], [0.62, 0.58]]);
await find('[data-testid=annotate-handle-1]');
// The circle lies where the finger went: its box from 30 % to 62 % across and 30 % to 58 % down.
{
  const r = surface.getBoundingClientRect();
  const e = (await find('.annotate-photo .marks-layer ellipse')).getBoundingClientRect();
  const at = (v, want, of, start) => Math.abs((v - start) / of - want) < 0.06;
  if (!(at(e.left, 0.30, r.width, r.left) && at(e.right, 0.62, r.width, r.left) && at(e.top, 0.30, r.height, r.top) && at(e.bottom, 0.58, r.height, r.top))) {
    throw new Error("the circle is not under the finger: surface " + JSON.stringify(r) + " size " + surface.dataset.size + " circle " + JSON.stringify(e));
  }
}
await click('[data-testid=annotate-arrow]');
await stroke([[0.85, 0.85]]);
await click('[data-testid=annotate-label]');
await type('[data-testid=annotate-text]', '电缆掉落');
await sleep(200);
await stroke([[0.12, 0.15]]);
return waitText('[data-testid=annotate-done]', '(3)');
"#,
    )
    .await?;
    shot(s, "06a-annotate").await?;
    step(
        "keep the marks",
        "await click('[data-testid=annotate-done]'); await find('[data-testid=viewer-marks]'); await click('[data-testid=viewer-close]'); await find('[data-testid=problem-thumbs-marks-0]'); return true;",
    )
    .await?;
    shot(s, "06-raise-problem").await?;
    step("submit the problem",
        "await click('[data-testid=submit-problem]'); await find('[data-testid=running-total]'); return waitText('[data-testid=saved]', '问题已提出');",
    )
    .await?;
    shot(s, "07-problem-raised").await?;

    synced(services).await?;
    step("back to the zones", "return click('.back');").await?;
    look(
        "the banner says synced",
        "return waitText('[data-testid=sync-banner]', '已同步');",
    )
    .await?;
    shot(s, "08-synced").await?;
    step(
        "home lists the patrol",
        "await click('.back'); await find('[data-testid^=patrol-]'); return waitText('main', '进行中');",
    )
    .await?;
    shot(s, "09-home-with-patrol").await?;
    step(
        "settings in English",
        "await click('[data-testid=go-settings]'); await click('[data-testid=lang-en]'); return waitText('main', 'Language');",
    )
    .await?;
    shot(s, "10-settings-english").await?;
    step(
        "back to Chinese",
        "await click('[data-testid=lang-zh-CN]'); return waitText('main', '语言');",
    )
    .await?;
    step(
        "phone to phone: wait for the other phone, its address as a QR code",
        "await click('[data-testid=relay]'); await click('[data-testid=relay-listen]'); await find('[data-testid=relay-listening] svg'); return waitText('main', '配对码');",
    )
    .await?;
    shot(s, "10a-relay-waiting").await?;
    step(
        "back to settings",
        "await click('.back'); return waitText('main', '语言');",
    )
    .await?;
    check_refused(services)?;

    // The zone holder the problem was assigned to, on the same phone.
    let mut holder = String::new();
    for id in services
        .repo
        .ids_with_prefix("problem:")
        .map_err(|e| e.to_string())?
    {
        let doc_id = id
            .parse()
            .map_err(|e: zonepatrol_shared::docs::DocIdError| e.to_string())?;
        let problem: Option<zonepatrol_shared::docs::Problem> =
            services.repo.read(&doc_id).map_err(|e| e.to_string())?;
        if let Some(p) = problem {
            holder = p.finding.responsible;
        }
    }
    if holder.is_empty() {
        return Err("the raised problem is not on the phone".into());
    }
    step(
        "sign out",
        "await click('[data-testid=sign-out]'); return find('[data-testid=sign-in]').then(() => true);",
    )
    .await?;
    step(
        "sign in as the zone holder",
        &format!(
            "await type('#server', {}); await type('#user', {}); await type('#password', {}); await click('[data-testid=sign-in]'); await waitText('[data-testid=sync-banner]', '已同步', 60000); return waitText('[data-testid=go-problems]', '1');",
            lit(&s.server),
            lit(&holder),
            lit(&s.password)
        ),
    )
    .await?;
    shot(s, "11-holder-home").await?;
    step(
        "the holder's problems",
        "await click('[data-testid=go-problems]'); await find('[data-testid^=problem-]'); return waitText('main', '待整改');",
    )
    .await?;
    shot(s, "12-holder-problems").await?;
    // Before the fix, more time is asked for, with a reason (the request stays on the record).
    let until = crate::records::today(&services.repo.clock())
        .checked_add_days(chrono::Days::new(30))
        .ok_or("no date")?
        .format("%Y-%m-%d")
        .to_string();
    step(
        "ask for more time",
        &format!(
            "await click('[data-testid^=problem-]'); await click('[data-testid=ask-more-time]'); await type('#more-time-until', {}); await type('#more-time-reason', {}); await click('[data-testid=submit-more-time]'); return waitText('[data-testid=more-time-state]', '延期申请待批复');",
            lit(&until),
            lit(MORE_TIME)
        ),
    )
    .await?;
    shot(s, "13-more-time-asked").await?;
    step(
        "record the fix with an after-photo",
        &format!(
            "await type('#fix-note', {}); await pickFile('[data-testid=after-photo] input', {}); await waitText('main', '照片 1', 60000); await find('[data-testid=before-thumbs] img'); await find('[data-testid=before-thumbs-marks-0] ellipse'); await find('[data-testid=after-thumbs] img'); return true;",
            lit(FIX),
            lit(&photo)
        ),
    )
    .await?;
    shot(s, "14-record-fix").await?;
    step(
        "submit the fix",
        "await click('[data-testid=submit-fix]'); return waitText('[data-testid=saved]', '已登记整改');",
    )
    .await?;
    step(
        "the monthly self-score",
        "await click('.back'); await click('[data-testid=go-self-score]'); await click('[data-testid^=month-]'); await click('[data-testid=down-safety]'); return waitText('[data-testid=value-safety]', '9.5');",
    )
    .await?;
    shot(s, "15-self-score").await?;
    step(
        "submit the self-score",
        "await click('[data-testid=submit-scores]'); return waitText('[data-testid=saved]', '已保存评分');",
    )
    .await?;
    synced(services).await?;
    shot(s, "16-holder-synced").await?;
    check_refused(services)?;

    // The loop closes: the secretary, back on the phone, verifies the holder's fix beside the
    // finding, with both photos.
    step(
        "sign out the holder",
        "await click('.back'); await click('[data-testid=go-settings]'); await click('[data-testid=sign-out]'); return find('[data-testid=sign-in]').then(() => true);",
    )
    .await?;
    step(
        "sign in as the secretary again",
        &format!(
            "await type('#server', {}); await type('#user', {}); await type('#password', {}); await click('[data-testid=sign-in]'); await waitText('[data-testid=sync-banner]', '已同步', 60000); return waitText('[data-testid=go-verify]', '1');",
            lit(&s.server),
            lit(&s.user),
            lit(&s.password)
        ),
    )
    .await?;
    step(
        "the fixes to verify",
        "await click('[data-testid=go-verify]'); await click('[data-testid^=verify-]'); await find('[data-testid=before-photos] img'); await find('[data-testid=before-photos-marks-0] text'); await find('[data-testid=after-photos] img'); return waitText('[data-testid=fix-note]', '已按标准重新吊挂');",
    )
    .await?;
    shot(s, "17-verify-fix").await?;
    step(
        "the problem's history",
        "await click('[data-testid=history-link]'); await waitText('[data-testid=history]', '建立记录'); await waitText('[data-testid=history]', '已按标准重新吊挂'); return waitText('[data-testid=history]', '本机');",
    )
    .await?;
    shot(s, "17a-history").await?;
    step(
        "back to the fix",
        "await click('.back'); return find('[data-testid=submit-verify]');",
    )
    .await?;
    step(
        "verify the fix",
        "await click('[data-testid=submit-verify]'); return waitText('[data-testid=saved]', '已销号');",
    )
    .await?;
    synced(services).await?;
    shot(s, "18-verified").await?;
    check_refused(services)?;

    // The figures, from the reports on the phone: the branch at a glance, then a zone's
    // months.
    step(
        "the rankings",
        "for (let i = 0; i < 5 && !document.querySelector('[data-testid=go-rankings]'); i++) { await click('.back'); await sleep(300); } await click('[data-testid=go-rankings]'); return waitText('[data-testid=branch-problems]', '本支部未整改问题');",
    )
    .await?;
    shot(s, "19-rankings").await?;
    step(
        "a zone's months",
        "await click('[data-testid^=trend-]'); await find('[data-testid=zone-months]'); return waitText('main', '逐月得分');",
    )
    .await?;
    shot(s, "20-zone-months").await?;

    // A form half filled in when the app dies: the month's assessment with remarks typed.
    step(
        "the month's assessment, typed and not submitted",
        &format!(
            "for (let i = 0; i < 5 && !document.querySelector('[data-testid=go-assess]'); i++) {{ await click('.back'); await sleep(300); }} await click('[data-testid=go-assess]'); await click('[data-testid^=month-]'); await type('#remarks', {}); return true;",
            lit(DRAFT)
        ),
    )
    .await?;
    // The draft is written a moment after the last keystroke.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    shot(s, "21-draft-typed").await?;
    std::fs::write(s.out.join(KILLED), b"").map_err(|e| e.to_string())?;
    println!("e2e: first part done; killing the app with SIGKILL");
    let me = std::process::id().to_string();
    // The shell's own `kill`: a fresh machine may have no /bin/kill.
    let _ = std::process::Command::new("sh")
        .args(["-c", &format!("kill -9 {me}")])
        .status();
    Err("the app was not killed".into())
}

/// The second part: the app started again after the kill.
async fn after_kill(s: &Scenario, services: &Services) -> Result<(), String> {
    look("keep evaluations until read", "return true;").await?;
    look(
        "home, still signed in, lists the draft",
        &format!(
            "return waitText('[data-testid=drafts]', {}, 60000);",
            lit(DRAFT)
        ),
    )
    .await?;
    shot(s, "22-draft-on-home").await?;
    step(
        "open the draft",
        &format!(
            "await click('[data-testid=draft-0]'); await find('[data-testid=draft-restored]'); const t = await find('#remarks'); if (t.value !== {}) throw new Error('the remarks say ' + t.value); return true;",
            lit(DRAFT)
        ),
    )
    .await?;
    shot(s, "23-draft-restored").await?;
    step(
        "submit it",
        "await click('[data-testid=submit-scores]'); return waitText('[data-testid=saved]', '已保存评分');",
    )
    .await?;
    step(
        "home has no draft left",
        "for (let i = 0; i < 5 && !document.querySelector('[data-testid=go-assess]'); i++) { await click('.back'); await sleep(300); } if (document.querySelector('[data-testid=drafts]')) throw new Error('a draft is left'); return true;",
    )
    .await?;

    // The server is away: the phone goes to the zone holder, who signed in on it before, and
    // back, each signing in on the phone alone.
    let holder = services
        .repo
        .accounts()
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|a| a.user.user)
        .find(|u| *u != s.user)
        .ok_or("the holder never signed in on this phone")?;
    step(
        "hand the phone over",
        "await click('[data-testid=go-settings]'); await click('[data-testid=switch-user]'); await find('[data-testid=sign-in]'); return true;",
    )
    .await?;
    step(
        "the holder picks their name",
        &format!(
            "await click('[data-testid=known-{holder}]'); const want = {}; for (let i = 0; i < 50 && (await find('#user')).value !== want; i++) await sleep(100); const u = await find('#user'); if (u.value !== want) throw new Error('the name field says ' + u.value); await type('#password', {}); return true;",
            lit(&holder),
            lit(&s.password)
        ),
    )
    .await?;
    shot(s, "24-hand-over").await?;
    tap("the holder signs in offline", "[data-testid=sign-in]").await?;
    look(
        "the holder's home, offline",
        "await waitText('main', '已离线登录', 60000); await find('[data-testid=go-problems]'); if (document.querySelector('[data-testid=drafts]')) throw new Error(\"the secretary's drafts show to the holder\"); return true;",
    )
    .await?;
    shot(s, "25-holder-offline").await?;
    step(
        "and hands it back to the secretary",
        &format!(
            "await click('[data-testid=go-settings]'); await click('[data-testid=switch-user]'); await click('[data-testid=known-{}]'); for (let i = 0; i < 50 && (await find('#user')).value !== {}; i++) await sleep(100); await type('#password', {}); return true;",
            s.user,
            lit(&s.user),
            lit(&s.password)
        ),
    )
    .await?;
    tap("the secretary signs in offline", "[data-testid=sign-in]").await?;
    look(
        "the secretary's home, offline",
        "await waitText('main', '已离线登录', 60000); return find('[data-testid=go-settings]').then(() => true);",
    )
    .await?;
    shot(s, "26-secretary-offline").await?;
    let me = services
        .repo
        .session()
        .map_err(|e| e.to_string())?
        .ok_or("nobody is signed in")?;
    if me.user.user != s.user || me.token.is_empty() {
        return Err(format!("signed in as {} without a token", me.user.user));
    }
    if !services.repo.has_unsent().map_err(|e| e.to_string())? {
        return Err("the assessment made offline is not waiting to be sent".into());
    }
    Ok(())
}

/// The third part: the server is back. The assessment made offline is refused (the month was
/// published meanwhile); the manager reopens the month and the secretary applies it again.
async fn back_online(s: &Scenario, services: &Services) -> Result<(), String> {
    look("keep evaluations until read", "return true;").await?;
    let repo = services.repo.clone();
    services.wake.notify_one();
    wait_for("the server refuses the offline assessment", || {
        Ok(!repo
            .quarantine_of(&s.user)
            .map_err(|e| e.to_string())?
            .is_empty())
    })
    .await?;
    step(
        "the refused edit, field by field",
        &format!(
            "await click('[data-testid=go-settings]'); await click('[data-testid=quarantine]'); await waitText('[data-testid^=changed-]', {}); return waitText('main', '发布锁定');",
            lit(DRAFT)
        ),
    )
    .await?;
    shot(s, "27-refused-edit").await?;
    reopen_month(s, services).await?;
    step(
        "apply it again",
        "await click('[data-testid^=reapply-]'); return true;",
    )
    .await?;
    synced(services).await?;
    check_refused(services)?;
    look(
        "nothing refused is left",
        "return waitText('main', '没有被退回的修改');",
    )
    .await?;
    shot(s, "28-reapplied").await?;
    Ok(())
}

/// The manager reopens this month on the dashboard, as a browser would.
async fn reopen_month(s: &Scenario, services: &Services) -> Result<(), String> {
    use reqwest::header::{CONTENT_TYPE, SET_COOKIE};
    println!("e2e: the manager reopens the month");
    let month = zonepatrol_shared::rules::period::Period::containing(
        zonepatrol_shared::rules::period::PeriodKind::Month,
        crate::records::today(&services.repo.clock()),
    );
    let branch = services
        .repo
        .session()
        .map_err(|e| e.to_string())?
        .ok_or("nobody is signed in")?
        .user
        .branch;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let form = "application/x-www-form-urlencoded";
    let login = http
        .post(format!("{}/login", s.server))
        .header(CONTENT_TYPE, form)
        .body(format!(
            "user={}&password={}&back=%2Fdash",
            s.manager, s.password
        ))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let cookie = login
        .headers()
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .ok_or(format!("the manager's sign-in answered {}", login.status()))?
        .to_owned();
    let reopened = http
        .post(format!("{}/dash/publish", s.server))
        .header("cookie", cookie)
        .header(CONTENT_TYPE, form)
        .body(format!("branch={branch}&period={month}&action=reopen"))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !reopened.status().is_redirection() {
        return Err(format!("reopening {month} answered {}", reopened.status()));
    }
    Ok(())
}

fn check_refused(services: &Services) -> Result<(), String> {
    let refused = services.repo.quarantine().map_err(|e| e.to_string())?;
    if !refused.is_empty() {
        return Err(format!("the server refused edits: {refused:?}"));
    }
    Ok(())
}
