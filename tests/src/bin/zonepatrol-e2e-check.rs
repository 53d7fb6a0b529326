//! After the app's scripted run (`scripts/e2e`): checks on the server, as a fresh device of the
//! same user, that the patrol, the score sheet with its deduction and photo, and the problem
//! with its photo arrived, with the holder's request for more time and fix, verified by the
//! user, and that the server holds the photo's bytes.
//!
//! `zonepatrol-e2e-check SERVER USER PASSWORD PHOTO`; exits 0 when everything is there.

use std::path::Path;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use zonepatrol_app::photo::{PhotoSettings, process, read_file};
use zonepatrol_app::store::Repo;
use zonepatrol_app::sync::{SyncClient, install_crypto};
use zonepatrol_shared::docs::{Assessment, DocId, DocKind, Patrol, Problem, Sheet};

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [server, user, password, photo] = args.as_slice() else {
        eprintln!("usage: zonepatrol-e2e-check SERVER USER PASSWORD PHOTO");
        return std::process::ExitCode::from(2);
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("e2e check: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(check(server, user, password, Path::new(photo))) {
        Ok(summary) => {
            println!("e2e check: OK: {summary}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("e2e check: FAILED: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn check(server: &str, user: &str, password: &str, photo: &Path) -> Result<String, String> {
    install_crypto();
    // The photo as the app stores it: the pipeline is deterministic, so the same name.
    let settings = PhotoSettings::default();
    let bytes = read_file(photo, &settings).map_err(|e| e.to_string())?;
    let processed = process(&bytes, &settings).map_err(|e| e.to_string())?;
    let hash = hex::encode(Sha256::digest(&processed.full.bytes));
    let thumb = hex::encode(Sha256::digest(&processed.thumb.bytes));

    let dir = std::env::temp_dir().join(format!("zonepatrol-e2e-check-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let repo = Arc::new(Repo::open(&dir).map_err(|e| e.to_string())?);
    let client = SyncClient::new(repo.clone()).map_err(|e| e.to_string())?;
    let me = client
        .login(server, user, password, "e2e check")
        .await
        .map_err(|e| e.to_string())?;
    client.sync().await.map_err(|e| e.to_string())?;
    let result = look(&repo, &me.branch, user, &hash).await;
    let token = repo
        .session()
        .map_err(|e| e.to_string())?
        .map(|s| s.token)
        .unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    let summary = result?;

    // The server holds both files, byte for byte.
    let http = reqwest::Client::new();
    for (name, want) in [("photo", &hash), ("thumbnail", &thumb)] {
        let response = http
            .get(format!("{server}/v1/blobs/{want}"))
            .bearer_auth(&token)
            .send()
            .await
            .map_err(|e| format!("fetching the {name}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("the server has no {name}: {}", response.status()));
        }
        let body = response.bytes().await.map_err(|e| e.to_string())?;
        let got = hex::encode(Sha256::digest(&body));
        if got != *want {
            return Err(format!("the {name} on the server is not the one sent"));
        }
    }
    Ok(format!("{summary}; photo and thumbnail on the server"))
}

async fn look(repo: &Repo, branch: &str, user: &str, hash: &str) -> Result<String, String> {
    let ids = repo.ids().map_err(|e| e.to_string())?;
    let parse = |id: &String| id.parse::<DocId>().map_err(|e| e.to_string());
    let mut patrols = Vec::new();
    for id in ids
        .iter()
        .filter(|i| i.starts_with(&DocId::prefix(DocKind::Patrol, branch)))
    {
        let p: Patrol = repo
            .read(&parse(id)?)
            .map_err(|e| e.to_string())?
            .ok_or("patrol vanished")?;
        if p.plan.leader == user {
            patrols.push((id.rsplit(':').next().unwrap_or_default().to_owned(), p));
        }
    }
    let [(name, patrol)] = patrols.as_slice() else {
        return Err(format!(
            "expected one patrol led by {user}, found {}",
            patrols.len()
        ));
    };
    if patrol.plan.date.is_none() || patrol.plan.zones.is_empty() {
        return Err("the patrol has no day or no zones".into());
    }
    let sheet_id = DocId::Sheet {
        branch: branch.to_owned(),
        patrol: name.clone(),
        inspector: user.to_owned(),
    };
    let sheet: Sheet = repo
        .read(&sheet_id)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no sheet {sheet_id} on the server"))?;
    let marked = sheet
        .zones
        .values()
        .flat_map(|z| z.items.values())
        .find(|i| i.deductions.values().map(|t| t.value()).sum::<i64>() == 1)
        .ok_or("no item with exactly one deduction on the sheet")?;
    if !marked.photos.contains_key(hash) {
        return Err("the deducted item does not carry the photo".into());
    }
    // The note the scenario typed (zonepatrol_app::e2e::NOTE, which needs the e2e feature).
    if marked.note.as_str() != "电缆吊挂不整齐" {
        return Err(format!("the item's note is {:?}", marked.note.as_str()));
    }
    let mut problems = Vec::new();
    for id in ids
        .iter()
        .filter(|i| i.starts_with(&DocId::prefix(DocKind::Problem, branch)))
    {
        let p: Problem = repo
            .read(&parse(id)?)
            .map_err(|e| e.to_string())?
            .ok_or("problem vanished")?;
        if p.finding.raised_by == user && p.finding.patrol.as_deref() == Some(name.as_str()) {
            problems.push(p);
        }
    }
    let [problem] = problems.as_slice() else {
        return Err(format!(
            "expected one problem raised on the patrol, found {}",
            problems.len()
        ));
    };
    let f = &problem.finding;
    // The holder's fix, with the after-photo, and their self-score of the zone this month.
    let fix = problem
        .fixes()
        .map(|(_, r)| r)
        .find(|r| r.by == f.responsible)
        .ok_or("the responsible member's fix did not arrive")?;
    if fix.note.as_str() != "已按标准重新吊挂" || !fix.photos.contains_key(hash) {
        return Err(format!("the fix is incomplete: {fix:?}"));
    }
    // The holder's request for more time, asked before the fix, with its reason.
    if !problem.extensions().iter().any(|e| {
        e.request.by == f.responsible
            && e.request.note.as_str() == "液压支架配件未到，申请延期"
            && e.request.extension > f.deadline
    }) {
        return Err(format!(
            "the holder's request for more time did not arrive: {:?}",
            problem.rectifications
        ));
    }
    // The secretary's verification closed it.
    if problem.status() != zonepatrol_shared::rules::problem::ProblemStatus::Verified
        || !problem
            .verifications
            .values()
            .any(|v| v.by == user && v.outcome == zonepatrol_shared::docs::Outcome::Verified)
    {
        return Err(format!(
            "the problem was not verified by {user}: {:?}",
            problem.verifications
        ));
    }
    let month = zonepatrol_shared::rules::period::Period::containing(
        zonepatrol_shared::rules::period::PeriodKind::Month,
        zonepatrol_shared::rules::period::MineClock::default()
            .date_of_millis(zonepatrol_app::store::now_millis())
            .ok_or("no date")?,
    );
    let mut self_scored = None;
    for id in ids
        .iter()
        .filter(|i| i.starts_with(&DocId::prefix(DocKind::Assessment, branch)))
    {
        let a: Assessment = repo
            .read(&parse(id)?)
            .map_err(|e| e.to_string())?
            .ok_or("assessment vanished")?;
        if a.self_score.by == f.responsible && id.ends_with(&format!(":{month}")) {
            let form = zonepatrol_app::records::assessment::form_of(repo, month)
                .map_err(|e| e.to_string())?;
            self_scored = a.self_score.total(&form);
        }
    }
    let self_total = self_scored.ok_or("the holder's self-score did not arrive")?;
    // The secretary's assessment, typed before the app was killed, submitted offline, refused
    // (the month was published meanwhile) and applied again once it was reopened.
    let assessed = ids
        .iter()
        .filter(|i| i.starts_with(&DocId::prefix(DocKind::Assessment, branch)))
        .filter(|i| i.ends_with(&format!(":{month}")))
        .filter_map(|i| repo.read::<Assessment>(&parse(i).ok()?).ok().flatten())
        // zonepatrol_app::e2e::DRAFT, which needs the e2e feature.
        .any(|a| {
            a.branch_score.by == user
                && a.branch_score.note.as_str() == "草稿：三号架电缆吊挂待复查"
        });
    if !assessed {
        return Err("the secretary's assessment from the draft did not arrive".into());
    }
    if self_total != "99.5".parse().map_err(|_| "points")? {
        return Err(format!("the self-score total is {self_total}, not 99.5"));
    }
    if f.description.0.is_empty()
        || f.responsible.is_empty()
        || f.deadline.is_none()
        || f.item.is_none()
        || !f.photos.contains_key(hash)
    {
        return Err(format!("the problem is incomplete: {f:?}"));
    }
    Ok(format!(
        "patrol {name} with {} zone(s); sheet with one deduction, the note and the photo; problem on zone {} for {} due {}, more time asked for, fixed with the after-photo and verified; self-score {self_total} for {month}; the assessment typed before the kill, refused and applied again",
        patrol.plan.zones.len(),
        f.zone,
        f.responsible,
        f.deadline.map(|d| d.to_string()).unwrap_or_default()
    ))
}
