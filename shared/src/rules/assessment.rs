//! The monthly assessment form (责任区月度考评): its items and what each is worth. By default
//! the ten items of the seed documents at 10 points each; a mine may rename, re-weigh, add or
//! drop items in a version of its rules, as long as the form still comes to 100 points (the
//! money thresholds are marks out of 100). A month's form is fixed once the month has begun.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Days, NaiveDate};

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::labels::{Lang, assessment_item_label};
use crate::points::Points;
use crate::rules::period::Period;
use crate::rules::suggest::AssessmentItem;
use crate::validate::limits::WORK_DAYS_AHEAD;

/// What a whole form comes to.
pub const FORM_TOTAL: Points = Points::whole(100);
/// The most items a form may have.
pub const MAX_ITEMS: usize = 20;
/// An item's name: characters at most.
pub const NAME_CHARS: usize = 30;
/// An item's key: characters at most.
pub const KEY_CHARS: usize = 32;

/// Whether `month`'s form is fixed on `today`: the month may have begun on some phone (an
/// assessment may be begun [`WORK_DAYS_AHEAD`] early), and its scores are given on the form
/// it had.
pub fn form_fixed(month: Period, today: NaiveDate) -> bool {
    today
        .checked_add_days(Days::new(WORK_DAYS_AHEAD))
        .is_none_or(|ahead| month.first_day() <= ahead)
}

/// One item of the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct FormItem {
    /// The stable key scores are filed under (`safety`, `item11`): lower-case letters, digits
    /// and `_`.
    pub key: String,
    /// Its name in Chinese.
    pub zh: String,
    /// Its name in English (the Chinese one when empty).
    pub en: String,
    /// What it is worth at most.
    pub max: Points,
}

impl FormItem {
    /// Its name in a language.
    pub fn label(&self, lang: Lang) -> &str {
        match lang {
            Lang::En if !self.en.trim().is_empty() => &self.en,
            _ => &self.zh,
        }
    }

    /// The built-in item of this key, if it is one: the evidence suggests scores for some.
    pub fn built_in(&self) -> Option<AssessmentItem> {
        AssessmentItem::from_key(&self.key)
    }
}

/// The items in the order of the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssessmentForm {
    /// In order; keys unique.
    pub items: Vec<FormItem>,
}

impl Default for AssessmentForm {
    /// The ten items of the seed documents, 10 points each.
    fn default() -> AssessmentForm {
        AssessmentForm {
            items: AssessmentItem::ALL
                .into_iter()
                .map(|i| FormItem {
                    key: i.key().to_owned(),
                    zh: assessment_item_label(Lang::Zh, i).to_owned(),
                    en: assessment_item_label(Lang::En, i).to_owned(),
                    max: AssessmentItem::MAX,
                })
                .collect(),
        }
    }
}

/// Why a form cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormProblem {
    /// No items, or more than [`MAX_ITEMS`].
    Count(usize),
    /// A key that is empty, too long, or not lower-case letters, digits and `_`.
    Key(String),
    /// Two items with one key.
    Twice(String),
    /// An item with no Chinese name, or a name too long.
    Name(String),
    /// An item worth nothing, or more than the whole form.
    Max(String),
    /// The items do not come to [`FORM_TOTAL`].
    Total(Points),
}

impl FormProblem {
    /// What is wrong and what to do, in a language.
    pub fn says(&self, lang: Lang) -> String {
        match (self, lang) {
            (FormProblem::Count(n), Lang::Zh) => {
                format!("考评项目应有 1 到 {MAX_ITEMS} 项，现在有 {n} 项。")
            }
            (FormProblem::Count(n), Lang::En) => {
                format!("The form has 1 to {MAX_ITEMS} items; it has {n}.")
            }
            (FormProblem::Key(k), Lang::Zh) => {
                format!("项目代码“{k}”只能用小写字母、数字和下划线，最多 {KEY_CHARS} 个字符。")
            }
            (FormProblem::Key(k), Lang::En) => format!(
                "The item key “{k}” is lower-case letters, digits and _, at most {KEY_CHARS}."
            ),
            (FormProblem::Twice(k), Lang::Zh) => format!("项目代码“{k}”重复了。"),
            (FormProblem::Twice(k), Lang::En) => format!("The item key “{k}” is used twice."),
            (FormProblem::Name(k), Lang::Zh) => {
                format!("项目“{k}”要有中文名称，名称最多 {NAME_CHARS} 个字。")
            }
            (FormProblem::Name(k), Lang::En) => format!(
                "The item “{k}” needs a Chinese name; names are at most {NAME_CHARS} characters."
            ),
            (FormProblem::Max(k), Lang::Zh) => {
                format!("项目“{k}”的分值应大于 0，且不超过 {FORM_TOTAL}。")
            }
            (FormProblem::Max(k), Lang::En) => {
                format!("The item “{k}” is worth more than 0 and at most {FORM_TOTAL}.")
            }
            (FormProblem::Total(t), Lang::Zh) => format!(
                "各项分值合计应为 {FORM_TOTAL} 分（奖惩线按百分制），现在是 {t} 分：请调整分值。"
            ),
            (FormProblem::Total(t), Lang::En) => format!(
                "The items come to {t}; they must come to {FORM_TOTAL} (the money marks are out \
                 of 100): adjust the points."
            ),
        }
    }
}

impl AssessmentForm {
    /// The item of a key.
    pub fn get(&self, key: &str) -> Option<&FormItem> {
        self.items.iter().find(|i| i.key == key)
    }

    /// The item's maximum, if the form has it.
    pub fn max_of(&self, key: &str) -> Option<Points> {
        self.get(key).map(|i| i.max)
    }

    /// What the whole form comes to.
    pub fn full(&self) -> Points {
        self.items.iter().map(|i| i.max).sum()
    }

    /// A side's total, once every item of the form is scored.
    pub fn total(&self, scores: &BTreeMap<String, Points>) -> Option<Points> {
        self.items.iter().map(|i| scores.get(&i.key).copied()).sum()
    }

    /// Whether every item is scored, and each from 0 to its maximum, and nothing else is.
    pub fn complete(&self, scores: &BTreeMap<String, Points>) -> bool {
        scores.len() == self.items.len()
            && self.items.iter().all(|i| {
                scores
                    .get(&i.key)
                    .is_some_and(|p| Points::ZERO <= *p && *p <= i.max)
            })
    }

    /// A key for a new item, unused by this form.
    pub fn fresh_key(&self) -> String {
        (self.items.len() + 1..)
            .map(|n| format!("item{n:02}"))
            .find(|k| self.get(k).is_none())
            .unwrap_or_default()
    }

    /// Checks the form can be used: 1 to [`MAX_ITEMS`] items with unique, well-formed keys,
    /// Chinese names, each worth something, all coming to [`FORM_TOTAL`].
    pub fn check(&self) -> Result<(), FormProblem> {
        if self.items.is_empty() || self.items.len() > MAX_ITEMS {
            return Err(FormProblem::Count(self.items.len()));
        }
        let mut seen = BTreeSet::new();
        for i in &self.items {
            let key_ok = !i.key.is_empty()
                && i.key.len() <= KEY_CHARS
                && i.key
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !key_ok {
                return Err(FormProblem::Key(i.key.clone()));
            }
            if !seen.insert(i.key.as_str()) {
                return Err(FormProblem::Twice(i.key.clone()));
            }
            let long = |s: &str| s.chars().count() > NAME_CHARS;
            if i.zh.trim().is_empty() || long(&i.zh) || long(&i.en) {
                return Err(FormProblem::Name(i.key.clone()));
            }
            if i.max <= Points::ZERO || i.max > FORM_TOTAL {
                return Err(FormProblem::Max(i.label(Lang::Zh).to_owned()));
            }
        }
        let full = self.full();
        if full != FORM_TOTAL {
            return Err(FormProblem::Total(full));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scores(form: &AssessmentForm, each: Points) -> BTreeMap<String, Points> {
        form.items.iter().map(|i| (i.key.clone(), each)).collect()
    }

    #[test]
    fn the_default_form_is_the_ten_items_of_the_seeds_at_ten_points() {
        let form = AssessmentForm::default();
        assert_eq!(form.items.len(), 10);
        assert_eq!(form.full(), Points::whole(100));
        assert_eq!(form.check(), Ok(()));
        assert_eq!(form.get("safety").map(|i| i.zh.as_str()), Some("安全"));
        assert_eq!(
            form.total(&scores(&form, Points::whole(9))),
            Some(Points::whole(90))
        );
        let mut partial = scores(&form, Points::whole(9));
        partial.remove("learning");
        assert_eq!(form.total(&partial), None);
        assert!(!form.complete(&partial));
    }

    #[test]
    fn a_reweighed_form_totals_its_own_items() {
        let mut form = AssessmentForm::default();
        form.items.retain(|i| i.key != "learning");
        form.items[0].max = Points::whole(20);
        assert_eq!(form.check(), Ok(()));
        let mut s = scores(&form, Points::whole(10));
        s.insert("safety".into(), Points::whole(18));
        assert_eq!(form.total(&s), Some(Points::whole(98)));
        assert!(form.complete(&s));
        s.insert("safety".into(), Points::whole(21));
        assert!(!form.complete(&s), "above the item's maximum");
        s.insert("safety".into(), Points::whole(18));
        s.insert("learning".into(), Points::whole(5));
        assert!(!form.complete(&s), "an item the form does not have");
    }

    #[test]
    fn a_months_form_is_fixed_from_the_day_before_it_begins() {
        let month: Period = "2026-12".parse().expect("month");
        let day = |s: &str| s.parse::<NaiveDate>().expect("day");
        assert!(!form_fixed(month, day("2026-11-29")));
        assert!(form_fixed(month, day("2026-11-30")), "a phone a day ahead");
        assert!(form_fixed(month, day("2026-12-01")));
        assert!(form_fixed(month, day("2027-03-01")));
    }

    #[test]
    fn every_malformed_form_is_refused_with_its_reason() {
        let base = AssessmentForm::default();
        let with = |f: &dyn Fn(&mut AssessmentForm)| {
            let mut form = base.clone();
            f(&mut form);
            form.check()
        };
        assert_eq!(with(&|f| f.items.clear()), Err(FormProblem::Count(0)));
        assert_eq!(
            with(&|f| f.items[0].key = "Safety!".into()),
            Err(FormProblem::Key("Safety!".into()))
        );
        assert_eq!(
            with(&|f| f.items[1].key = "safety".into()),
            Err(FormProblem::Twice("safety".into()))
        );
        assert_eq!(
            with(&|f| f.items[0].zh = "  ".into()),
            Err(FormProblem::Name("safety".into()))
        );
        assert!(matches!(
            with(&|f| f.items[0].max = Points::ZERO),
            Err(FormProblem::Max(_))
        ));
        assert_eq!(
            with(&|f| f.items[0].max = Points::whole(11)),
            Err(FormProblem::Total(Points::whole(101)))
        );
        assert!(
            FormProblem::Total(Points::whole(101))
                .says(Lang::Zh)
                .contains("101")
        );
        let fresh = base.fresh_key();
        assert!(base.get(&fresh).is_none());
        assert_eq!(fresh, "item11");
    }
}
