//! Keeping the report documents in step with the consolidated results.
//!
//! At start every stored document is read into the [`Consolidator`] and every report is
//! computed once. After that, each accepted push hands its documents to [`after_push`], which
//! replaces their contributions and writes the reports that changed, before the push is
//! acknowledged; the same request's pull then carries the new reports to the device. A task
//! recomputes the reports when the mine's date changes, since being overdue depends on it.
//!
//! Reports are written by the server's own actor on top of the stored document, so devices
//! that hold an earlier version merge the update like any other change.

use std::collections::{BTreeSet, HashSet};

use automerge::AutoCommit;
use automerge::transaction::CommitOptions;
use zonepatrol_shared::docs::{self, DocId, DocKind, Report};

use crate::State;
use crate::consolidate::{Consolidator, ReportKey};
use crate::seed::server_actor;
use crate::store::{DocWrite, Storage, StoreError};

/// A report document is compacted once it is kept in this many chunks.
const COMPACT_AT: u32 = 16;

/// What can go wrong keeping reports.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
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
        DocKind::Directory => 0,
        DocKind::Publication => 1,
        DocKind::Report => 2,
        DocKind::Patrol => 3,
        _ => 4,
    }
}

/// Reads every stored document into the consolidator, computes every report and writes those
/// that differ from the stored ones. Returns how many reports were written.
pub fn load(state: &State) -> Result<usize, ReportError> {
    let store = &*state.store;
    let mut ids: Vec<DocId> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut cursor = 0;
    loop {
        let batch = store.changed_after(cursor, 4096)?;
        let Some(last) = batch.last() else { break };
        cursor = last.0;
        for (_, text) in batch {
            if seen.insert(text.clone())
                && let Ok(id) = text.parse::<DocId>()
            {
                ids.push(id);
            }
        }
    }
    ids.sort_by_key(|id| load_order(id.kind()));
    let mut c = lock(state);
    for id in &ids {
        let Some(stored) = store.doc(&id.to_string())? else {
            continue;
        };
        match AutoCommit::load(&stored.bytes) {
            Ok(doc) => {
                let facts = c.facts(id, &doc);
                c.apply(id, facts);
            }
            Err(e) => tracing::warn!(doc = %id, error = %e, "a stored document does not load"),
        }
    }
    let now = crate::now_millis();
    let today = c.today(now);
    let changed = c.compute_all(today, now);
    write_reports(state, &c, &changed, now)?;
    Ok(changed.len())
}

/// The consolidator, even if a panic elsewhere poisoned its lock.
pub(crate) fn lock(state: &State) -> std::sync::MutexGuard<'_, Consolidator> {
    state.consolidator.lock().unwrap_or_else(|e| e.into_inner())
}

/// Takes in one document a push stored; returns the reports it may change. Called with the
/// documents' write lock held.
pub(crate) fn take_in(state: &State, id: &DocId, doc: &AutoCommit) -> BTreeSet<ReportKey> {
    if id.kind() == DocKind::Report {
        return BTreeSet::new();
    }
    let mut c = lock(state);
    let facts = c.facts(id, doc);
    c.apply(id, facts)
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
    if let Err(e) = write_reports(state, &c, &changed, now) {
        tracing::error!(error = %e, "could not write reports; trying again within a minute");
        c.forget(&changed);
        state
            .reports_unwritten
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Recomputes every report (the date moved, or a manager published); writes those changed.
pub(crate) fn refresh(state: &State) -> Result<usize, ReportError> {
    let _write = state.docs.write().unwrap_or_else(|e| e.into_inner());
    let mut c = lock(state);
    let now = crate::now_millis();
    let today = c.today(now);
    let changed = c.compute_all(today, now);
    write_reports(state, &c, &changed, now)?;
    state.store.flush()?;
    Ok(changed.len())
}

fn write_reports(
    state: &State,
    c: &Consolidator,
    changed: &[ReportKey],
    now: i64,
) -> Result<(), ReportError> {
    let mut docs = state.report_docs.lock().unwrap_or_else(|e| e.into_inner());
    for (branch, period) in changed {
        if let Some(report) = c.current(branch, *period) {
            docs.write(&*state.store, report, now)?;
        }
    }
    Ok(())
}

/// The report documents written lately, kept loaded: reports are written by the server
/// alone, so what it last wrote is what the store holds, and the next write need not parse
/// the document again. Bounded; cleared when full.
#[derive(Default)]
pub struct ReportDocs {
    docs: std::collections::HashMap<String, (AutoCommit, Report, u32)>,
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
    /// Writes a report on top of the stored document with the server's actor; only what
    /// changed becomes new operations.
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
        let (mut doc, chunks, last) = match self.docs.remove(&text) {
            Some((doc, last, chunks)) => (doc, chunks, Some(last)),
            None => {
                let id: DocId = text
                    .parse()
                    .map_err(|e: docs::DocIdError| fail(e.to_string()))?;
                match store.doc(&text)? {
                    Some(s) => (
                        AutoCommit::load(&s.bytes).map_err(|e| fail(e.to_string()))?,
                        s.chunks,
                        None,
                    ),
                    None => (
                        docs::genesis::<Report>(&id).map_err(|e| fail(e.to_string()))?,
                        0,
                        None,
                    ),
                }
            }
        };
        let before = doc.get_heads();
        doc.set_actor(server_actor());
        match &last {
            Some(last) => reconcile_changes(&mut doc, last, report),
            None => docs::write(&mut doc, report).map_err(|e| e.to_string()),
        }
        .map_err(fail)?;
        doc.commit_with(CommitOptions::default().with_time(now / 1000));
        let after = doc.get_heads();
        let mut chunks = chunks;
        if after != before || chunks == 0 {
            let compact = chunks == 0 || chunks + 1 >= COMPACT_AT;
            chunks = if compact { 1 } else { chunks + 1 };
            store.write_doc(&DocWrite {
                id: text.clone(),
                chunk: if compact {
                    doc.save()
                } else {
                    doc.save_after(&before)
                },
                compact,
                heads: after,
                actors: vec![(server_actor().to_bytes().to_vec(), "server".to_owned())],
            })?;
        }
        if self.docs.len() >= LOADED {
            self.docs.clear();
        }
        self.docs.insert(text, (doc, report.clone(), chunks));
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
            .reports_unwritten
            .swap(false, std::sync::atomic::Ordering::Relaxed);
        if retry || last.is_some_and(|d| d != today) {
            let state = state.clone();
            let done = tokio::task::spawn_blocking(move || refresh(&state)).await;
            match done {
                Ok(Ok(n)) => tracing::info!(written = n, "reports refreshed for a new day"),
                Ok(Err(e)) => tracing::error!(error = %e, "could not refresh the reports"),
                Err(e) => tracing::error!(error = %e, "the report refresh failed"),
            }
        }
        last = Some(today);
    }
}
