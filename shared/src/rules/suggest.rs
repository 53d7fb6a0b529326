//! Suggested monthly item scores from the month's evidence (seed 002: 自动跟踪、自动检查、
//! 自动考核). A suggestion is only a suggestion: the secretary's branch score is final. Each
//! carries a reason a secretary can read, in Chinese or English.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::Severity;
use crate::points::{Points, div_round};
use crate::rules::AssessmentForm;
use crate::rules::problem::ProblemStatus;

/// The ten items of the monthly zone assessment, 10 points each by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssessmentItem {
    /// 安全.
    Safety,
    /// 任务 (production task).
    Task,
    /// 成本.
    Cost,
    /// 综合治理.
    Governance,
    /// 文明生产 (housekeeping).
    Housekeeping,
    /// 设备.
    Equipment,
    /// 质量标准化.
    QualityStandard,
    /// 劳动纪律.
    Discipline,
    /// 学习.
    Learning,
    /// 队伍稳定.
    Stability,
}

impl AssessmentItem {
    /// All ten, in the order of the assessment form.
    pub const ALL: [AssessmentItem; 10] = [
        AssessmentItem::Safety,
        AssessmentItem::Task,
        AssessmentItem::Cost,
        AssessmentItem::Governance,
        AssessmentItem::Housekeeping,
        AssessmentItem::Equipment,
        AssessmentItem::QualityStandard,
        AssessmentItem::Discipline,
        AssessmentItem::Learning,
        AssessmentItem::Stability,
    ];

    /// The stable key used in documents.
    pub fn key(self) -> &'static str {
        match self {
            AssessmentItem::Safety => "safety",
            AssessmentItem::Task => "task",
            AssessmentItem::Cost => "cost",
            AssessmentItem::Governance => "governance",
            AssessmentItem::Housekeeping => "housekeeping",
            AssessmentItem::Equipment => "equipment",
            AssessmentItem::QualityStandard => "quality_standard",
            AssessmentItem::Discipline => "discipline",
            AssessmentItem::Learning => "learning",
            AssessmentItem::Stability => "stability",
        }
    }

    /// The item for a document key.
    pub fn from_key(key: &str) -> Option<AssessmentItem> {
        AssessmentItem::ALL.into_iter().find(|i| i.key() == key)
    }

    /// The item's name in Chinese.
    pub fn label_zh(self) -> &'static str {
        crate::labels::assessment_item_label(crate::labels::Lang::Zh, self)
    }

    /// Each item's maximum.
    pub const MAX: Points = Points::whole(10);
}

/// A problem as the month's evidence sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProblemEvidence {
    /// How serious it is.
    pub severity: Severity,
    /// Its deadline.
    pub deadline: NaiveDate,
    /// The day of its first rectification, if any.
    pub rectified_on: Option<NaiveDate>,
    /// Its status at the end of the month.
    pub status: ProblemStatus,
}

/// What happened in a zone during a month.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MonthEvidence {
    /// The zone's weekly inspection results (out of 100) in the month.
    pub inspections: Vec<Points>,
    /// Problems raised in the zone during the month.
    pub problems: Vec<ProblemEvidence>,
    /// Person-times of each cleanup logged in the zone during the month.
    pub cleanups: Vec<u32>,
    /// The last day of the month, to judge what is overdue.
    pub month_end: Option<NaiveDate>,
}

/// Why a score was suggested; rendered in the user's language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "because", rename_all = "snake_case")]
pub enum Reason {
    /// From the mean of the month's inspections.
    Inspections { count: usize, mean: Points },
    /// From the problems found.
    Problems { major: usize, general: usize },
    /// From how problems were rectified.
    Timeliness {
        overdue: usize,
        late: usize,
        on_time: usize,
    },
    /// From the inspections and the cleanups logged.
    Housekeeping {
        mean: Points,
        cleanups: usize,
        person_times: u32,
    },
}

impl Reason {
    /// The reason in Chinese.
    pub fn text_zh(&self) -> String {
        match self {
            Reason::Inspections { count, mean } => format!("本月{count}次检查平均{mean}分"),
            Reason::Problems {
                major: 0,
                general: 0,
            } => "本月未发现问题".to_owned(),
            Reason::Problems { major, general } => {
                format!("本月发现重大问题{major}项、一般问题{general}项")
            }
            Reason::Timeliness {
                overdue,
                late,
                on_time,
            } => {
                format!("按期整改{on_time}项，逾期整改{late}项，逾期未整改{overdue}项")
            }
            Reason::Housekeeping {
                mean,
                cleanups,
                person_times,
            } => {
                format!("检查平均{mean}分，整治{cleanups}次共{person_times}人次")
            }
        }
    }

    /// The reason in English.
    pub fn text_en(&self) -> String {
        match self {
            Reason::Inspections { count, mean } => {
                format!("{count} inspections this month, mean {mean}")
            }
            Reason::Problems {
                major: 0,
                general: 0,
            } => "no problems found this month".to_owned(),
            Reason::Problems { major, general } => {
                format!("{major} major and {general} general problems found this month")
            }
            Reason::Timeliness {
                overdue,
                late,
                on_time,
            } => format!(
                "{on_time} fixed on time, {late} fixed late, {overdue} overdue and not fixed"
            ),
            Reason::Housekeeping {
                mean,
                cleanups,
                person_times,
            } => {
                format!("inspections mean {mean}; {cleanups} cleanups, {person_times} person-times")
            }
        }
    }
}

/// A suggested score for one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggestion {
    /// Which item.
    pub item: AssessmentItem,
    /// The suggested score, between zero and the item's maximum.
    pub score: Points,
    /// Why.
    pub reason: Reason,
}

/// The deductions and credits behind the suggestions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuggestRule {
    /// Safety: off per major problem found.
    pub per_major: Points,
    /// Safety: off per general problem found.
    pub per_general: Points,
    /// Governance: off per problem overdue and not fixed at month end.
    pub per_overdue: Points,
    /// Governance: off per problem fixed after its deadline.
    pub per_late: Points,
    /// Housekeeping: credit per cleanup logged, up to the maximum.
    pub per_cleanup: Points,
}

impl Default for SuggestRule {
    fn default() -> SuggestRule {
        SuggestRule {
            per_major: Points::whole(3),
            per_general: Points(50),
            per_overdue: Points::whole(2),
            per_late: Points::whole(1),
            per_cleanup: Points(50),
        }
    }
}

impl SuggestRule {
    /// Suggestions for the items the evidence speaks to: quality standard and housekeeping
    /// from inspections, safety and governance from problems. Items with no evidence get no
    /// suggestion; the secretary scores them by hand. Each is scaled to what the month's form
    /// makes the item worth; an item the form does not have gets none.
    pub fn suggest(&self, evidence: &MonthEvidence, form: &AssessmentForm) -> Vec<Suggestion> {
        let max_of = |item: AssessmentItem| form.max_of(item.key()).unwrap_or(Points::ZERO);
        let clamp = |p: Points, item: AssessmentItem| p.at_least_zero().min(max_of(item));
        let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        let mut out = Vec::new();

        let mean = (!evidence.inspections.is_empty()).then(|| {
            let sum: i128 = evidence.inspections.iter().map(|p| i128::from(p.0)).sum();
            Points(div_round(sum, evidence.inspections.len() as i128) as i64)
        });
        if let Some(mean) = mean {
            // A mean of 92.5 out of 100 suggests 9.25 out of 10.
            let scaled = |item: AssessmentItem| {
                Points(div_round(i128::from(mean.0) * i128::from(max_of(item).0), 10_000) as i64)
            };
            let item = AssessmentItem::QualityStandard;
            out.push(Suggestion {
                item,
                score: clamp(scaled(item), item),
                reason: Reason::Inspections {
                    count: evidence.inspections.len(),
                    mean,
                },
            });
            let person_times: u32 = evidence
                .cleanups
                .iter()
                .copied()
                .fold(0, u32::saturating_add);
            let item = AssessmentItem::Housekeeping;
            out.push(Suggestion {
                item,
                score: clamp(
                    scaled(item) + self.per_cleanup.times(count(evidence.cleanups.len())),
                    item,
                ),
                reason: Reason::Housekeeping {
                    mean,
                    cleanups: evidence.cleanups.len(),
                    person_times,
                },
            });
        }

        if mean.is_some() || !evidence.problems.is_empty() {
            let major = evidence
                .problems
                .iter()
                .filter(|p| p.severity == Severity::Major)
                .count();
            let general = evidence.problems.len() - major;
            let item = AssessmentItem::Safety;
            out.push(Suggestion {
                item,
                score: clamp(
                    max_of(item)
                        - self.per_major.times(count(major))
                        - self.per_general.times(count(general)),
                    item,
                ),
                reason: Reason::Problems { major, general },
            });
        }

        if !evidence.problems.is_empty() {
            let (mut overdue, mut late, mut on_time) = (0, 0, 0);
            for p in &evidence.problems {
                match p.rectified_on {
                    Some(day) if day <= p.deadline => on_time += 1,
                    Some(_) => late += 1,
                    None => {
                        let past = evidence.month_end.is_some_and(|end| end > p.deadline);
                        if past && p.status.awaits_rectification() {
                            overdue += 1;
                        }
                    }
                }
            }
            let item = AssessmentItem::Governance;
            out.push(Suggestion {
                item,
                score: clamp(
                    max_of(item)
                        - self.per_overdue.times(count(overdue))
                        - self.per_late.times(count(late)),
                    item,
                ),
                reason: Reason::Timeliness {
                    overdue,
                    late,
                    on_time,
                },
            });
        }

        out.retain(|s| form.get(s.item.key()).is_some());
        out.sort_by_key(|s| s.item);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AssessmentItem::*;

    fn p(s: &str) -> Points {
        s.parse().expect("test points")
    }
    fn d(s: &str) -> NaiveDate {
        s.parse().expect("test date")
    }
    fn problem(
        severity: Severity,
        deadline: &str,
        rectified: Option<&str>,
        status: ProblemStatus,
    ) -> ProblemEvidence {
        ProblemEvidence {
            severity,
            deadline: d(deadline),
            rectified_on: rectified.map(d),
            status,
        }
    }

    /// Runs the default rule and compares `(item, score, Chinese reason)`.
    fn check(evidence: MonthEvidence, want: &[(AssessmentItem, &str, &str)]) {
        let got: Vec<(AssessmentItem, Points, String)> = SuggestRule::default()
            .suggest(&evidence, &AssessmentForm::default())
            .into_iter()
            .map(|s| (s.item, s.score, s.reason.text_zh()))
            .collect();
        let want: Vec<(AssessmentItem, Points, String)> = want
            .iter()
            .map(|&(i, s, r)| (i, p(s), r.to_owned()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn suggestions_follow_the_months_form() {
        let mut form = AssessmentForm::default();
        form.items
            .retain(|i| i.key != "governance" && i.key != "learning");
        for i in &mut form.items {
            if i.key == "safety" || i.key == "quality_standard" {
                i.max = Points::whole(20);
            }
        }
        assert_eq!(form.check(), Ok(()));
        let evidence = MonthEvidence {
            inspections: vec![p("90")],
            problems: vec![problem(
                Severity::Major,
                "2026-11-10",
                None,
                ProblemStatus::Open,
            )],
            cleanups: vec![],
            month_end: Some(d("2026-11-30")),
        };
        let got: Vec<(AssessmentItem, Points)> = SuggestRule::default()
            .suggest(&evidence, &form)
            .into_iter()
            .map(|s| (s.item, s.score))
            .collect();
        assert_eq!(
            got,
            [
                (Safety, p("17")),
                (Housekeeping, p("9")),
                (QualityStandard, p("18")),
            ],
            "scaled to 20 where the form says 20; governance is not on this form"
        );
    }

    #[test]
    fn no_evidence_no_suggestion() {
        check(MonthEvidence::default(), &[]);
    }

    #[test]
    fn inspections_alone() {
        check(
            MonthEvidence {
                inspections: vec![p("90"), p("95")],
                ..Default::default()
            },
            &[
                (Safety, "10", "本月未发现问题"),
                (Housekeeping, "9.25", "检查平均92.5分，整治0次共0人次"),
                (QualityStandard, "9.25", "本月2次检查平均92.5分"),
            ],
        );
    }

    #[test]
    fn problems_and_cleanups() {
        use ProblemStatus::*;
        use Severity::*;
        check(
            MonthEvidence {
                inspections: vec![p("80")],
                problems: vec![
                    problem(Major, "2026-11-10", Some("2026-11-09"), Verified),
                    problem(General, "2026-11-10", Some("2026-11-12"), Rectified),
                    problem(General, "2026-11-20", None, Open),
                    problem(General, "2026-12-05", None, Open),
                ],
                cleanups: vec![12, 30, 5, 1, 1],
                month_end: Some(d("2026-11-30")),
            },
            &[
                (Safety, "5.5", "本月发现重大问题1项、一般问题3项"),
                (Governance, "7", "按期整改1项，逾期整改1项，逾期未整改1项"),
                (Housekeeping, "10", "检查平均80分，整治5次共49人次"),
                (QualityStandard, "8", "本月1次检查平均80分"),
            ],
        );
    }

    #[test]
    fn suggestions_stay_between_zero_and_ten() {
        let many = vec![problem(Severity::Major, "2026-11-01", None, ProblemStatus::Open); 9];
        check(
            MonthEvidence {
                problems: many,
                month_end: Some(d("2026-11-30")),
                ..Default::default()
            },
            &[
                (Safety, "0", "本月发现重大问题9项、一般问题0项"),
                (Governance, "0", "按期整改0项，逾期整改0项，逾期未整改9项"),
            ],
        );
    }

    #[test]
    fn reasons_read_in_english_too() {
        let r = Reason::Timeliness {
            overdue: 1,
            late: 0,
            on_time: 2,
        };
        assert_eq!(
            r.text_en(),
            "2 fixed on time, 0 fixed late, 1 overdue and not fixed"
        );
        assert_eq!(
            Reason::Problems {
                major: 0,
                general: 0
            }
            .text_en(),
            "no problems found this month"
        );
    }

    #[test]
    fn item_keys_round_trip() {
        for item in AssessmentItem::ALL {
            assert_eq!(AssessmentItem::from_key(item.key()), Some(item));
        }
        assert_eq!(AssessmentItem::from_key("bribery"), None);
    }
}
