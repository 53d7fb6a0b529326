//! Document kinds and ids.
//!
//! An id names the kind, the branch and what the document is about, separated by colons:
//!
//! | kind | id |
//! |---|---|
//! | directory | `directory:BRANCH` |
//! | patrol | `patrol:BRANCH:PATROL` |
//! | sheet | `sheet:BRANCH:PATROL:INSPECTOR` |
//! | problem | `problem:BRANCH:PROBLEM` |
//! | cleanup | `cleanup:BRANCH:CLEANUP` |
//! | assessment | `assessment:BRANCH:ZONE:YYYY-MM` |
//! | report | `report:BRANCH:PERIOD` |
//! | publication | `publication:BRANCH` |
//! | evaluation | `evaluation:BRANCH:YYYY-Qn` |
//! | rules | `rules` (the whole mine's: its branch is empty) |
//!
//! Each name is 1–64 characters of ASCII letters, digits, `-`, `_` and `.`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::rules::period::{Period, PeriodKind};

/// The kinds of document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    /// A branch's zones, posts, members and templates.
    Directory,
    /// One inspection walk.
    Patrol,
    /// One inspector's scores on one patrol.
    Sheet,
    /// One problem found, and its rectification.
    Problem,
    /// One cleanup log.
    Cleanup,
    /// One zone's monthly assessment.
    Assessment,
    /// The server's results for a branch and period.
    Report,
    /// A branch's published and reopened periods.
    Publication,
    /// The mine's rules, by version.
    Rules,
    /// A branch's quarter in the mutual evaluation: the marks it gives the other branches, and
    /// the special-activity bonuses managers give it.
    Evaluation,
}

impl DocKind {
    /// Every kind.
    pub const ALL: [DocKind; 10] = [
        DocKind::Directory,
        DocKind::Patrol,
        DocKind::Sheet,
        DocKind::Problem,
        DocKind::Cleanup,
        DocKind::Assessment,
        DocKind::Report,
        DocKind::Publication,
        DocKind::Rules,
        DocKind::Evaluation,
    ];

    /// The name used in ids and headers.
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Directory => "directory",
            DocKind::Patrol => "patrol",
            DocKind::Sheet => "sheet",
            DocKind::Problem => "problem",
            DocKind::Cleanup => "cleanup",
            DocKind::Assessment => "assessment",
            DocKind::Report => "report",
            DocKind::Publication => "publication",
            DocKind::Rules => "rules",
            DocKind::Evaluation => "evaluation",
        }
    }
}

impl fmt::Display for DocKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A document's id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DocId {
    /// `directory:BRANCH`.
    Directory { branch: String },
    /// `patrol:BRANCH:PATROL`.
    Patrol { branch: String, patrol: String },
    /// `sheet:BRANCH:PATROL:INSPECTOR`.
    Sheet {
        branch: String,
        patrol: String,
        inspector: String,
    },
    /// `problem:BRANCH:PROBLEM`.
    Problem { branch: String, problem: String },
    /// `cleanup:BRANCH:CLEANUP`.
    Cleanup { branch: String, cleanup: String },
    /// `assessment:BRANCH:ZONE:YYYY-MM`.
    Assessment {
        branch: String,
        zone: String,
        month: Period,
    },
    /// `report:BRANCH:PERIOD`.
    Report { branch: String, period: Period },
    /// `publication:BRANCH`.
    Publication { branch: String },
    /// `rules`: the mine's, with no branch.
    Rules,
    /// `evaluation:BRANCH:YYYY-Qn`.
    Evaluation { branch: String, quarter: Period },
}

/// Why a text is not a document id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("“{id}” is not a document id: {why}")]
pub struct DocIdError {
    /// The text.
    pub id: String,
    /// What is wrong with it.
    pub why: &'static str,
}

/// Whether a name may stand in an id.
pub fn is_valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

impl DocId {
    /// The kind.
    pub fn kind(&self) -> DocKind {
        match self {
            DocId::Directory { .. } => DocKind::Directory,
            DocId::Patrol { .. } => DocKind::Patrol,
            DocId::Sheet { .. } => DocKind::Sheet,
            DocId::Problem { .. } => DocKind::Problem,
            DocId::Cleanup { .. } => DocKind::Cleanup,
            DocId::Assessment { .. } => DocKind::Assessment,
            DocId::Report { .. } => DocKind::Report,
            DocId::Publication { .. } => DocKind::Publication,
            DocId::Evaluation { .. } => DocKind::Evaluation,
            DocId::Rules => DocKind::Rules,
        }
    }

    /// The branch.
    pub fn branch(&self) -> &str {
        match self {
            DocId::Directory { branch }
            | DocId::Patrol { branch, .. }
            | DocId::Sheet { branch, .. }
            | DocId::Problem { branch, .. }
            | DocId::Cleanup { branch, .. }
            | DocId::Assessment { branch, .. }
            | DocId::Report { branch, .. }
            | DocId::Evaluation { branch, .. }
            | DocId::Publication { branch } => branch,
            DocId::Rules => "",
        }
    }
}

/// Constructors, one a kind, so that an id is never assembled from text by hand, and the ids
/// a document's checks and listings refer to.
impl DocId {
    /// `directory:BRANCH`: the branch's zones, posts, members and templates.
    pub fn directory(branch: impl Into<String>) -> DocId {
        DocId::Directory {
            branch: branch.into(),
        }
    }

    /// `rules`: the mine's rules.
    pub fn rules() -> DocId {
        DocId::Rules
    }

    /// `publication:BRANCH`: the branch's published and reopened periods.
    pub fn publication(branch: impl Into<String>) -> DocId {
        DocId::Publication {
            branch: branch.into(),
        }
    }

    /// `patrol:BRANCH:PATROL`.
    pub fn patrol(branch: impl Into<String>, patrol: impl Into<String>) -> DocId {
        DocId::Patrol {
            branch: branch.into(),
            patrol: patrol.into(),
        }
    }

    /// `sheet:BRANCH:PATROL:INSPECTOR`: one inspector's sheet on a patrol.
    pub fn sheet(
        branch: impl Into<String>,
        patrol: impl Into<String>,
        inspector: impl Into<String>,
    ) -> DocId {
        DocId::Sheet {
            branch: branch.into(),
            patrol: patrol.into(),
            inspector: inspector.into(),
        }
    }

    /// `problem:BRANCH:PROBLEM`.
    pub fn problem(branch: impl Into<String>, problem: impl Into<String>) -> DocId {
        DocId::Problem {
            branch: branch.into(),
            problem: problem.into(),
        }
    }

    /// `cleanup:BRANCH:CLEANUP`.
    pub fn cleanup(branch: impl Into<String>, cleanup: impl Into<String>) -> DocId {
        DocId::Cleanup {
            branch: branch.into(),
            cleanup: cleanup.into(),
        }
    }

    /// `assessment:BRANCH:ZONE:YYYY-MM`. The id parser refuses any period but a month; so
    /// should the caller.
    pub fn assessment(branch: impl Into<String>, zone: impl Into<String>, month: Period) -> DocId {
        DocId::Assessment {
            branch: branch.into(),
            zone: zone.into(),
            month,
        }
    }

    /// `evaluation:BRANCH:YYYY-Qn`. The id parser refuses any period but a quarter; so should
    /// the caller.
    pub fn evaluation(branch: impl Into<String>, quarter: Period) -> DocId {
        DocId::Evaluation {
            branch: branch.into(),
            quarter,
        }
    }

    /// `report:BRANCH:PERIOD`.
    pub fn report(branch: impl Into<String>, period: Period) -> DocId {
        DocId::Report {
            branch: branch.into(),
            period,
        }
    }

    /// The text every id of a kind in a branch begins with (`patrol:b1:`), to list a
    /// branch's patrols, problems, cleanups, assessments or reports by prefix. The
    /// one-a-branch kinds (directory, publication) have no ids below it: use their id.
    pub fn prefix(kind: DocKind, branch: &str) -> String {
        format!("{kind}:{branch}:")
    }

    /// The directory of this document's branch.
    pub fn branch_directory(&self) -> DocId {
        DocId::directory(self.branch())
    }

    /// The publication of this document's branch.
    pub fn branch_publication(&self) -> DocId {
        DocId::publication(self.branch())
    }

    /// For a sheet, the patrol it scores; `None` for any other kind.
    pub fn sheet_patrol(&self) -> Option<DocId> {
        match self {
            DocId::Sheet { branch, patrol, .. } => Some(DocId::patrol(branch, patrol)),
            _ => None,
        }
    }
}

impl fmt::Display for DocId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = self.kind();
        match self {
            DocId::Directory { branch } | DocId::Publication { branch } => {
                write!(f, "{kind}:{branch}")
            }
            DocId::Rules => write!(f, "{kind}"),
            DocId::Patrol { branch, patrol } => write!(f, "{kind}:{branch}:{patrol}"),
            DocId::Sheet {
                branch,
                patrol,
                inspector,
            } => {
                write!(f, "{kind}:{branch}:{patrol}:{inspector}")
            }
            DocId::Problem { branch, problem } => write!(f, "{kind}:{branch}:{problem}"),
            DocId::Cleanup { branch, cleanup } => write!(f, "{kind}:{branch}:{cleanup}"),
            DocId::Assessment {
                branch,
                zone,
                month,
            } => write!(f, "{kind}:{branch}:{zone}:{month}"),
            DocId::Report { branch, period } => write!(f, "{kind}:{branch}:{period}"),
            DocId::Evaluation { branch, quarter } => write!(f, "{kind}:{branch}:{quarter}"),
        }
    }
}

impl FromStr for DocId {
    type Err = DocIdError;

    fn from_str(s: &str) -> Result<DocId, DocIdError> {
        let fail = |why| DocIdError {
            id: s.chars().take(200).collect(),
            why,
        };
        let parts: Vec<&str> = s.split(':').collect();
        if parts.iter().skip(1).any(|p| !is_valid_name(p)) {
            return Err(fail("each name is 1–64 letters, digits, “-”, “_” or “.”"));
        }
        let o = |p: &str| p.to_owned();
        let id = match parts.as_slice() {
            ["rules"] => DocId::Rules,
            ["directory", b] => DocId::Directory { branch: o(b) },
            ["publication", b] => DocId::Publication { branch: o(b) },
            ["patrol", b, p] => DocId::Patrol {
                branch: o(b),
                patrol: o(p),
            },
            ["sheet", b, p, i] => DocId::Sheet {
                branch: o(b),
                patrol: o(p),
                inspector: o(i),
            },
            ["problem", b, p] => DocId::Problem {
                branch: o(b),
                problem: o(p),
            },
            ["cleanup", b, c] => DocId::Cleanup {
                branch: o(b),
                cleanup: o(c),
            },
            ["assessment", b, z, m] => {
                let month: Period = m
                    .parse()
                    .map_err(|_| fail("the month is written 2026-11"))?;
                if month.kind() != PeriodKind::Month {
                    return Err(fail("the month is written 2026-11"));
                }
                DocId::Assessment {
                    branch: o(b),
                    zone: o(z),
                    month,
                }
            }
            ["report", b, p] => {
                let period = p.parse().map_err(|_| fail("the period is not valid"))?;
                DocId::Report {
                    branch: o(b),
                    period,
                }
            }
            ["evaluation", b, q] => {
                let quarter: Period = q
                    .parse()
                    .map_err(|_| fail("the quarter is written 2026-Q4"))?;
                if quarter.kind() != PeriodKind::Quarter {
                    return Err(fail("the quarter is written 2026-Q4"));
                }
                DocId::Evaluation {
                    branch: o(b),
                    quarter,
                }
            }
            [kind, ..] if DocKind::ALL.iter().any(|k| k.as_str() == *kind) => {
                return Err(fail("wrong number of parts for its kind"));
            }
            _ => return Err(fail("unknown kind")),
        };
        Ok(id)
    }
}

impl Serialize for DocId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DocId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<DocId, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        for text in [
            "directory:b1",
            "publication:b1",
            "patrol:b1:p-20261121-1",
            "sheet:b1:p-1:wang.wei",
            "problem:b1:0c7d2f1a",
            "cleanup:b1:c_1",
            "assessment:b1:z802:2026-11",
            "report:b1:2026-W47",
            "report:b1:2026-Q4",
        ] {
            let id: DocId = text.parse().expect(text);
            assert_eq!(id.to_string(), text);
            assert_eq!(id.branch(), "b1");
            assert_eq!(text.split(':').next(), Some(id.kind().as_str()));
        }
    }

    #[test]
    fn constructors_make_the_ids_they_name() {
        let month: Period = "2026-11".parse().expect("month");
        let cases = [
            (DocId::directory("b1"), "directory:b1"),
            (DocId::publication("b1"), "publication:b1"),
            (DocId::patrol("b1", "p1"), "patrol:b1:p1"),
            (DocId::sheet("b1", "p1", "wang"), "sheet:b1:p1:wang"),
            (DocId::problem("b1", "x"), "problem:b1:x"),
            (DocId::cleanup("b1", "c1"), "cleanup:b1:c1"),
            (
                DocId::assessment("b1", "z1", month),
                "assessment:b1:z1:2026-11",
            ),
            (DocId::report("b1", month), "report:b1:2026-11"),
        ];
        for (id, text) in cases {
            assert_eq!(id.to_string(), text);
            assert_eq!(text.parse::<DocId>(), Ok(id.clone()));
            assert_eq!(id.branch_directory(), DocId::directory("b1"));
            assert_eq!(id.branch_publication(), DocId::publication("b1"));
        }
        assert_eq!(DocId::prefix(DocKind::Problem, "b1"), "problem:b1:");
        assert!(
            DocId::problem("b1", "x")
                .to_string()
                .starts_with(&DocId::prefix(DocKind::Problem, "b1"))
        );
        assert_eq!(
            DocId::sheet("b1", "p1", "wang").sheet_patrol(),
            Some(DocId::patrol("b1", "p1"))
        );
        assert_eq!(DocId::patrol("b1", "p1").sheet_patrol(), None);
    }

    #[test]
    fn bad_ids_are_refused_with_a_reason() {
        let cases = [
            ("", "unknown kind"),
            ("zone:b1", "unknown kind"),
            ("directory", "wrong number of parts"),
            ("sheet:b1:p1", "wrong number of parts"),
            ("directory:b1:extra", "wrong number of parts"),
            ("directory:", "each name"),
            ("patrol:b1:has space", "each name"),
            ("patrol:b1:中文", "each name"),
            ("assessment:b1:z1:2026-W47", "the month"),
            ("assessment:b1:z1:2026-13", "the month"),
            ("report:b1:someday", "the period"),
        ];
        for (text, why) in cases {
            let err = text.parse::<DocId>().expect_err(text);
            assert!(err.why.contains(why), "{text}: {err}");
        }
        let long = format!("directory:{}", "x".repeat(65));
        assert!(long.parse::<DocId>().is_err());
    }
}
