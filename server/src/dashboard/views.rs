//! The views room: what the pages and the exports show, built from the consolidated results
//! (the monthly [`Ledger`], the weekly [`Notice`], a zone's [`Placard`]) and the names and
//! labels they share.

use zonepatrol_shared::Points;
use zonepatrol_shared::docs::{Report, ZoneResult};
use zonepatrol_shared::rules::period::Period;

use super::labels::{Lang, l, period_label, show, show_grade};
use crate::consolidate::Consolidator;

pub(super) fn zone_name(c: &Consolidator, branch: &str, zone: &str) -> String {
    c.branches()
        .get(branch)
        .and_then(|b| b.zones.get(zone))
        .map_or_else(|| zone.to_owned(), |z| z.name.clone())
}

pub(super) fn branch_name(c: &Consolidator, branch: &str) -> String {
    c.branches()
        .get(branch)
        .map(|b| b.name.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| branch.to_owned())
}

pub(super) fn holders(c: &Consolidator, branch: &str, zone: &str) -> String {
    listed_holders(c, branch, zone, false)
}

/// A zone's holders by name, with their shares of its money where the secretary set them
/// when `shares`: "张三（60%）、李四（40%）".
fn listed_holders(c: &Consolidator, branch: &str, zone: &str, shares: bool) -> String {
    let Some(b) = c.branches().get(branch) else {
        return String::new();
    };
    let Some(z) = b.zones.get(zone) else {
        return String::new();
    };
    z.holders
        .iter()
        .map(|h| {
            let name = b.members.get(h).cloned().unwrap_or_else(|| h.clone());
            match z.shares.get(h).filter(|_| shares) {
                Some(pct) => format!("{name}（{pct}%）"),
                None => name,
            }
        })
        .collect::<Vec<_>>()
        .join("、")
}

/// One member's line of the monthly ledger (党员业绩考核台帐): the zones they hold and the
/// money that comes to them.
#[derive(Debug)]
pub struct MemberRow {
    /// The member's user id.
    pub member_id: String,
    /// Their name.
    pub name: String,
    /// The zones they hold, each with its final score and their part of its money.
    pub zones: Vec<MemberZone>,
    /// Their money in the month, in fen.
    pub money_fen: i64,
}

/// A zone in a member's line.
#[derive(Debug)]
pub struct MemberZone {
    /// The zone's name.
    pub zone: String,
    /// Its final score.
    pub final_score: Option<Points>,
    /// Their part of its money, in fen.
    pub fen: i64,
}

impl MemberRow {
    /// Their zones as one cell, with the final score and the money: "三水平上车场 97 +10.00、…".
    pub fn zones_label(&self) -> String {
        self.zones
            .iter()
            .map(|z| match z.final_score {
                Some(s) => format!("{} {s} {}", z.zone, super::export::yuan(z.fen)),
                None => z.zone.clone(),
            })
            .collect::<Vec<_>>()
            .join("、")
    }
}

/// One row of the monthly ledger.
#[derive(Debug)]
pub struct LedgerRow {
    /// The zone's id.
    pub zone_id: String,
    /// The zone's name.
    pub zone: String,
    /// The holders' names.
    pub holders: String,
    /// The self-score.
    pub self_score: Option<Points>,
    /// The branch (final) score.
    pub final_score: Option<Points>,
    /// The branch's monthly self-check (月自查) of the zone.
    pub self_check: Option<Points>,
    /// The place by the final score.
    pub rank: u64,
    /// The money it brings, in fen.
    pub money_fen: i64,
}

impl LedgerRow {
    /// Final minus self.
    pub fn difference(&self) -> Option<Points> {
        Some(self.final_score? - self.self_score?)
    }
}

/// The monthly ledger of a branch.
#[derive(Debug)]
pub struct Ledger {
    /// The branch's name.
    pub branch_name: String,
    /// The month, as shown.
    pub month_label: String,
    /// The zones, by rank.
    pub rows: Vec<LedgerRow>,
    /// Every member whom the month pays (and, while it is open, who holds a zone in use), by
    /// money and then name.
    pub members: Vec<MemberRow>,
    /// The branch's score.
    pub branch_score: Option<Points>,
    /// Its grade, as shown.
    pub grade_label: String,
    /// Its place in its category, as shown.
    pub rank_label: String,
    /// Who published the month, as shown.
    pub published: Option<String>,
    /// The quarter the month is in, graded on the composite: its breakdown, as shown.
    pub composite: Option<String>,
    /// The report names who receives its money: false only for a month published before
    /// reports named them, whose money is then not said to go to nobody.
    pub names_payees: bool,
}

impl Ledger {
    /// The money of every zone, in fen.
    pub fn total_fen(&self) -> i64 {
        self.rows.iter().map(|r| r.money_fen).sum()
    }

    /// The money of zones without a holder, in fen: nobody receives it.
    pub fn unassigned_fen(&self) -> i64 {
        if !self.names_payees {
            return 0;
        }
        self.total_fen() - self.members.iter().map(|m| m.money_fen).sum::<i64>()
    }
}

/// The members' lines of a month's report: each member whom the month pays, with what each
/// zone paid them; while the month is open, also each member who holds a zone in use today
/// (a published month pays whom it paid, and today's holders are not its business).
fn member_rows(c: &Consolidator, branch: &str, report: Option<&Report>) -> Vec<MemberRow> {
    let facts = c.branches().get(branch);
    let name_of = |who: &String| {
        facts
            .and_then(|b| b.members.get(who))
            .cloned()
            .unwrap_or_else(|| who.clone())
    };
    let row_of = |who: &String| MemberRow {
        member_id: who.clone(),
        name: name_of(who),
        zones: Vec::new(),
        money_fen: 0,
    };
    let mut rows: std::collections::BTreeMap<String, MemberRow> = facts
        .into_iter()
        .filter(|_| report.is_none_or(|r| r.published.is_none()))
        .flat_map(|b| b.zones.values())
        .filter(|z| z.active)
        .flat_map(|z| &z.holders)
        .map(|h| (h.clone(), row_of(h)))
        .collect();
    for (zone, z) in report.into_iter().flat_map(|r| by_rank(r)) {
        for (who, fen) in &z.payees {
            let row = rows.entry(who.clone()).or_insert_with(|| row_of(who));
            row.zones.push(MemberZone {
                zone: zone_name(c, branch, zone),
                final_score: z.score,
                fen: *fen,
            });
            row.money_fen += fen;
        }
    }
    let mut rows: Vec<MemberRow> = rows.into_values().collect();
    rows.sort_by(|a, b| {
        b.money_fen
            .cmp(&a.money_fen)
            .then_with(|| a.name.cmp(&b.name))
    });
    rows
}

/// The visible branches' reports for the period, by category and then by rank (unranked
/// last).
pub(super) fn by_category<'a>(
    c: &'a Consolidator,
    visible: &[&'a String],
    period: Period,
) -> Vec<(&'a String, &'a Report)> {
    let mut company: Vec<(&String, &Report)> = visible
        .iter()
        .filter_map(|b| c.current(b, period).map(|r| (*b, r)))
        .collect();
    company.sort_by_key(|(b, r)| {
        (
            r.branch.category,
            r.branch.rank == 0,
            r.branch.rank,
            (*b).clone(),
        )
    });
    company
}

pub(super) fn by_rank(report: &Report) -> Vec<(&String, &ZoneResult)> {
    let mut zones: Vec<(&String, &ZoneResult)> = report.zones.iter().collect();
    zones.sort_by(|a, b| (a.1.rank == 0, a.1.rank, a.0).cmp(&(b.1.rank == 0, b.1.rank, b.0)));
    zones
}

fn published_label(lang: Lang, tz: chrono_tz::Tz, report: Option<&Report>) -> Option<String> {
    let p = report?.published.as_ref()?;
    let at = chrono::DateTime::from_timestamp_millis(p.at)
        .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default();
    Some(format!(
        "{} {} · {}",
        l(lang, "已发布：", "Published by"),
        p.by,
        at
    ))
}

fn rank_label(lang: Lang, report: &Report) -> String {
    if report.branch.rank == 0 {
        return "—".to_owned();
    }
    match lang {
        Lang::Zh => format!(
            "{}类支部第{}名（共{}个）",
            report.branch.category, report.branch.rank, report.branch.of
        ),
        Lang::En => format!(
            "#{} of {} in category {}",
            report.branch.rank, report.branch.of, report.branch.category
        ),
    }
}

pub(super) fn ledger(c: &Consolidator, branch: &str, month: Period, lang: Lang) -> Ledger {
    let report = c.current(branch, month);
    Ledger {
        branch_name: branch_name(c, branch),
        month_label: period_label(lang, month),
        rows: report
            .map(|r| {
                by_rank(r)
                    .into_iter()
                    .map(|(id, z)| LedgerRow {
                        zone_id: id.clone(),
                        zone: zone_name(c, branch, id),
                        holders: listed_holders(c, branch, id, true),
                        self_score: z.self_score,
                        final_score: z.score,
                        self_check: z.self_check,
                        rank: z.rank,
                        money_fen: z.money_fen,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        members: member_rows(c, branch, report),
        names_payees: report.is_none_or(|r| {
            r.published.is_none() || r.zones.values().any(|z| !z.payees.is_empty())
        }),
        branch_score: report.and_then(|r| r.branch.score),
        grade_label: report
            .map(|r| show_grade(lang, r.grade()).to_owned())
            .unwrap_or_default(),
        rank_label: report.map(|r| rank_label(lang, r)).unwrap_or_default(),
        published: published_label(lang, c.clock().tz, report),
        composite: {
            let quarter = Period::containing(
                zonepatrol_shared::rules::PeriodKind::Quarter,
                month.first_day(),
            );
            c.current(branch, quarter)
                .map(|q| composite_label(c, lang, quarter, q))
        },
    }
}

/// A quarter's or year's composite, broken down: "2026年第4季度 综合 88.50 = 工作 90.00 × 80% +
/// 互评 80.00 × 20% + 加分 2.50 · 先进 · 第1名/3".
pub(super) fn composite_label(c: &Consolidator, lang: Lang, period: Period, r: &Report) -> String {
    let b = &r.branch;
    let weight = c
        .rules_on(period.last_day().min(c.today(crate::now_millis())))
        .mutual
        .weight_percent;
    let parts = match (lang, b.mutual) {
        (Lang::Zh, Some(m)) => format!(
            "工作 {} × {}% + 互评 {m} × {weight}% + 加分 {}",
            show(b.work),
            100 - weight.min(100),
            b.bonus
        ),
        (Lang::Zh, None) => format!(
            "工作 {} + 加分 {}（互评不足 {} 个支部，未计入）",
            show(b.work),
            b.bonus,
            zonepatrol_shared::rules::mutual::MIN_GIVERS
        ),
        (Lang::En, Some(m)) => format!(
            "work {} × {}% + mutual {m} × {weight}% + bonus {}",
            show(b.work),
            100 - weight.min(100),
            b.bonus
        ),
        (Lang::En, None) => format!(
            "work {} + bonus {} (fewer than {} branches' marks: no mutual result)",
            show(b.work),
            b.bonus,
            zonepatrol_shared::rules::mutual::MIN_GIVERS
        ),
    };
    format!(
        "{} {} {} = {} · {} · {}",
        period_label(lang, period),
        l(lang, "综合", "composite"),
        show(b.score),
        parts,
        show_grade(lang, r.grade()),
        rank_label(lang, r)
    )
}

/// One row of the weekly notice.
#[derive(Debug)]
pub struct NoticeRow {
    /// The place.
    pub rank: u64,
    /// The zone's name.
    pub zone: String,
    /// The inspection score.
    pub score: Option<Points>,
    /// How many inspectors' sheets went into it.
    pub sheets: u64,
    /// Praised.
    pub praised: bool,
    /// Named.
    pub named: bool,
}

impl NoticeRow {
    /// Praised, named or neither, as shown.
    pub fn standing(&self, lang: Lang) -> &'static str {
        if self.praised {
            l(lang, "表扬", "praised")
        } else if self.named {
            l(lang, "批评", "named")
        } else {
            ""
        }
    }
}

/// The weekly notice of a branch.
#[derive(Debug)]
pub struct Notice {
    /// The branch's name.
    pub branch_name: String,
    /// The week (or ten-day period), as shown.
    pub week_label: String,
    /// The ten-day supervision's (旬督导) rather than the weekly inspection's.
    pub supervision: bool,
    /// The zones, by rank.
    pub rows: Vec<NoticeRow>,
}

impl Notice {
    /// The praised zones' names.
    pub fn praised(&self) -> Vec<String> {
        self.rows
            .iter()
            .filter(|r| r.praised)
            .map(|r| r.zone.clone())
            .collect()
    }

    /// The named zones' names.
    pub fn named(&self) -> Vec<String> {
        self.rows
            .iter()
            .filter(|r| r.named)
            .map(|r| r.zone.clone())
            .collect()
    }
}

pub(super) fn notice(c: &Consolidator, branch: &str, week: Period, lang: Lang) -> Notice {
    Notice {
        branch_name: branch_name(c, branch),
        week_label: period_label(lang, week),
        supervision: week.kind() == zonepatrol_shared::rules::period::PeriodKind::TenDay,
        rows: c
            .current(branch, week)
            .map(|r| {
                by_rank(r)
                    .into_iter()
                    .map(|(id, z)| NoticeRow {
                        rank: z.rank,
                        zone: zone_name(c, branch, id),
                        score: z.score,
                        sheets: z.sheets,
                        praised: z.praised,
                        named: z.named,
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// What a placard shows.
#[derive(Debug)]
pub struct Placard {
    /// The branch id.
    pub branch: String,
    /// The branch's name.
    pub branch_name: String,
    /// The zone id.
    pub zone: String,
    /// The zone's name.
    pub zone_name: String,
    /// Where it is.
    pub location: String,
    /// 亮身份: the holders.
    pub holders: String,
    /// 亮岗位: the zone or post.
    pub post: String,
    /// 亮职责: the duty.
    pub duty: String,
    /// 亮标准: the standard.
    pub standard: String,
    /// 亮业绩: the latest results.
    pub performance: String,
}
