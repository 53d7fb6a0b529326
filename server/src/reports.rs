//! Keeping the report documents in step with the consolidated results.
//!
//! At start every stored document is read into the [`Consolidator`] and every report is
//! computed once. After that, each accepted push hands its documents to [`take_in`] and [`write_dirty`], which
//! replaces their contributions and writes the reports that changed, before the push is
//! acknowledged; the same request's pull then carries the new reports to the device. A task
//! recomputes the reports when the mine's date changes, since being overdue depends on it.
//!
//! Reports are written by the server's own actor on top of the stored document, so devices
//! that hold an earlier version merge the update like any other change.

use std::collections::{BTreeSet, HashMap, HashSet};

use automerge::AutoCommit;
use zonepatrol_shared::Actor;
use zonepatrol_shared::docs::{self, DocId, DocKind, Report};
use zonepatrol_shared::protocol::Visits;

use crate::State;
use crate::consolidate::{Consolidator, Facts, ReportKey, record};
use crate::store::writer::{ServerDoc, WriteError};
use crate::store::{Storage, StoreError};
use zonepatrol_shared::validate::limits;

/// What can go wrong keeping reports.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The report document could not be written.
    #[error("report {0}")]
    Write(#[from] WriteError),
    /// A stored report does not load, or a report cannot be written.
    #[error("report {id}: {reason}")]
    Doc {
        /// The report id.
        id: String,
        /// What went wrong.
        reason: String,
    },
}

/// The order documents are read in at start: directories before the sheets they score,
/// publications before the reports they freeze, reports before the data that updates them.
fn load_order(kind: DocKind) -> u8 {
    match kind {
        DocKind::Directory | DocKind::Rules => 0,
        DocKind::Publication => 1,
        DocKind::Report => 2,
        DocKind::Patrol => 3,
        _ => 4,
    }
}

/// A stored document left out of the results, and why: the server starts and serves without
/// it, and says so in its log and on the dashboard, so that someone can repair or remove it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    /// The document's id.
    pub id: String,
    /// Why it was left out.
    pub reason: String,
}

/// How far ahead of today a document may place results: anything beyond comes from a record
/// accepted before the validator bounded dates, and is left out.
const RESULTS_DAYS_AHEAD: u64 = limits::RESULTS_DAYS_AHEAD;

/// Takes a document's facts into the consolidator unless they place results outside the
/// product's range of dates, in which case the document is left out and the reason returned
/// beside the reports its removal changes.
fn admit(
    c: &mut Consolidator,
    id: &DocId,
    facts: Facts,
    today: chrono::NaiveDate,
) -> (BTreeSet<ReportKey>, Option<String>) {
    let inside = |(_, period): &ReportKey| {
        limits::day_in_range(period.first_day(), today, RESULTS_DAYS_AHEAD)
    };
    // Directories, publications and reports carry no dates of their own: only records do.
    if matches!(
        id.kind(),
        DocKind::Directory | DocKind::Publication | DocKind::Report | DocKind::Rules
    ) {
        return (c.apply(id, facts), None);
    }
    let far_day = facts
        .days()
        .into_iter()
        .find(|d| !limits::day_in_range(*d, today, RESULTS_DAYS_AHEAD));
    let mut dirty = c.apply(id, facts);
    let far = match (far_day, dirty.iter().find(|k| !inside(k))) {
        (Some(day), _) => day.to_string(),
        (None, Some((_, period))) => period.to_string(),
        (None, None) => return (dirty, None),
    };
    let reason = format!(
        "it is dated {far}, outside {} to a year after today: repair or remove it",
        limits::EARLIEST_DAY
    );
    dirty.extend(c.apply(id, Facts::None));
    dirty.retain(inside);
    (dirty, Some(reason))
}

/// Records a document left out, in the log and for the dashboard.
pub(crate) fn leave_out(state: &State, id: &str, reason: String) {
    tracing::warn!(doc = %id, %reason, "a stored document is left out of the results");
    let mut left = state
        .results
        .left_out
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    left.retain(|l| l.id != id);
    if left.len() < 10_000 {
        left.push(LeftOut {
            id: id.to_owned(),
            reason,
        });
    }
}

/// A document left out before is taken in now (it was repaired): off the list.
fn taken_in(state: &State, id: &str) {
    let mut left = state
        .results
        .left_out
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if left.iter().any(|l| l.id == id) {
        left.retain(|l| l.id != id);
        state
            .results
            .unreadable
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }
}

/// Records a stored document that does not load: left out, and not sent to devices.
pub(crate) fn unreadable(state: &State, id: &str, reason: String) {
    state
        .results
        .unreadable
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id.to_owned());
    leave_out(state, id, reason);
}

/// How many stored documents are left out, and the first `n` of them.
pub fn left_out_first(state: &State, n: usize) -> (usize, Vec<LeftOut>) {
    let left = state
        .results
        .left_out
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    (left.len(), left.iter().take(n).cloned().collect())
}

/// The stored documents left out of the results, and why.
pub fn left_out(state: &State) -> Vec<LeftOut> {
    state
        .results
        .left_out
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
}

/// What a start's [`load`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loaded {
    /// The stored documents.
    pub documents: usize,
    /// Those read whole, for want of usable facts kept beside them.
    pub read_whole: usize,
    /// The reports written because they changed.
    pub written: usize,
}

/// A kept record of facts, decoded: the facts and the photos, or why it is not used.
type Kept = Result<(Facts, BTreeSet<String>), String>;

/// Every stored document, in the order [`load`] takes them in.
fn list_documents(store: &dyn Storage) -> Result<Vec<DocId>, StoreError> {
    let mut ids: Vec<DocId> = Vec::new();
    let mut seen: HashSet<DocId> = HashSet::new();
    let mut cursor = 0;
    loop {
        let batch = store.changed_after(cursor, 4096)?;
        let Some(last) = batch.last() else { break };
        cursor = last.0;
        for (_, id) in batch {
            if seen.insert(id.clone()) {
                ids.push(id);
            }
        }
    }
    ids.sort_by_key(|id| load_order(id.kind()));
    Ok(ids)
}

/// Reads the results back at start, then computes every report and writes those that differ
/// from the stored ones.
///
/// Each document's facts come from the record kept beside it ([`record`]), or, for a document
/// without a usable one (none kept, damaged, of another version), from the document itself,
/// whose record is then kept. Records made under other settings (see [`record::stamp`]), or
/// all of them when `rebuild` is asked for, are not used: every document is read again, and
/// the stamp is written once every record is new. A document that cannot be read or
/// consolidated is left out (see [`LeftOut`]), never a reason not to start.
pub fn load(state: &State, rebuild: bool) -> Result<Loaded, ReportError> {
    let store = &*state.store;
    // No document is written meanwhile, by this process or (on a database several instances
    // share) any other: the records made here are those of the documents as they are stored.
    // On a shared database the start holds the others' writes for its few seconds (a full
    // rebuild for its minutes: run one when the mine is quiet).
    let _hold = store.hold_writes()?;
    let _write = state.docs.write().unwrap_or_else(|e| e.into_inner());
    let started = std::time::Instant::now();
    let snapshot = store.last_seq()?;
    let stamp = lock(state).stamp();
    // A kept stamp or record that cannot be read means a rebuild, never a start refused.
    let kept_stamp = store.facts_stamp().unwrap_or_else(|e| {
        tracing::warn!(error = %e, "the kept facts' stamp does not read");
        None
    });
    let usable = !rebuild && kept_stamp.as_deref() == Some(stamp.as_slice());
    // The kept records are read and decoded on a second thread while the documents are listed
    // (a start uses both of a small server's cores).
    let (listed, records) = std::thread::scope(|s| {
        let records = s.spawn(|| -> Result<HashMap<DocId, Kept>, StoreError> {
            if !usable {
                return Ok(HashMap::new());
            }
            Ok(store
                .facts_records()?
                .into_iter()
                .map(|(id, bytes)| {
                    let kept = record::decode(&bytes);
                    (id, kept)
                })
                .collect())
        });
        let listed = list_documents(store);
        let records = records
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (listed, records)
    });
    let ids = listed?;
    let mut records = records.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "the kept facts do not read: every document is read instead");
        HashMap::new()
    });
    let listed_seconds = started.elapsed().as_secs_f64();
    let readiness = &state.results.readiness;
    readiness.rebuilding(ids.len());
    let mut c = lock(state);
    if usable {
        tracing::info!(
            documents = ids.len(),
            kept = records.len(),
            "loading the results from the facts kept beside the documents"
        );
    } else {
        let why = match (rebuild, kept_stamp) {
            (true, _) => "a rebuild was asked for",
            (false, None) => "no facts are kept yet",
            (false, Some(_)) => {
                "the kept facts were made by another version or under other settings"
            }
        };
        tracing::warn!(
            documents = ids.len(),
            "{why}: rebuilding the results from every stored document"
        );
    }
    let mut said = started;
    let now = crate::now_millis();
    let today = c.today(now);
    let mut photos = state
        .results
        .photos
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let mut visits = state
        .results
        .visits
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let mut read_whole = 0usize;
    // Records that could not be kept or dropped: the stamp is then not written, so that the
    // next start does not trust records made under other settings.
    let mut unkept = 0usize;
    let drop_record = |id: &DocId| -> usize {
        match store.put_facts(id, None) {
            Ok(()) => 0,
            Err(e) => {
                tracing::warn!(doc = %id, error = %e, "could not drop a document's kept facts");
                1
            }
        }
    };
    for id in &ids {
        let done = readiness.read_one();
        if said.elapsed() >= std::time::Duration::from_secs(5) {
            said = std::time::Instant::now();
            tracing::info!(done, total = ids.len(), read_whole, "loading the results");
        }
        let text = id.to_string();
        let kept = records.remove(id).and_then(|kept| {
            kept.inspect_err(|reason| {
                tracing::warn!(doc = %text, %reason, "a kept record of facts is not used: reading its document");
            })
            .ok()
        });
        let (facts, hashes) = match kept {
            Some(kept) => kept,
            None => {
                read_whole += 1;
                // A document that is gone or damaged keeps no facts: the next start reads it.
                let stored = match store.doc(id) {
                    Ok(Some(stored)) => stored,
                    Ok(None) => {
                        unkept += drop_record(id);
                        continue;
                    }
                    Err(e) => {
                        unkept += drop_record(id);
                        unreadable(state, &text, format!("its record is damaged ({e})"));
                        continue;
                    }
                };
                let doc = match stored.load() {
                    Ok(doc) => doc,
                    Err(reason) => {
                        unkept += drop_record(id);
                        unreadable(state, &text, reason);
                        continue;
                    }
                };
                let (facts, hashes) = (c.facts(id, &doc), docs::values::photo_hashes(&doc));
                let kept = record::encode(&facts, &hashes);
                if let Err(e) = store.put_facts(id, kept.as_deref()) {
                    tracing::warn!(doc = %text, error = %e, "could not keep a document's facts");
                    unkept += 1;
                }
                (facts, hashes)
            }
        };
        photos.replace(id, hashes);
        visits.replace(id, &facts);
        if let (_, Some(reason)) = admit(&mut c, id, facts, today) {
            leave_out(state, &text, reason);
        }
    }
    drop(photos);
    drop(visits);
    if !usable && unkept == 0 {
        store.put_facts_stamp(&stamp)?;
    }
    let loaded = started.elapsed();
    drop(c);
    state
        .results
        .seen
        .store(snapshot, std::sync::atomic::Ordering::Release);
    let mut c = lock(state);
    let changed = c.compute_all(today, now);
    let computed = started.elapsed();
    write_reports(state, &mut c, &changed, now);
    drop(c);
    store.flush()?;
    settle(state);
    tracing::info!(
        documents = ids.len(),
        read_whole,
        listed_seconds,
        load_seconds = loaded.as_secs_f64(),
        computed_seconds = computed.as_secs_f64(),
        seconds = started.elapsed().as_secs_f64(),
        reports_written = changed.len(),
        "the results are ready"
    );
    Ok(Loaded {
        documents: ids.len(),
        read_whole,
        written: changed.len(),
    })
}

/// Takes in what other instances sharing the store wrote since these results last did: each
/// document's kept facts (or, lacking them, the document), in the order written, then the
/// reports they change are computed again in memory (the instance that wrote them wrote the
/// report documents too). A report another instance wrote is marked behind in the loaded
/// ones, so that this one takes in what they stored before it writes, never over it from a
/// stale copy; one computed here as they stored it (but for its time) is not written again. Nothing to do on a store only
/// this process writes. The caller holds the documents' lock (shared or for writing); returns
/// how many documents were taken in.
///
/// Reports that come out changed (the instance that wrote the documents stopped before it
/// wrote its reports) are written when the caller holds every instance's writes off
/// (`writer`), else forgotten and left to the next refresh, within a minute, which writes them.
pub(crate) fn catch_up(state: &State, writer: bool) -> Result<usize, ReportError> {
    use std::sync::atomic::Ordering;
    let store = &*state.store;
    if !store.shared() {
        return Ok(0);
    }
    let _one = state
        .results
        .catching
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let seen = state.results.seen.load(Ordering::Acquire);
    if store.last_seq()? <= seen {
        return Ok(0);
    }
    let now = crate::now_millis();
    let mut cursor = seen;
    let mut taken = 0;
    let mut dirty = BTreeSet::new();
    // The reports the others wrote, as they wrote them: what the results here compute the
    // same needs no writing again.
    let mut theirs: HashMap<String, Report> = HashMap::new();
    loop {
        let batch = store.changed_after(cursor, 4096)?;
        let Some(last) = batch.last() else { break };
        cursor = last.0;
        // The kept facts of the whole batch at once (one round trip on a database). A batch
        // with a damaged record is read one by one, so that it is left out alone; any other
        // failure (the database did not answer) stops here, the results not moved past it.
        let ids: Vec<DocId> = batch.iter().map(|(_, id)| id.clone()).collect();
        let records: Vec<Result<Option<Vec<u8>>, StoreError>> = match store.facts_many(&ids) {
            Ok(records) => records.into_iter().map(Ok).collect(),
            Err(StoreError::Damaged { .. }) => ids.iter().map(|id| store.facts(id)).collect(),
            Err(e) => return Err(e.into()),
        };
        let mut records = records.into_iter();
        for (_, id) in batch {
            let record = records.next().unwrap_or(Ok(None));
            let text = id.to_string();
            if id.kind() == DocKind::Report {
                state
                    .results
                    .report_docs
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .behind(&text, None);
            }
            // A record that does not read is left out, as at the start, never a reason to
            // stop answering.
            let kept = match record {
                Ok(kept) => kept.and_then(|bytes| record::decode(&bytes).ok()),
                Err(e @ StoreError::Damaged { .. }) => {
                    unreadable(state, &text, format!("its facts are damaged ({e})"));
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let (facts, hashes) = match kept {
                Some((Facts::Report(report), hashes)) => {
                    state
                        .results
                        .report_docs
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .behind(&text, Some(&report));
                    theirs.insert(text.clone(), (*report).clone());
                    (Facts::Report(report), hashes)
                }
                Some(kept) => kept,
                None => {
                    let doc = match store.doc(&id).map(|s| s.map(|s| s.load())) {
                        Ok(Some(Ok(doc))) => doc,
                        Ok(Some(Err(reason))) => {
                            unreadable(state, &text, reason);
                            continue;
                        }
                        Ok(None) => continue,
                        Err(e @ StoreError::Damaged { .. }) => {
                            unreadable(state, &text, format!("its record is damaged ({e})"));
                            continue;
                        }
                        Err(e) => return Err(e.into()),
                    };
                    let facts = lock(state).facts(&id, &doc);
                    (facts, docs::values::photo_hashes(&doc))
                }
            };
            state
                .results
                .photos
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .replace(&id, hashes);
            state
                .results
                .visits
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .replace(&id, &facts);
            let mut c = lock(state);
            let today = c.today(now);
            let (more, left) = admit(&mut c, &id, facts, today);
            drop(c);
            dirty.extend(more);
            match left {
                Some(reason) => leave_out(state, &text, reason),
                None => taken_in(state, &text),
            }
            taken += 1;
        }
    }
    let mut c = lock(state);
    let today = c.today(now);
    let changed = c.compute(dirty, today, now);
    // Each instance computes the same reports from the same records: one another instance
    // wrote is not written again (nor counted as waiting to be) for a later time alone.
    let changed: Vec<ReportKey> = changed
        .into_iter()
        .filter(|key| {
            let Some(mine) = c.current(&key.0, key.1) else {
                return true;
            };
            !theirs
                .get(&mine.header.id)
                .is_some_and(|stored| same_but_time(mine, stored))
        })
        .collect();
    if !changed.is_empty() {
        if writer {
            write_reports(state, &mut c, &changed, now);
        } else {
            c.forget(&changed);
            state.results.unwritten.store(true, Ordering::Relaxed);
        }
    }
    drop(c);
    state.results.seen.fetch_max(cursor, Ordering::AcqRel);
    Ok(taken)
}

/// Whether two reports say the same but for when they were computed.
fn same_but_time(a: &Report, b: &Report) -> bool {
    let mut a = a.clone();
    a.updated_at = b.updated_at;
    a == *b
}

/// After this instance's own writes, made while it held every other instance's off
/// ([`crate::State::writing`]), and before it lets go: when every number given out since
/// the results' last is one of its own, they take in everything the store holds; otherwise
/// (someone wrote without the lock, or a commit landed late) they catch up.
pub(crate) fn settle(state: &State) {
    use std::sync::atomic::Ordering;
    let store = &*state.store;
    if !store.shared() {
        return;
    }
    let ours = store.own_writes();
    let seen = state.results.seen.load(Ordering::Acquire);
    let Ok(last) = store.last_seq() else { return };
    let own = ours.iter().filter(|s| **s > seen && **s <= last).count() as u64;
    if own == last.saturating_sub(seen) {
        state.results.seen.fetch_max(last, Ordering::AcqRel);
    } else if let Err(e) = catch_up(state, true) {
        tracing::error!(error = %e, "could not catch up with the database after writing");
    }
}

/// The consolidator, even if a panic elsewhere poisoned its lock.
pub(crate) fn lock(state: &State) -> std::sync::MutexGuard<'_, Consolidator> {
    state
        .results
        .consolidator
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// What a document about to be written contributes: its facts, kept beside it in the same
/// batch, then taken into the results once it is stored.
#[derive(Debug)]
pub struct Reading {
    facts: Facts,
    photos: BTreeSet<String>,
}

impl Reading {
    /// The record kept beside the document (`None`: the next start reads the document).
    pub fn record(&self) -> Option<Vec<u8>> {
        record::encode(&self.facts, &self.photos)
    }
}

/// Reads what a document about to be written contributes (a sheet is scored on its branch's
/// templates as they are now). Called with the documents' write lock held.
pub(crate) fn read_in(state: &State, id: &DocId, doc: &AutoCommit) -> Reading {
    Reading {
        facts: lock(state).facts(id, doc),
        photos: docs::values::photo_hashes(doc),
    }
}

/// Takes in one document just stored, as read before its write ([`read_in`]); returns the
/// reports it may change. Called with the documents' write lock held.
pub(crate) fn take_in(state: &State, id: &DocId, reading: Reading) -> BTreeSet<ReportKey> {
    if id.kind() == DocKind::Report {
        return BTreeSet::new();
    }
    state
        .results
        .photos
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .replace(id, reading.photos);
    state
        .results
        .visits
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .replace(id, &reading.facts);
    let mut c = lock(state);
    let today = c.today(crate::now_millis());
    let (dirty, left) = admit(&mut c, id, reading.facts, today);
    drop(c);
    match left {
        Some(reason) => leave_out(state, &id.to_string(), reason),
        None => taken_in(state, &id.to_string()),
    }
    dirty
}

/// The patrols of other branches `user` walks on today (see [`crate::visits`]).
pub(crate) fn visits(state: &State, user: &Actor, now: i64) -> Visits {
    let Some(today) = state.settings.clock.date_of_millis(now) else {
        return Visits::default();
    };
    state
        .results
        .visits
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .of(user, today)
}

/// Computes the reports a push changed and writes those that differ. Called with the
/// documents' write lock held. A failure is logged, not returned: the push itself is stored,
/// and the next refresh writes the reports again.
pub(crate) fn write_dirty(state: &State, dirty: BTreeSet<ReportKey>, now: i64) {
    if dirty.is_empty() {
        return;
    }
    let mut c = lock(state);
    let today = c.today(now);
    let changed = c.compute(dirty, today, now);
    write_reports(state, &mut c, &changed, now);
}

/// Recomputes every report (the date moved, or a manager published); writes those changed.
pub(crate) fn refresh(state: &State) -> Result<usize, ReportError> {
    let _write = state.writing()?;
    let mut c = lock(state);
    let now = crate::now_millis();
    let today = c.today(now);
    let changed = c.compute_all(today, now);
    let failed = write_reports(state, &mut c, &changed, now);
    state.store.flush()?;
    Ok(changed.len() - failed)
}

/// Writes the changed reports; one that cannot be written is logged, forgotten (so that it is
/// computed and written again) and retried within a minute, and the others are written all
/// the same. Returns how many failed.
fn write_reports(state: &State, c: &mut Consolidator, changed: &[ReportKey], now: i64) -> usize {
    let mut docs = state
        .results
        .report_docs
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let mut failed = Vec::new();
    for key in changed {
        if let Some(report) = c.current(&key.0, key.1)
            && let Err(e) = docs.write(&*state.store, report, now)
        {
            tracing::error!(error = %e, "could not write a report; trying again within a minute");
            failed.push(key.clone());
        }
    }
    drop(docs);
    if !failed.is_empty() {
        c.forget(&failed);
        state
            .results
            .unwritten
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }
    failed.len()
}

/// The consolidated results and what is kept in step with them, under one roof of the
/// server's state.
#[derive(Debug)]
pub struct Results {
    /// The consolidator.
    pub(crate) consolidator: std::sync::Mutex<Consolidator>,
    /// The report documents last written.
    pub(crate) report_docs: std::sync::Mutex<ReportDocs>,
    /// Whether a report could not be written and waits to be written again.
    pub(crate) unwritten: std::sync::atomic::AtomicBool,
    /// Which documents point at each photo, for who may read it.
    pub(crate) photos: std::sync::Mutex<crate::photos::PhotoIndex>,
    /// Who walks which patrol of another branch, for what they may read there.
    pub(crate) visits: std::sync::Mutex<crate::visits::VisitIndex>,
    /// Stored documents left out of the results, and why.
    pub(crate) left_out: std::sync::Mutex<Vec<LeftOut>>,
    /// Stored documents that do not load: never sent to devices, which could not load them
    /// either.
    pub(crate) unreadable: std::sync::RwLock<HashSet<String>>,
    /// How far the start has come: the rebuild's progress, and whether every route is served.
    pub(crate) readiness: crate::health::Readiness,
    /// The store's last sequence number these results take in (a store several instances
    /// write: see [`catch_up`]).
    pub(crate) seen: std::sync::atomic::AtomicU64,
    /// One catch-up at a time, so that an older record is never taken in after a newer one.
    pub(crate) catching: std::sync::Mutex<()>,
}

impl Results {
    /// Results yet to be read from the store.
    pub fn new(consolidator: Consolidator) -> Results {
        Results {
            consolidator: std::sync::Mutex::new(consolidator),
            report_docs: Default::default(),
            unwritten: Default::default(),
            photos: Default::default(),
            visits: Default::default(),
            left_out: Default::default(),
            unreadable: Default::default(),
            readiness: Default::default(),
            seen: Default::default(),
            catching: Default::default(),
        }
    }
}

/// The report documents written lately, kept loaded: reports are written by the server
/// alone, so what it last wrote is what the store holds, and the next write need not parse
/// the document again. Bounded; cleared when full.
#[derive(Default)]
pub struct ReportDocs {
    docs: HashMap<String, LoadedReport>,
}

/// A report document kept loaded.
struct LoadedReport {
    doc: ServerDoc,
    /// What the store holds, when known.
    last: Option<Report>,
    /// Whether another instance wrote it since it was loaded or written here.
    behind: bool,
}

impl std::fmt::Debug for ReportDocs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportDocs")
            .field("loaded", &self.docs.len())
            .finish()
    }
}

/// How many report documents stay loaded.
const LOADED: usize = 512;

impl ReportDocs {
    /// Marks a report written by someone else (another instance), as they wrote it when
    /// known: the next write here takes in what they stored first (the chunks they added,
    /// on a database), never writing over it from a stale copy.
    fn behind(&mut self, id: &str, theirs: Option<&Report>) {
        if let Some(loaded) = self.docs.get_mut(id) {
            loaded.behind = true;
            loaded.last = theirs.cloned();
        }
    }

    /// Writes a report on top of the stored document with the server's actor; only what
    /// changed becomes new operations. A report that fails is not kept loaded, so the next
    /// write reads it from the store again.
    pub fn write(
        &mut self,
        store: &dyn Storage,
        report: &Report,
        now: i64,
    ) -> Result<(), ReportError> {
        let text = report.header.id.clone();
        let fail = |reason: String| ReportError::Doc {
            id: text.clone(),
            reason,
        };
        let (mut doc, last) = match self.docs.remove(&text) {
            Some(mut loaded) => {
                if loaded.behind {
                    loaded.doc.catch_up::<Report>(store)?;
                }
                (loaded.doc, loaded.last)
            }
            None => {
                let id: DocId = text
                    .parse()
                    .map_err(|e: docs::DocIdError| fail(e.to_string()))?;
                (ServerDoc::open::<Report>(store, &id)?, None)
            }
        };
        match &last {
            Some(last) => doc.edit(|d| reconcile_changes(d, last, report))?,
            None => doc.write(report)?,
        }
        let facts = Facts::Report(Box::new(report.clone()));
        doc.save(store, now, record::encode(&facts, &BTreeSet::new()))?;
        if self.docs.len() >= LOADED {
            self.docs.clear();
        }
        self.docs.insert(
            text,
            LoadedReport {
                doc,
                last: Some(report.clone()),
                behind: false,
            },
        );
        Ok(())
    }
}

/// Writes only the parts of a report that differ from what was last written (a rank moved,
/// one zone's score): reconciling a whole report walks every value in it.
fn reconcile_changes(doc: &mut AutoCommit, last: &Report, new: &Report) -> Result<(), String> {
    use automerge::{ROOT, ReadDoc, Value};
    use autosurgeon::reconcile_prop;
    let e = |e: autosurgeon::ReconcileError| e.to_string();
    if last.updated_at != new.updated_at {
        reconcile_prop(doc, ROOT, "updated_at", new.updated_at).map_err(e)?;
    }
    if last.open_problems != new.open_problems {
        reconcile_prop(doc, ROOT, "open_problems", new.open_problems).map_err(e)?;
    }
    if last.overdue_problems != new.overdue_problems {
        reconcile_prop(doc, ROOT, "overdue_problems", new.overdue_problems).map_err(e)?;
    }
    if last.branch != new.branch {
        reconcile_prop(doc, ROOT, "branch", new.branch.clone()).map_err(e)?;
    }
    if last.cleanups != new.cleanups {
        reconcile_prop(doc, ROOT, "cleanups", new.cleanups.clone()).map_err(e)?;
    }
    if last.published != new.published {
        reconcile_prop(doc, ROOT, "published", new.published.clone()).map_err(e)?;
    }
    if last.zones != new.zones {
        let zones = match doc.get(ROOT, "zones").map_err(|e| e.to_string())? {
            Some((Value::Object(_), id)) => id,
            _ => return docs::write(doc, new).map_err(|e| e.to_string()),
        };
        for (zone, result) in &new.zones {
            if last.zones.get(zone) != Some(result) {
                reconcile_prop(doc, &zones, zone.as_str(), result.clone()).map_err(e)?;
            }
        }
        for zone in last.zones.keys() {
            if !new.zones.contains_key(zone) {
                automerge::transaction::Transactable::delete(doc, &zones, zone.as_str())
                    .map_err(|e| e.to_string())?;
            }
        }
    }
    Ok(())
}

/// Every current report, by branch and period (for comparing two starts).
pub fn all_current(state: &State) -> std::collections::BTreeMap<ReportKey, Report> {
    lock(state)
        .reports()
        .map(|(k, r)| (k.clone(), r.clone()))
        .collect()
}

/// What the dashboard and tests read: a copy of a current report.
pub fn current(state: &State, key: &ReportKey) -> Option<Report> {
    lock(state).current(&key.0, key.1).cloned()
}

/// Recomputes the reports whenever the mine's date changes (problems become overdue) or a
/// write of reports failed, until the server stops.
pub(crate) async fn refresh_daily(state: std::sync::Weak<State>) {
    let mut last = None;
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
        let Some(state) = state.upgrade() else { return };
        let today = lock(&state).today(crate::now_millis());
        let retry = state
            .results
            .unwritten
            .swap(false, std::sync::atomic::Ordering::Relaxed);
        if retry || last.is_some_and(|d| d != today) {
            let shared = state.clone();
            let done = tokio::task::spawn_blocking(move || refresh(&shared)).await;
            let failed = match done {
                Ok(Ok(n)) => {
                    tracing::info!(written = n, "reports refreshed for a new day");
                    false
                }
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "could not refresh the reports: trying again within a minute");
                    true
                }
                Err(e) => {
                    tracing::error!(error = %e, "the report refresh failed: trying again within a minute");
                    true
                }
            };
            if failed {
                // Tried again at the next minute: the flag, and the day not yet taken as done.
                state
                    .results
                    .unwritten
                    .store(true, std::sync::atomic::Ordering::Relaxed);
                continue;
            }
        }
        last = Some(today);
    }
}
