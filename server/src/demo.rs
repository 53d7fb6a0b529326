//! The demo mine: one branch, four zones, five inspectors, one week and one month.
//!
//! Everything is computed the way the server will: sheets are real automerge documents born
//! through genesis and edited by each inspector, scored against the branch's template, and
//! aggregated, ranked and paid with the rules in `zonepatrol-shared`.

use std::collections::BTreeMap;
use std::fmt::Write;

use automerge::ActorId;
use zonepatrol_shared::docs::{
    self, DeductionRule, DocError, DocId, ItemEntry, Sheet, Tally, Template, TemplateItem,
    ZoneSheet,
};
use zonepatrol_shared::rules::grade::GradeThresholds;
use zonepatrol_shared::rules::inspection::notice;
use zonepatrol_shared::rules::{InspectionRule, MoneyRule, rank};
use zonepatrol_shared::{BranchCategory, Points};

/// The demo branch's zones: id and name.
pub const ZONES: [(&str, &str); 4] = [
    ("z1", "三水平上车场"),
    ("z2", "802溜子道"),
    ("z3", "中央变电所"),
    ("z4", "综采工作面"),
];

/// The five inspectors of the weekly inspection.
pub const INSPECTORS: [&str; 5] = ["zhao", "qian", "sun", "li", "zhou"];

/// The branch's checklist: ten items of 10 points, each with one deduction rule.
pub fn template() -> Template {
    let items = [
        ("安全", "安全设施齐全", 2),
        ("文明生产", "电缆吊挂整齐", 2),
        ("文明生产", "巷道无积水浮煤", 1),
        ("设备", "设备完好无漏油", 2),
        ("质量标准化", "支护符合规程", 3),
        ("文明生产", "物料码放整齐", 1),
        ("安全", "消防器材完好", 2),
        ("综合治理", "图牌板齐全", 1),
        ("劳动纪律", "无脱岗睡岗", 5),
        ("学习", "应知应会", 1),
    ];
    let items = items
        .iter()
        .enumerate()
        .map(|(n, &(category, text, points))| {
            let mut rules = BTreeMap::new();
            rules.insert(
                "r1".to_owned(),
                DeductionRule {
                    text: format!("{text}不合格"),
                    points: Points::whole(points),
                    // The last item's deduction comes with a photo (of the study record):
                    // the validator refuses it without one.
                    needs_photo: n == 9,
                },
            );
            let item = TemplateItem {
                order: n as u64 + 1,
                category: category.to_owned(),
                text: text.to_owned(),
                max: Points::whole(10),
                rules,
            };
            (format!("i{}", n + 1), item)
        })
        .collect();
    Template {
        name: "党员责任区检查标准".to_owned(),
        supersedes: String::new(),
        items,
    }
}

/// How many times each inspector applied each item's rule in each zone, `[zone][inspector]`,
/// as `(item, count)` pairs.
fn marks() -> [[&'static [(usize, i64)]; 5]; 4] {
    [
        [&[], &[(2, 1)], &[], &[(3, 1)], &[]],
        [
            &[(1, 2), (5, 1)],
            &[(1, 1)],
            &[(1, 3)],
            &[(1, 2), (9, 1)],
            &[(1, 1), (4, 1)],
        ],
        [&[(6, 1)], &[(3, 1)], &[], &[(6, 1)], &[(8, 1)]],
        [
            &[(4, 2), (9, 1)],
            &[(4, 1), (2, 2)],
            &[(4, 3), (9, 2)],
            &[(4, 1)],
            &[(4, 2), (7, 2), (2, 1)],
        ],
    ]
}

/// Each zone's aggregated weekly result, as the server would compute it from the sheets.
pub fn weekly_results() -> Result<Vec<(String, Points)>, DocError> {
    let template = template();
    let patrol = "w47";
    let marks = marks();
    let mut per_zone: BTreeMap<String, Vec<Points>> = BTreeMap::new();
    for (i, inspector) in INSPECTORS.iter().enumerate() {
        let id = DocId::sheet("zcyd", patrol, *inspector);
        let mut doc = docs::genesis::<Sheet>(&id)?;
        doc.set_actor(ActorId::from([i as u8 + 1; 16]));
        let mut sheet: Sheet = docs::read(&doc, &id)?;
        for (z, (zone, _)) in ZONES.iter().enumerate() {
            let mut zone_sheet = ZoneSheet {
                template: "t1".into(),
                ..Default::default()
            };
            for &(item, count) in marks[z][i] {
                let mut entry = ItemEntry::default();
                entry.deductions.insert("r1".into(), Tally::new(count));
                zone_sheet.items.insert(format!("i{item}"), entry);
            }
            sheet.zones.insert((*zone).into(), zone_sheet);
        }
        docs::write(&mut doc, &sheet)?;
        doc.commit();
        let sheet: Sheet = docs::read(&doc, &id)?;
        for (zone, zone_sheet) in &sheet.zones {
            if let Some(percent) = zone_sheet.score(&template).percent {
                per_zone.entry(zone.clone()).or_default().push(percent);
            }
        }
    }
    let rule = InspectionRule::default();
    Ok(per_zone
        .into_iter()
        .filter_map(|(zone, scores)| rule.zone_result(&scores).map(|r| (zone, r)))
        .collect())
}

/// The demo month's final scores by zone.
pub const MONTH_FINAL: [(&str, &str); 4] =
    [("z1", "97"), ("z2", "80"), ("z3", "95"), ("z4", "85.5")];

fn zone_name(id: &str) -> &'static str {
    ZONES.iter().find(|z| z.0 == id).map_or("?", |z| z.1)
}

/// The demo's figures as text, in Chinese.
pub fn report() -> Result<String, DocError> {
    let mut out = String::new();
    let results = weekly_results()?;
    let ranking = rank(&results);
    let _ = writeln!(
        out,
        "演示矿井 · 综采一队党支部（一类）· 2026年第47周 周检查（5名检查人员，去掉一个最高分和一个最低分）"
    );
    for r in &ranking {
        let _ = writeln!(
            out,
            "  第{}名  {:<8}  {}分",
            r.rank,
            zone_name(&r.key),
            r.score
        );
    }
    let (best, worst) = notice(&ranking, 1);
    let names = |v: &[zonepatrol_shared::rules::Ranked<String>]| {
        v.iter()
            .map(|r| zone_name(&r.key))
            .collect::<Vec<_>>()
            .join("、")
    };
    let _ = writeln!(out, "  通报：表扬 {}；批评 {}", names(&best), names(&worst));

    let money = MoneyRule::default();
    let grades = GradeThresholds::default();
    let _ = writeln!(
        out,
        "2026年11月 责任区月度考评（高于95分每分奖10元，低于85分每分罚10元）"
    );
    let mut total = zonepatrol_shared::Fen(0);
    for (zone, score) in MONTH_FINAL {
        let score: Points = score.parse().unwrap_or_default();
        let fen = money.money(score);
        total = total + fen;
        let grade = grades.grade(BranchCategory::MainProduction, score);
        let _ = writeln!(
            out,
            "  {:<8}  {}分  {}  {}元",
            zone_name(zone),
            score,
            grade.label_zh(),
            fen
        );
    }
    let _ = writeln!(out, "  合计 {total}元");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekly_results_are_trimmed_means_of_the_sheets() {
        // Zone z1: sheets 100, 98, 100, 99, 100 → drop one 100 and the 98 → (100+99+100)/3.
        let results: BTreeMap<String, Points> =
            weekly_results().expect("demo").into_iter().collect();
        assert_eq!(results["z1"], "99.67".parse().expect("points"));
        // Zone z2: 93, 98, 94, 91, 96 → drop 98 and 91 → (93+94+96)/3.
        assert_eq!(results["z2"], "94.33".parse().expect("points"));
        assert_eq!(results.len(), 4);
    }

    #[test]
    fn the_report_shows_ranking_notice_and_money() {
        let text = report().expect("demo");
        assert!(text.contains("第1名  三水平上车场"), "{text}");
        assert!(text.contains("表扬 三水平上车场"), "{text}");
        assert!(text.contains("批评 综采工作面"), "{text}");
        assert!(text.contains("97分  先进  +20.00元"), "{text}");
        assert!(text.contains("80分  达标  -50.00元"), "{text}");
        assert!(text.contains("合计 -30.00元"), "{text}");
    }
}
