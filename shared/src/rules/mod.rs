//! The rules that turn what people record into scores, rankings and money.
//!
//! Every function here is pure: same input, same answer, on every device and on the server.
//! Thresholds and rates are configuration ([`RulesConfig`]) with the seed documents' values as
//! defaults.

pub mod assessment;
pub mod cadence;
pub mod grade;
pub mod inspection;
pub mod money;
pub mod mutual;
pub mod period;
pub mod problem;
pub mod scoring;
pub mod suggest;

use serde::{Deserialize, Serialize};

pub use assessment::{AssessmentForm, FormItem};
pub use grade::{Grade, GradeThresholds, Thresholds};
pub use inspection::{InspectionRule, Ranked, rank};
pub use money::{MoneyRule, SharesError, check_shares, split};
pub use mutual::MutualRule;
pub use period::{MineClock, Period, PeriodKind};
pub use problem::{ProblemStatus, Step};
pub use scoring::{ItemMark, ItemScore, SheetScore};

/// Every configurable figure of the rules, with the defaults from the seed documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RulesConfig {
    /// Bonus and penalty from a final monthly score.
    pub money: MoneyRule,
    /// How inspectors' totals become a zone's weekly result.
    pub inspection: InspectionRule,
    /// Pass and excellent thresholds by branch category.
    pub grades: GradeThresholds,
    /// The monthly assessment's items and what each is worth.
    pub assessment: AssessmentForm,
    /// The mutual evaluation's weight in the branch composite.
    #[serde(default)]
    pub mutual: MutualRule,
}
