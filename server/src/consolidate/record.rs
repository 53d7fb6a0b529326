//! The facts kept beside each stored document, so that a start reads them instead of every
//! document's history.
//!
//! A record holds what a document contributes ([`Facts`]) and the photos it points at, in
//! postcard form after one byte of [`VERSION`]. The store writes it in the same batch as the
//! document it comes from (`store::DocWrite::facts`), and a write without one removes the old
//! record, so that a record never describes an older state of its document. A document without
//! a record (written by an older server, or by a path that keeps none) is read whole at start.
//!
//! Facts also depend on the server's settings: the mine's time zone places a problem on its
//! day, and the server's own rules fill what the rules document leaves out. The records are
//! valid only under the settings they were made with, which the [`stamp`] names; a start that
//! finds another stamp reads every document again.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zonepatrol_shared::rules::RulesConfig;
use zonepatrol_shared::rules::period::MineClock;

use super::Facts;

/// The form of a record, its first byte. A record of another version is not read: its
/// document is read whole again, and a new record written.
pub const VERSION: u8 = 5;

#[derive(Serialize)]
struct RecordRef<'a> {
    facts: &'a Facts,
    photos: &'a BTreeSet<String>,
}

#[derive(Deserialize)]
struct Record {
    facts: Facts,
    photos: BTreeSet<String>,
}

/// The record of a document's facts and photos; `None` for a document that contributes
/// nothing (it does not read as its kind, or a sheet whose branch is not known yet), which is
/// read whole at the next start.
pub fn encode(facts: &Facts, photos: &BTreeSet<String>) -> Option<Vec<u8>> {
    if matches!(facts, Facts::None) {
        return None;
    }
    match postcard::to_extend(&RecordRef { facts, photos }, vec![VERSION]) {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            tracing::error!(error = %e, "could not encode a document's facts");
            None
        }
    }
}

/// A record read back, or why it cannot be.
pub fn decode(bytes: &[u8]) -> Result<(Facts, BTreeSet<String>), String> {
    match bytes.split_first() {
        Some((&VERSION, rest)) => match postcard::take_from_bytes::<Record>(rest) {
            Ok((r, [])) => Ok((r.facts, r.photos)),
            Ok((_, left)) => Err(format!(
                "the record does not read ({} bytes left over)",
                left.len()
            )),
            Err(e) => Err(format!("the record does not read ({e})")),
        },
        Some((v, _)) => Err(format!("the record is of version {v}, not {VERSION}")),
        None => Err("the record is empty".into()),
    }
}

/// What the records depend on besides their documents: their version, the server's version
/// (a release may read documents differently: its first start reads them all again), the
/// mine's time zone and the server's own rules.
pub fn stamp(rules: &RulesConfig, clock: &MineClock) -> Vec<u8> {
    let mut hash = Sha256::new();
    hash.update([VERSION]);
    hash.update(env!("CARGO_PKG_VERSION").as_bytes());
    hash.update([0]);
    hash.update(clock.tz.name().as_bytes());
    hash.update([0]);
    hash.update(serde_json::to_vec(rules).unwrap_or_default());
    hash.finalize().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consolidate::{PatrolFacts, ProblemFacts};
    use zonepatrol_shared::PatrolKind;
    use zonepatrol_shared::rules::ProblemStatus;

    fn day() -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 4).expect("a day")
    }

    /// A closed weekly patrol of one zone by one inspector.
    fn patrol() -> Facts {
        Facts::Patrol(PatrolFacts {
            kind: PatrolKind::Weekly,
            date: Some(day()),
            inspectors: ["u1".to_owned()].into(),
            zones: ["z1".to_owned()].into(),
            closed: true,
        })
    }

    #[test]
    fn facts_read_back_as_written() {
        let day = day();
        let photos: BTreeSet<String> = ["ab".repeat(32)].into();
        for facts in [
            patrol(),
            Facts::Problem(ProblemFacts {
                zone: "z1".into(),
                raised: day,
                deadline: None,
                status: ProblemStatus::Open,
                description: "电缆吊挂不规范".into(),
                responsible: "u2".into(),
                major: false,
                photos: vec!["ab".repeat(32)],
            }),
            Facts::Sheet(vec![("z1".into(), zonepatrol_shared::Points(9_250))]),
        ] {
            let bytes = encode(&facts, &photos).expect("a record");
            assert_eq!(bytes[0], VERSION);
            assert_eq!(decode(&bytes), Ok((facts, photos.clone())));
        }
        assert_eq!(encode(&Facts::None, &photos), None);
    }

    /// The bytes of records of each common kind, as this version writes them. A change of the
    /// facts' types or of their encoding changes them: then raise [`VERSION`] (so that a start
    /// reads every document again instead of misreading the kept records) and write the new
    /// bytes here.
    #[test]
    fn the_records_keep_their_form() {
        let day = day();
        let photos: BTreeSet<String> = ["ab".to_owned()].into();
        let cases = [
            (
                patrol(),
                "050100010a323032362d31312d30340102753101027a310101026162",
            ),
            (
                Facts::Problem(ProblemFacts {
                    zone: "z1".into(),
                    raised: day,
                    deadline: Some(day),
                    status: ProblemStatus::Rectified,
                    description: "d".into(),
                    responsible: "u2".into(),
                    major: true,
                    photos: vec!["cd".into()],
                }),
                "0504027a310a323032362d31312d3034010a323032362d31312d3034010164027532010102636401026162",
            ),
            (
                Facts::Directory(crate::consolidate::BranchFacts {
                    name: "综采一队".into(),
                    posts: [(
                        "p1".to_owned(),
                        crate::consolidate::PostFacts {
                            zone: "z1".into(),
                            title: "t".into(),
                            starts: Some(day),
                            steps: vec![(day, zonepatrol_shared::docs::PostStep::Approve)],
                            ..Default::default()
                        },
                    )]
                    .into(),
                    ..Default::default()
                }),
                "05000ce7bbbce98787e4b880e9989f000001027031027a310174000000010a323032362d31312d303400010a323032362d31312d303401000001026162",
            ),
            (
                Facts::Report(Box::new({
                    use zonepatrol_shared::docs::{Document, Header, Report, ZoneResult};
                    let id = zonepatrol_shared::docs::DocId::report(
                        "b",
                        "2026-11".parse().expect("a month"),
                    );
                    let mut r = Report::born(Header::for_id(&id));
                    r.zones.insert(
                        "z1".into(),
                        ZoneResult {
                            score: Some(zonepatrol_shared::Points(9_000)),
                            rank: 1,
                            self_check: Some(zonepatrol_shared::Points(9_500)),
                            ..Default::default()
                        },
                    );
                    r
                })),
                "0507067265706f727401107265706f72743a623a323032362d313101620001027a3101d08c0101000000000000000000000001b8940100000000000000000000000000000001026162",
            ),
            (
                Facts::Sheet(vec![("z1".into(), zonepatrol_shared::Points(9_250))]),
                "050201027a31c4900101026162",
            ),
            (
                Facts::Assessment(
                    [("a".to_owned(), zonepatrol_shared::Points(1_000))].into(),
                    [("b".to_owned(), zonepatrol_shared::Points(900))].into(),
                ),
                "0503010161d00f010162880e01026162",
            ),
            (
                Facts::Evaluation(crate::consolidate::EvaluationFacts {
                    marks: [("b2".to_owned(), zonepatrol_shared::Points(8_600))].into(),
                    bonus: zonepatrol_shared::Points(250),
                }),
                "050901026232b08601f40301026162",
            ),
        ];
        let changed: Vec<String> = cases
            .iter()
            .filter_map(|(facts, expected)| {
                let now = hex::encode(encode(facts, &photos).expect("a record"));
                (now != *expected).then(|| format!("{expected} is now {now}"))
            })
            .collect();
        assert!(changed.is_empty(), "{changed:#?}");
    }

    #[test]
    fn a_damaged_or_foreign_record_is_refused() {
        let facts = Facts::Sheet(vec![("z1".into(), zonepatrol_shared::Points(9_250))]);
        let bytes = encode(&facts, &BTreeSet::new()).expect("a record");
        let mut other = bytes.clone();
        other[0] = VERSION + 1;
        assert!(
            decode(&other)
                .expect_err("another version is refused")
                .contains("version")
        );
        assert!(decode(&[]).is_err());
        assert!(decode(&bytes[..bytes.len() / 2]).is_err());
        assert!(decode(&[VERSION, 200, 200, 200]).is_err());
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode(&longer).is_err(), "bytes left over are refused");
    }

    #[test]
    fn the_stamp_follows_the_settings() {
        let rules = RulesConfig::default();
        let clock = MineClock::default();
        assert_eq!(stamp(&rules, &clock), stamp(&rules, &clock));
        let other = MineClock {
            tz: chrono_tz::Asia::Urumqi,
        };
        assert_ne!(stamp(&rules, &clock), stamp(&rules, &other));
        let mut more = rules.clone();
        more.inspection.min_sheets += 1;
        assert_ne!(stamp(&rules, &clock), stamp(&more, &clock));
    }
}
