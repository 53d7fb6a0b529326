//! The mine's rules as a document: the money rate and its thresholds, the category pass and
//! excellent marks, how many inspectors before the highest and lowest are dropped, the fewest
//! sheets a weekly result needs, the monthly assessment's items and their points. Each change is a new version on the record (who, when) that
//! applies from a month onward; versions are never changed or removed, so a period is always
//! computed with the rules of its month, and a published period keeps what it was computed
//! with.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use super::Header;
use crate::domain::BranchCategory;
use crate::points::Points;
use crate::rules::period::{Period, PeriodKind};
use crate::rules::{
    AssessmentForm, FormItem, GradeThresholds, InspectionRule, MoneyRule, MutualRule, RulesConfig,
};

/// One for the whole mine (`rules`). Written by admins alone.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Rules {
    /// Fixed at genesis.
    pub header: Header,
    /// Versions by id, append-only.
    pub versions: BTreeMap<String, RuleVersion>,
}

/// A category's pass and excellent marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Reconcile, Hydrate)]
pub struct GradeMarks {
    /// The lowest passing score.
    pub pass: Points,
    /// The lowest excellent score.
    pub excellent: Points,
}

/// The rules from a month onward.
#[derive(Debug, Clone, PartialEq, Eq, Default, Reconcile, Hydrate)]
pub struct RuleVersion {
    /// The first month they apply to (`2026-12`).
    pub from: String,
    /// When they were written (ms).
    pub at: i64,
    /// Who wrote them.
    pub by: String,
    /// Scores above this earn the bonus.
    pub bonus_above: Points,
    /// Scores below this cost the penalty.
    pub penalty_below: Points,
    /// Fen per whole point beyond either.
    pub fen_per_point: i64,
    /// From this many inspectors the highest and lowest scores are dropped.
    pub trim_from: u64,
    /// The fewest sheets a zone's weekly result needs.
    pub min_sheets: u64,
    /// Pass and excellent marks by category number (`1`–`4`).
    pub grades: BTreeMap<String, GradeMarks>,
    /// The monthly assessment's items in order. Versions written before the form could be
    /// changed have none: theirs is the default form.
    #[autosurgeon(missing = "Default::default")]
    pub assessment: Vec<FormItem>,
    /// The mutual evaluation's weight in the branch composite, percent. Versions written
    /// before it existed have none: theirs is the default.
    #[autosurgeon(missing = "Default::default")]
    pub mutual_weight: Option<u64>,
}

impl RuleVersion {
    /// A version saying what `config` says.
    pub fn of(config: &RulesConfig, from: Period, at: i64, by: impl Into<String>) -> RuleVersion {
        RuleVersion {
            from: from.to_string(),
            at,
            by: by.into(),
            bonus_above: config.money.bonus_above,
            penalty_below: config.money.penalty_below,
            fen_per_point: config.money.fen_per_point,
            trim_from: config.inspection.trim_from as u64,
            min_sheets: config.inspection.min_sheets as u64,
            grades: BranchCategory::ALL
                .into_iter()
                .map(|c| {
                    let t = config.grades.of(c);
                    (
                        c.number().to_string(),
                        GradeMarks {
                            pass: t.pass,
                            excellent: t.excellent,
                        },
                    )
                })
                .collect(),
            assessment: config.assessment.items.clone(),
            mutual_weight: Some(config.mutual.weight_percent),
        }
    }

    /// The assessment form it sets (the default when it sets none).
    pub fn form(&self) -> AssessmentForm {
        if self.assessment.is_empty() {
            AssessmentForm::default()
        } else {
            AssessmentForm {
                items: self.assessment.clone(),
            }
        }
    }

    /// The first month it applies to, if it names one.
    pub fn from_month(&self) -> Option<Period> {
        self.from
            .parse::<Period>()
            .ok()
            .filter(|p| p.kind() == PeriodKind::Month)
    }

    /// The figures it sets, over `base` for anything it does not say.
    pub fn config(&self, base: &RulesConfig) -> RulesConfig {
        let mut by_category = base.grades.by_category;
        for (n, slot) in by_category.iter_mut().enumerate() {
            if let Some(g) = self.grades.get(&(n + 1).to_string()) {
                *slot = (g.pass, g.excellent);
            }
        }
        RulesConfig {
            money: MoneyRule {
                bonus_above: self.bonus_above,
                penalty_below: self.penalty_below,
                fen_per_point: self.fen_per_point,
            },
            inspection: InspectionRule {
                trim_from: usize::try_from(self.trim_from).unwrap_or(usize::MAX),
                min_sheets: usize::try_from(self.min_sheets).unwrap_or(usize::MAX),
            },
            grades: GradeThresholds { by_category },
            assessment: self.form(),
            mutual: self
                .mutual_weight
                .map_or(base.mutual, |weight_percent| MutualRule { weight_percent }),
        }
    }
}

impl Rules {
    /// The versions in the order they take effect: by first month, then by when written.
    pub fn in_effect_order(&self) -> Vec<(Period, &RuleVersion)> {
        let mut out: Vec<(Period, &String, &RuleVersion)> = self
            .versions
            .iter()
            .filter_map(|(id, v)| Some((v.from_month()?, id, v)))
            .collect();
        out.sort_by(|a, b| (a.0, a.2.at, a.1).cmp(&(b.0, b.2.at, b.1)));
        out.into_iter().map(|(p, _, v)| (p, v)).collect()
    }

    /// The assessment form of `month`: its version's, or the default.
    pub fn form_for(&self, month: Period) -> AssessmentForm {
        self.version_for(month)
            .map(RuleVersion::form)
            .unwrap_or_default()
    }

    /// The version in effect in `month`, if any.
    pub fn version_for(&self, month: Period) -> Option<&RuleVersion> {
        self.in_effect_order()
            .into_iter()
            .rev()
            .find(|(from, _)| *from <= month)
            .map(|(_, v)| v)
    }
}

document!(Rules, |header| {
    Rules {
        header,
        versions: BTreeMap::new(),
    }
});
