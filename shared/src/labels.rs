//! The names of domain values as people read them, in Chinese and English, in one place: the
//! app's screens (`app/src/i18n.rs`) and the server's dashboard (`server/src/dashboard/`) show
//! the same word for the same thing.
//!
//! Chinese is the product's language and comes first; the English is for readers who do not
//! read Chinese, and says the same thing in words (a week is "Week 47 of 2026", not
//! `2026-W47`). The `label_zh` methods on the domain types give the Chinese from here.
//!
//! ```
//! use zonepatrol_shared::labels::{Lang, period_label, role_label};
//! use zonepatrol_shared::{Role, rules::Period};
//!
//! let week: Period = "2026-W47".parse().unwrap();
//! assert_eq!(period_label(Lang::Zh, week), "2026年第47周");
//! assert_eq!(period_label(Lang::En, week), "Week 47 of 2026");
//! assert_eq!(role_label(Lang::En, Role::TeamLeader), "Team leader");
//! ```

use crate::docs::{DocKind, PostStatus, PostStep};
use crate::domain::{BranchCategory, PatrolKind, Role, Severity};
use crate::history::Hidden;
use crate::rules::grade::Grade;
use crate::rules::period::{MineClock, Period, PeriodKind};
use crate::rules::problem::ProblemStatus;
use crate::rules::suggest::AssessmentItem;

/// A language people read the product in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// 简体中文: the default.
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    /// The one of two texts in this language.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn month_en(month: u32) -> &'static str {
    MONTHS_EN[(month.clamp(1, 12) - 1) as usize]
}

/// A period's name: `2026年第47周` / `Week 47 of 2026`, `2026年11月中旬` /
/// `11–20 November 2026`, `2026年11月` / `November 2026`, `2026年第四季度` / `Q4 2026`,
/// `2026年` / `2026`.
pub fn period_label(lang: Lang, period: Period) -> String {
    match lang {
        Lang::Zh => period.label_zh(),
        Lang::En => match period {
            Period::Week { year, week } => format!("Week {week} of {year}"),
            Period::TenDay { year, month, .. } => format!(
                "{}–{} {} {year}",
                period.first_day().format("%-d"),
                period.last_day().format("%-d"),
                month_en(month)
            ),
            Period::Month { year, month } => format!("{} {year}", month_en(month)),
            Period::Quarter { year, quarter } => format!("Q{quarter} {year}"),
            Period::Year { year } => year.to_string(),
        },
    }
}

/// A kind of period: 周 / week, 旬 / ten days, 月 / month, 季度 / quarter, 年 / year.
pub fn period_kind_label(lang: Lang, kind: PeriodKind) -> &'static str {
    let (zh, en) = match kind {
        PeriodKind::Week => ("周", "Week"),
        PeriodKind::TenDay => ("旬", "Ten days"),
        PeriodKind::Month => ("月", "Month"),
        PeriodKind::Quarter => ("季度", "Quarter"),
        PeriodKind::Year => ("年", "Year"),
    };
    lang.pick(zh, en)
}

/// A role, as the people in it call it.
pub fn role_label(lang: Lang, role: Role) -> &'static str {
    let (zh, en) = match role {
        Role::Secretary => ("支部书记", "Branch secretary"),
        Role::Inspector => ("检查人员", "Inspector"),
        Role::ZoneHolder => ("责任区负责人", "Zone holder"),
        Role::TeamLeader => ("班组长", "Team leader"),
        Role::Manager => ("党委管理人员", "Manager"),
        Role::Admin => ("管理员", "Administrator"),
    };
    lang.pick(zh, en)
}

/// A grade against the category's thresholds, in the seeds' words (seed 002: 先进、达标和不达标
/// 党支部).
pub fn grade_label(lang: Lang, grade: Grade) -> &'static str {
    let (zh, en) = match grade {
        Grade::Fail => ("不达标", "below standard"),
        Grade::Pass => ("达标", "up to standard"),
        Grade::Excellent => ("先进", "advanced"),
    };
    lang.pick(zh, en)
}

/// A kind of document (record).
pub fn kind_label(lang: Lang, kind: DocKind) -> &'static str {
    let (zh, en) = match kind {
        DocKind::Directory => ("支部名录", "Branch directory"),
        DocKind::Patrol => ("巡查", "Patrol"),
        DocKind::Sheet => ("检查评分表", "Inspection sheet"),
        DocKind::Problem => ("问题整改", "Problem"),
        DocKind::Cleanup => ("清理记录", "Cleanup log"),
        DocKind::Assessment => ("月度考评", "Monthly assessment"),
        DocKind::Report => ("考评结果", "Results"),
        DocKind::Publication => ("发布记录", "Publication"),
        DocKind::Evaluation => ("互动评价", "Mutual evaluation"),
        DocKind::Rules => ("考评规则", "Rules"),
    };
    lang.pick(zh, en)
}

/// A kind of inspection walk.
pub fn patrol_kind_label(lang: Lang, kind: PatrolKind) -> &'static str {
    let (zh, en) = match kind {
        PatrolKind::Weekly => ("周检查", "Weekly inspection"),
        PatrolKind::TenDay => ("旬督导", "Ten-day supervision"),
        PatrolKind::MonthlySelfCheck => ("月自查", "Monthly self-check"),
        PatrolKind::SpotCheck => ("抽查", "Spot check"),
    };
    lang.pick(zh, en)
}

/// How serious a problem is.
pub fn severity_label(lang: Lang, severity: Severity) -> &'static str {
    let (zh, en) = match severity {
        Severity::General => ("一般", "General"),
        Severity::Major => ("重大", "Major"),
    };
    lang.pick(zh, en)
}

/// Where a problem stands in its closed loop.
pub fn problem_status_label(lang: Lang, status: ProblemStatus) -> &'static str {
    let (zh, en) = match status {
        ProblemStatus::Open => ("待整改", "To fix"),
        ProblemStatus::Rectified => ("待验证", "Fixed, to verify"),
        ProblemStatus::Verified => ("已销号", "Closed"),
        ProblemStatus::Reopened => ("重新整改", "Reopened"),
    };
    lang.pick(zh, en)
}

/// Something due, in a line: what, for which period, by when (or since when, once late).
pub fn due_label(lang: Lang, due: &crate::rules::cadence::Due) -> String {
    use crate::rules::cadence::{Due, SOON_DAYS};
    use chrono::Datelike;
    let zh_day = |d: &chrono::NaiveDate| format!("{}月{}日", d.month(), d.day());
    let en_day = |d: &chrono::NaiveDate| d.format("%-d %B").to_string();
    let plural = |n: usize, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    };
    // The part of a line that says by when.
    let by = |d: &chrono::NaiveDate| match lang {
        Lang::Zh => format!("，{}前", zh_day(d)),
        Lang::En => format!(", by {}", en_day(d)),
    };
    let month_zh = |p: &Period| {
        let d = p.first_day();
        format!("{}月", d.month())
    };
    match (lang, due) {
        (Lang::Zh, Due::ProblemsOverdue { count }) => format!("{count}项问题已超期"),
        (Lang::En, Due::ProblemsOverdue { count }) => {
            format!(
                "{} past the deadline",
                plural(*count, "problem", "problems")
            )
        }
        (Lang::Zh, Due::ProblemsSoon { count, by: d }) => {
            format!("{count}项问题{SOON_DAYS}天内到期（最早{}）", zh_day(d))
        }
        (Lang::En, Due::ProblemsSoon { count, by: d }) => format!(
            "{} due within {SOON_DAYS} days (the first on {})",
            plural(*count, "problem", "problems"),
            en_day(d)
        ),
        (Lang::Zh, Due::WeeklyInspection { by: d, .. }) => format!("本周检查未做{}", by(d)),
        (Lang::En, Due::WeeklyInspection { by: d, .. }) => {
            format!("This week's inspection is not done{}", by(d))
        }
        (Lang::Zh, Due::TenDaySupervision { by: d, .. }) => format!("本旬督导未做{}", by(d)),
        (Lang::En, Due::TenDaySupervision { by: d, .. }) => {
            format!("This ten-day supervision is not done{}", by(d))
        }
        (Lang::Zh, Due::SelfCheck { month, by: d }) => {
            format!("{}自查未做{}", month_zh(month), by(d))
        }
        (Lang::En, Due::SelfCheck { month, by: d }) => format!(
            "The self-check of {} is not done{}",
            period_label(lang, *month),
            by(d)
        ),
        (Lang::Zh, Due::SelfScores { month, by: d, left }) => {
            format!("{}自评还差{left}个责任区{}", month_zh(month), by(d))
        }
        (Lang::En, Due::SelfScores { month, by: d, left }) => format!(
            "Self-scores of {} for the month of {}{}",
            plural(*left, "zone", "zones"),
            period_label(lang, *month),
            by(d)
        ),
        (Lang::Zh, Due::Assessments { month, by: d, left }) => {
            format!("{}考评还差{left}个责任区{}", month_zh(month), by(d))
        }
        (Lang::En, Due::Assessments { month, by: d, left }) => format!(
            "Assessments of {} for the month of {}{}",
            plural(*left, "zone", "zones"),
            period_label(lang, *month),
            by(d)
        ),
    }
}

/// Where a demonstration post stands.
pub fn post_status_label(lang: Lang, status: PostStatus) -> &'static str {
    let (zh, en) = match status {
        PostStatus::Proposed => ("待审批", "Waiting for approval"),
        PostStatus::Approved => ("已批准，未开始", "Approved, not started"),
        PostStatus::Rejected => ("未批准", "Not approved"),
        PostStatus::Active => ("在岗", "In force"),
        PostStatus::Revoked => ("已摘牌", "Title withdrawn"),
        PostStatus::Ended => ("已到期", "Ended"),
    };
    lang.pick(zh, en)
}

/// A step in a demonstration post's life.
pub fn post_step_label(lang: Lang, step: PostStep) -> &'static str {
    let (zh, en) = match step {
        PostStep::Propose => ("申报", "Applied"),
        PostStep::Approve => ("批准", "Approved"),
        PostStep::Reject => ("不批准", "Not approved"),
        PostStep::Activate => ("启动", "Started"),
        PostStep::Revoke => ("摘牌", "Title withdrawn"),
        PostStep::End => ("结束", "Ended"),
        PostStep::Review => ("季度讲评", "Quarterly review"),
    };
    lang.pick(zh, en)
}

/// One of the ten items of the monthly assessment.
pub fn assessment_item_label(lang: Lang, item: AssessmentItem) -> &'static str {
    let (zh, en) = match item {
        AssessmentItem::Safety => ("安全", "Safety"),
        AssessmentItem::Task => ("任务", "Production task"),
        AssessmentItem::Cost => ("成本", "Cost"),
        AssessmentItem::Governance => ("综合治理", "Governance"),
        AssessmentItem::Housekeeping => ("文明生产", "Housekeeping"),
        AssessmentItem::Equipment => ("设备", "Equipment"),
        AssessmentItem::QualityStandard => ("质量标准化", "Quality standard"),
        AssessmentItem::Discipline => ("劳动纪律", "Discipline"),
        AssessmentItem::Learning => ("学习", "Learning"),
        AssessmentItem::Stability => ("队伍稳定", "Team stability"),
    };
    lang.pick(zh, en)
}

/// A document's field name as people read it; `None` for a key that is not a field name (a
/// record's id, a checklist item's code).
pub fn field_label(lang: Lang, key: &str) -> Option<&'static str> {
    if let Some(item) = AssessmentItem::from_key(key) {
        return Some(assessment_item_label(lang, item));
    }
    let (zh, en) = match key {
        "finding" => ("问题", "Finding"),
        "description" => ("问题描述", "Description"),
        "measure" => ("整改措施", "Measure"),
        "deadline" => ("整改期限", "Deadline"),
        "extension" => ("申请延期至", "More time until"),
        "severity" => ("严重程度", "Severity"),
        "responsible" => ("责任人", "Responsible"),
        "raised_by" => ("提出人", "Raised by"),
        "raised_at" => ("提出时间", "Raised at"),
        "rectifications" => ("整改", "Fixes"),
        "verifications" => ("验证", "Verifications"),
        "outcome" => ("结论", "Outcome"),
        "request" => ("所答申请", "Answers the request"),
        "note" | "notes" => ("说明", "Note"),
        "reason" => ("理由", "Reason"),
        "photos" => ("照片", "Photos"),
        "before" => ("清理前照片", "Photos before"),
        "after" => ("清理后照片", "Photos after"),
        "thumb" => ("缩略图", "Thumbnail"),
        "taken_at" => ("拍摄时间", "Taken at"),
        "zone" => ("责任区", "Zone"),
        "zones" => ("责任区", "Zones"),
        "patrol" => ("巡查", "Patrol"),
        "item" | "items" => ("检查项", "Items"),
        "deductions" | "marks" => ("扣分", "Deductions"),
        "not_applicable" => ("不适用", "Not applicable"),
        "template" => ("检查表", "Checklist"),
        "submitted_at" => ("提交时间", "Submitted at"),
        "score" | "scores" => ("得分", "Score"),
        "self_score" => ("自评", "Self-score"),
        "branch_score" => ("支部考评", "Branch score"),
        "by" => ("填写人", "By"),
        "at" => ("时间", "At"),
        "remarks" => ("备注", "Remarks"),
        "holders" => ("责任人", "Holders"),
        "members" => ("党员", "Members"),
        "name" => ("名称", "Name"),
        "log" => ("清理记录", "Cleanup"),
        "team" => ("班组", "Team"),
        "date" => ("日期", "Date"),
        "leader" => ("带班人", "Leader"),
        "participants" => ("参加人员", "Participants"),
        "person_times" => ("人次", "Person-times"),
        "what" => ("工作内容", "Work"),
        "quantity_milli" => ("数量", "Quantity"),
        "unit" => ("单位", "Unit"),
        "inspectors" => ("检查人员", "Inspectors"),
        "kind" => ("类型", "Kind"),
        "plan" => ("计划", "Plan"),
        "closed_at" => ("结束时间", "Closed at"),
        "header" => ("记录信息", "Record"),
        "posts" => ("示范岗", "Demonstration posts"),
        "status" | "step" => ("状态", "Status"),
        "events" => ("经过", "Events"),
        "bonus" | "bonuses" => ("加分", "Bonus"),
        "mutual" => ("互评", "Mutual evaluation"),
        "period" => ("期间", "Period"),
        "starts" => ("开始", "Starts"),
        "ends" => ("结束", "Ends"),
        "duty" => ("岗位职责", "Duty"),
        "title" => ("标题", "Title"),
        "location" => ("位置", "Location"),
        "shares" => ("分配比例", "Shares"),
        _ => return None,
    };
    Some(lang.pick(zh, en))
}

/// Where in a record a field is, as people read it: "整改 › 2 › 整改措施". Keys that are not
/// field names (record ids, item codes, list positions) stay as they are.
pub fn path_label(lang: Lang, path: &[String]) -> String {
    path.iter()
        .enumerate()
        .map(|(i, key)| {
            // The marks drawn on a photo, not the marks of an evaluation.
            let on_photo = key == "marks"
                && path[..i]
                    .iter()
                    .any(|k| matches!(k.as_str(), "photos" | "before" | "after"));
            if on_photo {
                return lang.pick("标注", "Marks on the photo");
            }
            field_label(lang, key).unwrap_or(key)
        })
        .collect::<Vec<_>>()
        .join(" › ")
}

/// A field's value as people read it: moments in the mine's time zone, points with their
/// decimals, quantities in their unit; anything else as it was written.
pub fn value_label(clock: MineClock, path: &[String], value: &str) -> String {
    let last = path.last().map(String::as_str).unwrap_or_default();
    let Ok(n) = value.parse::<i64>() else {
        return value.to_owned();
    };
    let moment = last == "at" || last.ends_with("_at");
    let points = last == "points"
        || (path
            .iter()
            .any(|k| k == "self_score" || k == "branch_score")
            && path.iter().any(|k| k == "items"));
    if moment && n > 0 && chrono::DateTime::from_timestamp_millis(n).is_some() {
        return moment_label(clock, n);
    }
    if points {
        return crate::Points(n).to_string();
    }
    if last == "quantity_milli" {
        let sign = if n < 0 { "-" } else { "" };
        let (whole, frac) = (n.unsigned_abs() / 1000, n.unsigned_abs() % 1000);
        let frac = format!("{frac:03}");
        let frac = frac.trim_end_matches('0');
        return match frac {
            "" => format!("{sign}{whole}"),
            f => format!("{sign}{whole}.{f}"),
        };
    }
    value.to_owned()
}

/// A moment as the mine's clock shows it: `2026-12-03 10:00`.
pub fn moment_label(clock: MineClock, ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| {
            t.with_timezone(&clock.tz)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

/// A day's weekday, short: 周四 / Thu.
pub fn weekday_label(lang: Lang, day: chrono::NaiveDate) -> &'static str {
    use chrono::{Datelike, Weekday};
    let (zh, en) = match day.weekday() {
        Weekday::Mon => ("周一", "Mon"),
        Weekday::Tue => ("周二", "Tue"),
        Weekday::Wed => ("周三", "Wed"),
        Weekday::Thu => ("周四", "Thu"),
        Weekday::Fri => ("周五", "Fri"),
        Weekday::Sat => ("周六", "Sat"),
        Weekday::Sun => ("周日", "Sun"),
    };
    lang.pick(zh, en)
}

/// Why a record's history is not shown ([`crate::history::may_see_history`]).
pub fn hidden_label(lang: Lang, hidden: Hidden) -> &'static str {
    let (zh, en) = match hidden {
        Hidden::OthersSheet => (
            "检查人员的评分只有本人可见，修改历史也是",
            "An inspector's scores are theirs alone to see, and so is their history",
        ),
        Hidden::Marks => (
            "背靠背互评的打分只有本支部书记可见，修改历史也是",
            "The marks a branch gives in the mutual evaluation are its secretary's alone to see, and so is their history",
        ),
        Hidden::Results => (
            "统计结果由服务器生成，没有修改历史；请看各条记录的历史",
            "Results are made by the server and have no history: see each record's",
        ),
        Hidden::NotReadable => ("无权查看这条记录", "That record is not yours to see"),
    };
    lang.pick(zh, en)
}

/// A branch category, which sets its thresholds.
pub fn category_label(lang: Lang, category: BranchCategory) -> &'static str {
    let (zh, en) = match category {
        BranchCategory::MainProduction => ("主要生产", "Main production"),
        BranchCategory::AuxiliaryProduction => ("辅助生产", "Auxiliary production"),
        BranchCategory::Service => ("后勤服务", "Logistics and service"),
        BranchCategory::Offices => ("机关", "Offices"),
    };
    lang.pick(zh, en)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_values_read_as_people_read_them() {
        let path = |keys: &[&str]| keys.iter().map(|k| (*k).to_owned()).collect::<Vec<_>>();
        let score = path(&["branch_score", "items", "safety"]);
        assert_eq!(path_label(Lang::Zh, &score), "支部考评 › 检查项 › 安全");
        assert_eq!(
            path_label(Lang::En, &score),
            "Branch score › Items › Safety"
        );
        let clock = MineClock::default();
        assert_eq!(value_label(clock, &score, "950"), "9.5");
        // 2026-12-03 02:00 UTC is 10:00 at the mine.
        let at = path(&["branch_score", "at"]);
        assert_eq!(value_label(clock, &at, "1796263200000"), "2026-12-03 10:00");
        // Record ids and list positions stay as they are.
        let fix = path(&["rectifications", "3f9a", "measure"]);
        assert_eq!(path_label(Lang::Zh, &fix), "整改 › 3f9a › 整改措施");
        assert_eq!(value_label(clock, &fix, "更换支护"), "更换支护");
        assert_eq!(
            value_label(clock, &path(&["log", "person_times"]), "12"),
            "12"
        );
        let quantity = path(&["log", "items", "1", "quantity_milli"]);
        assert_eq!(value_label(clock, &quantity, "2500"), "2.5");
        assert_eq!(value_label(clock, &quantity, "1234"), "1.234");
        let mark = path(&["marks", "b2", "points"]);
        assert_eq!(value_label(clock, &mark, "9050"), "90.5");
    }

    #[test]
    fn periods_in_both_languages() {
        let cases = [
            ("2026-W47", "2026年第47周", "Week 47 of 2026"),
            ("2026-11-D1", "2026年11月上旬", "1–10 November 2026"),
            ("2026-02-D3", "2026年2月下旬", "21–28 February 2026"),
            ("2026-11", "2026年11月", "November 2026"),
            ("2026-Q4", "2026年第四季度", "Q4 2026"),
            ("2026", "2026年", "2026"),
        ];
        for (text, zh, en) in cases {
            let p: Period = text.parse().expect(text);
            assert_eq!(period_label(Lang::Zh, p), zh);
            assert_eq!(period_label(Lang::En, p), en);
        }
    }

    #[test]
    fn every_value_has_a_label_in_each_language() {
        for lang in [Lang::Zh, Lang::En] {
            let mut all: Vec<&str> = Vec::new();
            all.extend(PeriodKind::ALL.map(|k| period_kind_label(lang, k)));
            all.extend(Role::ALL.map(|r| role_label(lang, r)));
            all.extend(Grade::ALL.map(|g| grade_label(lang, g)));
            all.extend(DocKind::ALL.map(|k| kind_label(lang, k)));
            all.extend(PatrolKind::ALL.map(|k| patrol_kind_label(lang, k)));
            all.extend(AssessmentItem::ALL.map(|i| assessment_item_label(lang, i)));
            all.extend(BranchCategory::ALL.map(|c| category_label(lang, c)));
            assert!(all.iter().all(|l| !l.is_empty()), "{lang:?}");
        }
        assert_eq!(Role::Inspector.label_zh(), "检查人员");
        assert_eq!(Grade::Excellent.label_zh(), "先进");
    }
}
