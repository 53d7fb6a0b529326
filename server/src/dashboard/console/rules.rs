//! The rules page (`/admin/rules`): the figures in force, a new version from a month onward
//! (admins), and every version on the record.

use crate::dashboard::base::link;
use std::sync::Arc;

use axum::extract::{Form, State as Shared};
use axum::response::Response;
use maud::html;
use zonepatrol_shared::labels::category_label;
use zonepatrol_shared::{BranchCategory, Points, Role};

use super::{Fields, frame, run, show, when};
use crate::State;
use crate::admin::rules::{self, ItemInput, RulesInput};
use crate::dashboard::labels::l;
use crate::dashboard::session::Viewer;

pub(super) async fn page(Shared(state): Shared<Arc<State>>, viewer: Viewer) -> Response {
    show(state, viewer, |state, viewer| {
        let lang = viewer.lang;
        let (this, next) = rules::this_and_next_month(state);
        let now = rules::in_force(state, this);
        let coming = rules::in_force(state, next);
        let history = rules::document(state)?.unwrap_or_else(|| {
            zonepatrol_shared::docs::Rules {
                header: zonepatrol_shared::docs::Header::for_id(
                    &zonepatrol_shared::docs::DocId::rules(),
                ),
                versions: Default::default(),
            }
        });
        let is_admin = viewer.actor.has(Role::Admin);
        let body = html! {
            section {
                h2 { (l(lang, "现行规则", "In force")) " · " (this.to_string()) }
                table #rules-now {
                    tr { th { (l(lang, "奖励线（高于）", "Bonus above")) } td.n { (now.money.bonus_above) } }
                    tr { th { (l(lang, "处罚线（低于）", "Penalty below")) } td.n { (now.money.penalty_below) } }
                    tr { th { (l(lang, "每分金额（元）", "Yuan per point")) } td.n { (Points(now.money.fen_per_point)) } }
                    tr { th { (l(lang, "几人起去掉最高最低分", "Trim highest and lowest from")) } td.n { (now.inspection.trim_from) } }
                    tr { th { (l(lang, "周结果至少评分表数", "Fewest sheets for a weekly result")) } td.n { (now.inspection.min_sheets) } }
                    tr { th { (l(lang, "互评在支部综合得分中的权重", "Mutual evaluation's weight in the branch composite")) } td.n #mutual-weight { (now.mutual.weight_percent) "%" } }
                    @for c in BranchCategory::ALL {
                        tr { th { (category_label(lang, c)) " · " (l(lang, "达标/先进", "standard/advanced")) } td.n { (now.grades.of(c).pass) " / " (now.grades.of(c).excellent) } }
                    }
                }
                h3 { (l(lang, "月度考评项目", "Monthly assessment items")) }
                table #form-now {
                    @for i in &now.assessment.items {
                        tr { th { (i.label(lang)) } td.n { (i.max) } }
                    }
                    tr { th { (l(lang, "合计", "Total")) } td.n { (now.assessment.full()) } }
                }
            }
            @if is_admin {
                section {
                    h2 { (l(lang, "修改规则", "Change the rules")) }
                    p.muted { (l(lang, "新规则从所选月份起生效；已经计算和发布的月份不受影响。",
                        "New rules apply from the month chosen on; months already computed and published keep theirs.")) }
                    form method="post" action=(link("/admin/rules")) #rules-form {
                        p { label { (l(lang, "起始月份", "From the month")) " "
                            select name="from" {
                                option value=(next.to_string()) selected { (next.to_string()) }
                                option value=(this.to_string()) { (this.to_string()) }
                                option value=(next.next().to_string()) { (next.next().to_string()) }
                            }
                        } }
                        p {
                            label { (l(lang, "奖励线", "Bonus above")) " " input name="bonus_above" size="5" inputmode="decimal" value=(coming.money.bonus_above); } " "
                            label { (l(lang, "处罚线", "Penalty below")) " " input name="penalty_below" size="5" inputmode="decimal" value=(coming.money.penalty_below); } " "
                            label { (l(lang, "每分金额（元）", "Yuan per point")) " " input name="yuan_per_point" size="6" inputmode="decimal" value=(Points(coming.money.fen_per_point)); }
                        }
                        p {
                            label { (l(lang, "几人起去掉最高最低分", "Trim from")) " " input name="trim_from" size="3" inputmode="numeric" value=(coming.inspection.trim_from); } " "
                            label { (l(lang, "至少评分表数", "Fewest sheets")) " " input name="min_sheets" size="3" inputmode="numeric" value=(coming.inspection.min_sheets); }
                        }
                        p {
                            label { (l(lang, "互评权重（%，0–50）", "Mutual evaluation's weight (%, 0–50)")) " "
                                input name="mutual_weight" size="3" inputmode="numeric" value=(coming.mutual.weight_percent); }
                            span.muted { " " (l(lang, "综合 = 工作 × (100−权重)% + 互评 × 权重% + 加分", "composite = work × (100−weight)% + mutual × weight% + bonus")) }
                        }
                        @for c in BranchCategory::ALL {
                            p { (category_label(lang, c)) " "
                                label { (l(lang, "达标", "standard")) " " input name="pass" size="5" inputmode="decimal" value=(coming.grades.of(c).pass); } " "
                                label { (l(lang, "先进", "advanced")) " " input name="excellent" size="5" inputmode="decimal" value=(coming.grades.of(c).excellent); }
                            }
                        }
                        h3 { (l(lang, "月度考评项目", "Monthly assessment items")) }
                        p.muted { (l(lang, "各项分值合计 100 分。清空名称即删除该项；空行可新增项目。已开始考评的月份，项目不能再改。",
                            "The items come to 100. Clear a name to drop its item; fill an empty row to add one. A month whose assessment has begun keeps its items.")) }
                        table #form-items {
                            tr { th { (l(lang, "名称", "Name")) } th { (l(lang, "英文名称", "English name")) } th.n { (l(lang, "分值", "Points")) } }
                            @for i in &coming.assessment.items {
                                tr {
                                    td { input type="hidden" name="item_key" value=(i.key); input name="item_zh" size="10" value=(i.zh); }
                                    td { input name="item_en" size="14" value=(i.en); }
                                    td.n { input name="item_max" size="4" inputmode="decimal" value=(i.max); }
                                }
                            }
                            @for _ in 0..2 {
                                tr {
                                    td { input type="hidden" name="item_key" value=""; input name="item_zh" size="10" value=""; }
                                    td { input name="item_en" size="14" value=""; }
                                    td.n { input name="item_max" size="4" inputmode="decimal" value=""; }
                                }
                            }
                        }
                        div.actions { button.primary type="submit" { (l(lang, "保存新规则", "Save the new rules")) } }
                    }
                }
            }
            section {
                h2 { (l(lang, "历次修改", "Versions")) }
                @if history.versions.is_empty() {
                    p.muted #no-versions { (l(lang, "一直使用默认规则。", "The default rules have always applied.")) }
                } @else {
                    table #rules-history {
                        tr { th { (l(lang, "起始月份", "From")) } th { (l(lang, "修改人", "By")) } th { (l(lang, "时间", "When")) } th.n { (l(lang, "奖励/处罚线", "Bonus/penalty")) } th.n { (l(lang, "每分金额", "Per point")) } th.n { (l(lang, "互评权重", "Mutual weight")) } th { (l(lang, "考评项目", "Assessment items")) } }
                        @for (from, v) in history.in_effect_order().into_iter().rev() {
                            tr {
                                td { (from.to_string()) }
                                td { (v.by) }
                                td { (when(state, v.at)) }
                                td.n { (v.bonus_above) " / " (v.penalty_below) }
                                td.n { (Points(v.fen_per_point)) }
                                td.n { @if let Some(w) = v.mutual_weight { (w) "%" } @else { "—" } }
                                td { (v.form().items.iter().map(|i| format!("{} {}", i.label(lang), i.max)).collect::<Vec<_>>().join(" · ")) }
                            }
                        }
                    }
                }
            }
        };
        Ok(frame(viewer, l(lang, "考评规则", "Rules"), body))
    })
    .await
}

pub(super) async fn save(
    Shared(state): Shared<Arc<State>>,
    viewer: Viewer,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields::new(fields);
    run(state, viewer.lang, "/admin/rules".into(), move |state| {
        let (pass, excellent) = (f.all("pass"), f.all("excellent"));
        let grade = |n: usize| {
            (
                pass.get(n).copied().unwrap_or_default().to_owned(),
                excellent.get(n).copied().unwrap_or_default().to_owned(),
            )
        };
        let input = RulesInput {
            from: f.get("from").to_owned(),
            bonus_above: f.get("bonus_above").to_owned(),
            penalty_below: f.get("penalty_below").to_owned(),
            yuan_per_point: f.get("yuan_per_point").to_owned(),
            trim_from: f.get("trim_from").to_owned(),
            min_sheets: f.get("min_sheets").to_owned(),
            mutual_weight: f.get("mutual_weight").to_owned(),
            grades: [grade(0), grade(1), grade(2), grade(3)],
            items: {
                let (keys, zh, en, max) = (
                    f.all("item_key"),
                    f.all("item_zh"),
                    f.all("item_en"),
                    f.all("item_max"),
                );
                let at = |v: &[&str], n: usize| v.get(n).copied().unwrap_or_default().to_owned();
                (0..zh.len())
                    .map(|n| ItemInput {
                        key: at(&keys, n),
                        zh: at(&zh, n),
                        en: at(&en, n),
                        max: at(&max, n),
                    })
                    .collect()
            },
        };
        rules::save(state, &viewer.actor, &input)?;
        Ok("/admin/rules".into())
    })
    .await
}
