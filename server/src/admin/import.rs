//! A mine's lists from Excel: the template workbook to fill in (sheets 支部, 责任区, 成员),
//! a filled one read and checked into a [`Plan`] (every row's result, every error by sheet,
//! row and column), and the plan applied through the same operations the console's forms
//! use. Applying the same workbook twice changes nothing the second time.
//!
//! A workbook is read cell by cell (calamine's streaming reader) within bounds: a file larger
//! than [`MAX_BYTES`], a sheet wider or longer than the lists a mine has, or a package whose
//! parts unpack to more than [`MAX_UNPACKED`] is refused before it can fill the memory.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Cursor;

use calamine::{DataRef, Reader, Xlsx};
use rust_xlsxwriter::{Format, Workbook};
use zonepatrol_shared::docs::{Directory, DocId, is_valid_name};
use zonepatrol_shared::labels::{Lang, role_label};
use zonepatrol_shared::rules::check_shares;
use zonepatrol_shared::validate::limits::{NAME_CHARS, PEOPLE_PER_RECORD};
use zonepatrol_shared::{Actor, Role};

use super::accounts::{self, AccountInput};
use super::directory::{self, BranchInput, MemberInput, ZoneInput};
use super::input::{category, code, half_width, tidy};
use super::{self as admin, AdminError};
use crate::State;

/// The largest workbook taken, in bytes.
pub const MAX_BYTES: usize = 5 * 1024 * 1024;
/// The most bytes a workbook's parts may unpack to.
pub const MAX_UNPACKED: u64 = 64 * 1024 * 1024;
/// The most bytes the shared strings may unpack to (read whole by calamine).
const MAX_SHARED_STRINGS: u64 = 16 * 1024 * 1024;
/// The most rows a sheet may have (a mine has hundreds of zones and members, not more).
pub const MAX_ROWS: u32 = 5_000;
/// The most columns read.
const MAX_COLUMNS: u32 = 12;
/// The most cells a sheet may hold, read or not.
const MAX_CELLS: usize = 200_000;

/// The sheets, in the order they are applied.
const BRANCHES: &str = "支部";
const ZONES: &str = "责任区";
const MEMBERS: &str = "成员";

/// A sheet's columns: their headings in Chinese and English.
type Columns = &'static [(&'static str, &'static str)];

/// The columns of each sheet, in Chinese and English.
const BRANCH_COLUMNS: &[(&str, &str)] = &[("编号", "Code"), ("名称", "Name"), ("类别", "Category")];
const ZONE_COLUMNS: &[(&str, &str)] = &[
    ("支部", "Branch"),
    ("名称", "Name"),
    ("位置", "Location"),
    ("责任人", "Holders"),
    ("覆盖班组", "Teams"),
    ("检查标准", "Template"),
];
const MEMBER_COLUMNS: &[(&str, &str)] = &[
    ("支部", "Branch"),
    ("登录名", "Login"),
    ("姓名", "Name"),
    ("党小组", "Party group"),
    ("班组", "Team"),
    ("角色", "Roles"),
    ("初始密码", "First password"),
];

/// The workbook to fill in: the three sheets with their headings and an example row each.
pub fn template_workbook() -> Result<Vec<u8>, AdminError> {
    let fail = |e: rust_xlsxwriter::XlsxError| AdminError::Failed(e.to_string());
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let examples: [(&str, Columns, &[&str]); 3] = [
        (BRANCHES, BRANCH_COLUMNS, &["zcyd", "综采一队党支部", "1"]),
        (
            ZONES,
            ZONE_COLUMNS,
            &[
                "zcyd",
                "三水平上车场",
                "-350 水平 轨道巷 0–120 m",
                "wangwei、liqiang",
                "综采一班",
                "",
            ],
        ),
        (
            MEMBERS,
            MEMBER_COLUMNS,
            &[
                "zcyd",
                "wangwei",
                "王伟",
                "第一党小组",
                "综采一班",
                "责任区负责人",
                "至少8位的密码",
            ],
        ),
    ];
    for (name, columns, example) in examples {
        let sheet = book.add_worksheet();
        sheet.set_name(name).map_err(fail)?;
        for (c, (zh, en)) in (0u16..).zip(columns.iter()) {
            sheet
                .write_string_with_format(0, c, format!("{zh} {en}"), &bold)
                .map_err(fail)?;
            sheet.set_column_width(c, 18).map_err(fail)?;
        }
        for (c, value) in (0u16..).zip(example.iter()) {
            sheet.write_string(1, c, *value).map_err(fail)?;
        }
    }
    book.save_to_buffer().map_err(fail)
}

/// An error in a workbook: where, and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellError {
    /// The sheet's name.
    pub sheet: String,
    /// The row, counted from 1 as Excel shows it (0: the whole sheet or workbook).
    pub row: u32,
    /// The column's letter and heading, if one cell is at fault.
    pub column: String,
    /// What is wrong and what to do, in Chinese.
    pub zh: String,
    /// The same in English.
    pub en: String,
}

/// What applying a row would do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Add it.
    New,
    /// Change it.
    Change,
    /// It is so already.
    Same,
}

/// One row's result in the preview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowResult {
    /// The sheet's name.
    pub sheet: &'static str,
    /// The row, from 1.
    pub row: u32,
    /// What it names, in words.
    pub subject: String,
    /// What applying it does.
    pub action: Action,
}

/// A workbook read and checked: what applying it does, or why it cannot be applied.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Every row's result.
    pub rows: Vec<RowResult>,
    /// Every error; the plan applies only when there is none.
    pub errors: Vec<CellError>,
    branches: Vec<(String, BranchInput)>,
    members: Vec<(String, MemberInput, Option<AccountInput>)>,
    zones: Vec<(String, Option<String>, ZoneInput)>,
}

impl Plan {
    /// Whether applying it changes anything.
    pub fn changes_something(&self) -> bool {
        self.rows.iter().any(|r| r.action != Action::Same)
    }
}

/// One sheet's cells by row, as text tidied (numbers written without a trailing ".0").
type Rows = BTreeMap<u32, BTreeMap<u32, String>>;

fn whole(zh: impl Into<String>, en: impl Into<String>) -> CellError {
    CellError {
        sheet: String::new(),
        row: 0,
        column: String::new(),
        zh: zh.into(),
        en: en.into(),
    }
}

fn cell_text(value: &DataRef<'_>) -> String {
    match value {
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        DataRef::Float(f) => f.to_string(),
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_owned(),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(d) => d.as_f64().to_string(),
        DataRef::Error(_) | DataRef::Empty => String::new(),
    }
}

fn column_letter(c: u32) -> String {
    let mut n = c + 1;
    let mut out = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        out.push(char::from(b'A' + rem as u8));
        n = (n - 1) / 26;
    }
    out.iter().rev().collect()
}

/// Checks the package before calamine unpacks it: a zip whose parts claim to unpack to more
/// than [`MAX_UNPACKED`] is a bomb, not a list of zones.
fn check_package(bytes: &[u8]) -> Result<(), CellError> {
    let not_workbook = || {
        whole(
            "这不是 Excel 工作簿（.xlsx）：请下载模板，填好后另存为 .xlsx 再上传。",
            "This is not an Excel workbook (.xlsx): download the template, fill it in and save it as .xlsx.",
        )
    };
    if bytes.is_empty() {
        return Err(whole(
            "文件是空的：请选择填好的工作簿。",
            "The file is empty: choose the filled workbook.",
        ));
    }
    if !bytes.starts_with(b"PK") {
        return Err(not_workbook());
    }
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| not_workbook())?;
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let entry = zip.by_index_raw(i).map_err(|_| not_workbook())?;
        // calamine reads every shared string at once: keep that part small.
        let shared_strings = entry.name().is_ok_and(|n| n.ends_with("sharedStrings.xml"));
        if shared_strings && entry.size() > MAX_SHARED_STRINGS {
            return Err(whole(
                "工作簿的文字表过大：请只保留支部、责任区、成员三张表。",
                "The workbook's text table is too large: keep just the three sheets.",
            ));
        }
        total = total.saturating_add(entry.size());
    }
    if total > MAX_UNPACKED {
        return Err(whole(
            format!(
                "工作簿解开后超过 {} MB：一个矿的名单用不了这么大，请只保留这三张表。",
                MAX_UNPACKED >> 20
            ),
            format!(
                "The workbook unpacks to more than {} MB: keep just the three sheets.",
                MAX_UNPACKED >> 20
            ),
        ));
    }
    Ok(())
}

/// What a file larger than [`MAX_BYTES`] is told, in Chinese and English.
pub fn too_large_words() -> (String, String) {
    (
        format!(
            "文件超过 {} MB：请只保留支部、责任区、成员三张表。",
            MAX_BYTES >> 20
        ),
        format!(
            "The file is larger than {} MB: keep just the three sheets.",
            MAX_BYTES >> 20
        ),
    )
}

/// Reads the three sheets' cells, within the bounds.
fn read_sheets(bytes: &[u8]) -> Result<BTreeMap<&'static str, Rows>, Vec<CellError>> {
    if bytes.len() > MAX_BYTES {
        let (zh, en) = too_large_words();
        return Err(vec![whole(zh, en)]);
    }
    check_package(bytes).map_err(|e| vec![e])?;
    let opened = std::panic::catch_unwind(|| Xlsx::new(Cursor::new(bytes)));
    let mut book = match opened {
        Ok(Ok(book)) => book,
        _ => {
            return Err(vec![whole(
                "这不是能读的 Excel 工作簿（.xlsx）：请下载模板，填好后另存为 .xlsx 再上传。",
                "This workbook cannot be read as .xlsx: download the template, fill it in and save it as .xlsx.",
            )]);
        }
    };
    let names = book.sheet_names();
    let mut errors = Vec::new();
    let mut out = BTreeMap::new();
    for (sheet, columns) in [
        (BRANCHES, BRANCH_COLUMNS),
        (ZONES, ZONE_COLUMNS),
        (MEMBERS, MEMBER_COLUMNS),
    ] {
        if !names.iter().any(|n| n == sheet) {
            errors.push(CellError {
                sheet: sheet.to_owned(),
                row: 0,
                column: String::new(),
                zh: format!("缺少“{sheet}”表：请用下载的模板填写。"),
                en: format!("The sheet “{sheet}” is missing: fill in the downloaded template."),
            });
            continue;
        }
        match book.merge_cells_by_sheet_name(sheet) {
            Ok(merged) if !merged.is_empty() => {
                let m = &merged[0];
                errors.push(CellError {
                    sheet: sheet.to_owned(),
                    row: m.start.0 + 1,
                    column: format!(
                        "{}{}:{}{}",
                        column_letter(m.start.1),
                        m.start.0 + 1,
                        column_letter(m.end.1),
                        m.end.0 + 1
                    ),
                    zh: "有合并单元格：请取消合并，每行每格各写各的值。".into(),
                    en: "There are merged cells: unmerge them, and give each row its own values."
                        .into(),
                });
                continue;
            }
            _ => {}
        }
        let mut rows = Rows::new();
        let mut cells = 0usize;
        let read = (|| -> Result<Option<CellError>, calamine::XlsxError> {
            let mut reader = book.worksheet_cells_reader(sheet)?;
            while let Some(cell) = reader.next_cell()? {
                let (r, c) = cell.get_position();
                if r >= MAX_ROWS {
                    return Ok(Some(CellError {
                        sheet: sheet.to_owned(),
                        row: r + 1,
                        column: String::new(),
                        zh: format!("超过 {MAX_ROWS} 行：请分成几个工作簿导入。"),
                        en: format!("More than {MAX_ROWS} rows: import it in several workbooks."),
                    }));
                }
                cells += 1;
                if cells > MAX_CELLS {
                    return Ok(Some(CellError {
                        sheet: sheet.to_owned(),
                        row: r + 1,
                        column: String::new(),
                        zh: format!("这张表的单元格超过 {MAX_CELLS} 个：请删去模板以外的行和列。"),
                        en: format!(
                            "The sheet has more than {MAX_CELLS} cells: delete the rows and columns the template does not have."
                        ),
                    }));
                }
                if c >= MAX_COLUMNS {
                    continue;
                }
                let text = tidy(&cell_text(cell.get_value()));
                if !text.is_empty() {
                    rows.entry(r).or_default().insert(c, text);
                }
            }
            Ok(None)
        })();
        match read {
            Ok(None) => {}
            Ok(Some(e)) => {
                errors.push(e);
                continue;
            }
            Err(e) => {
                errors.push(CellError {
                    sheet: sheet.to_owned(),
                    row: 0,
                    column: String::new(),
                    zh: format!("这张表读不出来（{e}）：请另存为 .xlsx 再试。"),
                    en: format!("This sheet cannot be read ({e}): save it as .xlsx again."),
                });
                continue;
            }
        }
        if rows.is_empty() {
            // A sheet left empty: nothing of that kind to import.
            out.insert(sheet, rows);
            continue;
        }
        // The heading row names the columns in the template's order.
        let heading = rows.remove(&0).unwrap_or_default();
        for (c, (zh, en)) in (0u32..).zip(columns.iter()) {
            let found = heading.get(&c).map(String::as_str).unwrap_or_default();
            if !found.contains(zh) && !found.to_lowercase().contains(&en.to_lowercase()) {
                errors.push(CellError {
                    sheet: sheet.to_owned(),
                    row: 1,
                    column: format!("{}（{zh}）", column_letter(c)),
                    zh: format!("第 1 行 {} 列应是“{zh}”：请用下载的模板，不要调换列的顺序。", column_letter(c)),
                    en: format!("Row 1, column {} should be “{en}”: use the downloaded template and keep its columns in order.", column_letter(c)),
                });
                break;
            }
        }
        out.insert(sheet, rows);
    }
    if errors.is_empty() && out.values().all(BTreeMap::is_empty) {
        errors.push(whole(
            "工作簿里没有任何一行：请在模板的三张表中填写后再上传。",
            "The workbook has no rows: fill in the template's sheets first.",
        ));
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// A list of login names ("wangwei、liqiang"), split on the separators people use.
fn list(s: &str) -> Vec<String> {
    s.split([',', '，', '、', ';', '；', ' ', '/'])
        .map(code)
        .filter(|x| !x.is_empty())
        .collect()
}

/// A list of names ("综采一班，机电班"), split as the console's form splits them.
fn names(s: &str) -> Vec<String> {
    s.split([',', '，', '、', ';', '；'])
        .map(tidy)
        .filter(|x| !x.is_empty())
        .collect()
}

/// The first text of a row longer than the documents take, with its column.
fn too_long(cells: &BTreeMap<u32, String>) -> Option<u32> {
    cells
        .iter()
        .find(|(_, v)| v.chars().count() > NAME_CHARS)
        .map(|(c, _)| *c)
}

fn role_of(s: &str) -> Option<Role> {
    let s = half_width(s);
    Role::ALL.into_iter().find(|r| {
        r.as_str().eq_ignore_ascii_case(&s)
            || role_label(Lang::Zh, *r) == s
            || role_label(Lang::En, *r).eq_ignore_ascii_case(&s)
    })
}

/// One workbook read at a time: each can take tens of megabytes while it is read.
static READING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Reads a workbook and checks it against the mine as it is, for `who`: nothing is changed.
pub fn plan(state: &State, who: &Actor, bytes: &[u8]) -> Result<Plan, AdminError> {
    let _turn = turn()?;
    plan_now(state, who, bytes)
}

/// Waits a while for the turn to read a workbook.
fn turn() -> Result<std::sync::MutexGuard<'static, ()>, AdminError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        match READING.try_lock() {
            Ok(turn) => return Ok(turn),
            Err(std::sync::TryLockError::Poisoned(e)) => return Ok(e.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(std::sync::TryLockError::WouldBlock) => {
                return Err(AdminError::invalid(
                    "另一个工作簿正在导入：请稍等片刻再上传。",
                    "Another workbook is being read: upload again in a moment.",
                ));
            }
        }
    }
}

/// Reads a workbook, checks it against the mine as it is now and, when nothing is wrong,
/// applies it, all in one turn (so that the same workbook confirmed twice at once applies
/// once). The plan with its errors when something is wrong; else how many rows changed.
pub fn plan_and_apply(
    state: &State,
    who: &Actor,
    bytes: &[u8],
) -> Result<Result<usize, Plan>, AdminError> {
    let _turn = turn()?;
    let plan = plan_now(state, who, bytes)?;
    if !plan.errors.is_empty() {
        return Ok(Err(plan));
    }
    apply(state, who, &plan).map(Ok)
}

fn plan_now(state: &State, who: &Actor, bytes: &[u8]) -> Result<Plan, AdminError> {
    let mut plan = Plan::default();
    let sheets = match read_sheets(bytes) {
        Ok(s) => s,
        Err(errors) => {
            plan.errors = errors;
            return Ok(plan);
        }
    };
    let empty = Rows::new();
    let sheet = |name| sheets.get(name).unwrap_or(&empty);
    let err = |plan: &mut Plan,
               sheet: &str,
               row: u32,
               col: u32,
               columns: &[(&str, &str)],
               zh: String,
               en: String| {
        let heading = columns.get(col as usize).map_or("", |c| c.0);
        plan.errors.push(CellError {
            sheet: sheet.to_owned(),
            row: row + 1,
            column: format!("{}（{heading}）", column_letter(col)),
            zh,
            en,
        });
    };
    // The branches as they are, and as the workbook will leave them.
    let known = directory::branches(state, who)?;
    let mut dirs: BTreeMap<String, Option<Directory>> = BTreeMap::new();
    for (id, _) in &known {
        dirs.insert(id.clone(), directory::directory(state, id)?);
    }
    let by_name: BTreeMap<String, String> = known
        .iter()
        .map(|(id, info)| (info.name.clone(), id.clone()))
        .collect();
    let mut branch_ids: BTreeSet<String> = dirs.keys().cloned().collect();
    let mut branch_names = by_name.clone();

    for (&r, cells) in sheet(BRANCHES) {
        let get = |c: u32| cells.get(&c).cloned().unwrap_or_default();
        if let Some(c) = too_long(cells) {
            err(
                &mut plan,
                BRANCHES,
                r,
                c,
                BRANCH_COLUMNS,
                format!("超过 {NAME_CHARS} 个字：请写短一些。"),
                format!("Longer than {NAME_CHARS} characters: shorten it."),
            );
            continue;
        }
        let (id, name, cat) = (code(&get(0)), get(1), get(2));
        if id.is_empty() || !is_valid_name(&id) {
            err(
                &mut plan,
                BRANCHES,
                r,
                0,
                BRANCH_COLUMNS,
                format!("编号“{id}”不可用：请用字母、数字、“-”“_”“.”，如 zcyd。"),
                format!(
                    "“{id}” cannot be a code: use letters, digits, '-', '_' or '.', such as zcyd."
                ),
            );
            continue;
        }
        if name.is_empty() {
            err(
                &mut plan,
                BRANCHES,
                r,
                1,
                BRANCH_COLUMNS,
                "请填写支部名称。".into(),
                "Fill in the branch's name.".into(),
            );
            continue;
        }
        let Some(category) = category(&cat) else {
            err(
                &mut plan,
                BRANCHES,
                r,
                2,
                BRANCH_COLUMNS,
                format!("类别“{cat}”不对：填 1–4 或 主要生产、辅助生产、后勤服务、机关。"),
                format!("Category “{cat}” is wrong: use 1–4."),
            );
            continue;
        };
        if let Some(other) = branch_names.get(&name).filter(|other| **other != id) {
            let other = other.clone();
            err(
                &mut plan,
                BRANCHES,
                r,
                1,
                BRANCH_COLUMNS,
                format!("已有名为“{name}”的支部（编号 {other}）。"),
                format!("A branch named “{name}” exists already ({other})."),
            );
            continue;
        }
        if plan.branches.iter().any(|(b, _)| *b == id) {
            err(
                &mut plan,
                BRANCHES,
                r,
                0,
                BRANCH_COLUMNS,
                format!("编号“{id}”出现了两次。"),
                format!("The code “{id}” appears twice."),
            );
            continue;
        }
        let input = BranchInput {
            name: name.clone(),
            category,
            retired: false,
        };
        let action = match dirs.get(&id).and_then(Option::as_ref) {
            None => Action::New,
            Some(d)
                if d.info.name == name
                    && d.info.category == u64::from(category.number())
                    && !d.info.retired =>
            {
                Action::Same
            }
            Some(_) => Action::Change,
        };
        if action != Action::Same && !who.has(Role::Admin) {
            err(
                &mut plan,
                BRANCHES,
                r,
                0,
                BRANCH_COLUMNS,
                "只有管理员可以新建或修改支部。".into(),
                "Only an admin creates or changes branches.".into(),
            );
            continue;
        }
        plan.rows.push(RowResult {
            sheet: BRANCHES,
            row: r + 1,
            subject: format!("{name}（{id}）"),
            action,
        });
        branch_ids.insert(id.clone());
        branch_names.insert(name, id.clone());
        plan.branches.push((id, input));
    }
    let branch_of = |s: &str| -> Option<String> {
        let c = code(s);
        if branch_ids.contains(&c) {
            return Some(c);
        }
        branch_names.get(&tidy(s)).cloned()
    };

    // The start of a member's or a zone's row: no text too long, a branch that exists.
    let row_branch = |plan: &mut Plan,
                      sheet: &str,
                      r: u32,
                      cells: &BTreeMap<u32, String>,
                      columns: Columns|
     -> Option<String> {
        if let Some(c) = too_long(cells) {
            err(
                plan,
                sheet,
                r,
                c,
                columns,
                format!("超过 {NAME_CHARS} 个字：请写短一些。"),
                format!("Longer than {NAME_CHARS} characters: shorten it."),
            );
            return None;
        }
        let given = cells.get(&0).cloned().unwrap_or_default();
        let branch = branch_of(&given);
        if branch.is_none() {
            err(
                plan,
                sheet,
                r,
                0,
                columns,
                format!("没有支部“{given}”：先在“支部”表中添加，或填写已有支部的编号。"),
                format!(
                    "There is no branch “{given}”: add it on the branch sheet, or use an existing code."
                ),
            );
        }
        branch
    };
    let mut members_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (b, d) in &dirs {
        if let Some(d) = d {
            members_of.insert(b.clone(), d.members.keys().cloned().collect());
        }
    }
    for (&r, cells) in sheet(MEMBERS) {
        let get = |c: u32| cells.get(&c).cloned().unwrap_or_default();
        let Some(branch) = row_branch(&mut plan, MEMBERS, r, cells, MEMBER_COLUMNS) else {
            continue;
        };
        let (id, name) = (code(&get(1)), get(2));
        if !is_valid_name(&id) {
            err(
                &mut plan,
                MEMBERS,
                r,
                1,
                MEMBER_COLUMNS,
                format!("登录名“{id}”不可用：请用字母、数字、“-”“_”“.”，如拼音 wangwei。"),
                format!("“{id}” cannot be a login name: use letters, digits, '-', '_' or '.'."),
            );
            continue;
        }
        if name.is_empty() {
            err(
                &mut plan,
                MEMBERS,
                r,
                2,
                MEMBER_COLUMNS,
                "请填写姓名。".into(),
                "Fill in the member's name.".into(),
            );
            continue;
        }
        if plan.members.iter().any(|(_, m, _)| m.id == id) {
            err(
                &mut plan,
                MEMBERS,
                r,
                1,
                MEMBER_COLUMNS,
                format!("登录名“{id}”出现了两次：每人一个登录名。"),
                format!("The login “{id}” appears twice: one login per person."),
            );
            continue;
        }
        let mut roles = Vec::new();
        let mut bad_role = None;
        for word in get(5)
            .split([',', '，', '、', ';', '；', ' ', '/'])
            .filter(|w| !w.trim().is_empty())
        {
            match role_of(word) {
                Some(role) if !roles.contains(&role) => roles.push(role),
                Some(_) => {}
                None => bad_role = Some(word.to_owned()),
            }
        }
        if let Some(word) = bad_role {
            err(
                &mut plan,
                MEMBERS,
                r,
                5,
                MEMBER_COLUMNS,
                format!(
                    "角色“{word}”不认识：填 支部书记、检查人员、责任区负责人、班组长、党委管理人员 或 管理员，多个用顿号分开。"
                ),
                format!(
                    "Unknown role “{word}”: use secretary, inspector, zone_holder, team_leader, manager or admin."
                ),
            );
            continue;
        }
        let password = get(6);
        let existing = state.store.user(&id)?;
        let member = MemberInput {
            id: id.clone(),
            name: name.clone(),
            group: get(3),
            team: get(4),
        };
        let account = if roles.is_empty() {
            None
        } else {
            let input = AccountInput {
                user: id.clone(),
                branch: branch.clone(),
                roles: roles.clone(),
                password: (existing.is_none() && !password.is_empty()).then(|| password.clone()),
            };
            if existing.is_none() && password.chars().count() < 8 {
                err(
                    &mut plan,
                    MEMBERS,
                    r,
                    6,
                    MEMBER_COLUMNS,
                    "新账号需要至少 8 位的初始密码。".into(),
                    "A new account needs a first password of 8 characters or more.".into(),
                );
                continue;
            }
            if let Some(e) = existing.as_ref().filter(|e| !accounts::may_manage(who, e)) {
                err(
                    &mut plan,
                    MEMBERS,
                    r,
                    1,
                    MEMBER_COLUMNS,
                    format!("登录名“{}”已被另一个您不能管理的账号使用。", e.user),
                    "That login belongs to an account you cannot manage.".into(),
                );
                continue;
            }
            if let Some(role) = roles.iter().find(|r| !accounts::grantable(who).has(**r)) {
                err(
                    &mut plan,
                    MEMBERS,
                    r,
                    5,
                    MEMBER_COLUMNS,
                    format!("您不能授予“{}”角色。", role.label_zh()),
                    format!("You may not grant the role {role}."),
                );
                continue;
            }
            Some(input)
        };
        if !super::may_administer_branch(who, &branch) {
            err(
                &mut plan,
                MEMBERS,
                r,
                0,
                MEMBER_COLUMNS,
                "您只能维护本支部。".into(),
                "You can keep only your own branch.".into(),
            );
            continue;
        }
        let stored_member = dirs
            .get(&branch)
            .and_then(Option::as_ref)
            .and_then(|d| d.members.get(&id));
        let same_member = stored_member
            .is_some_and(|m| m.name == name && m.group == member.group && m.team == member.team);
        let same_account = match (&account, &existing) {
            (None, _) => true,
            (Some(a), Some(e)) => {
                let held: Vec<Role> = e.actor().roles().iter().collect();
                let mut wanted = a.roles.clone();
                wanted.sort();
                e.branch == a.branch && held == wanted
            }
            (Some(_), None) => false,
        };
        let action = match (stored_member, same_member && same_account) {
            (None, _) => Action::New,
            (Some(_), true) => Action::Same,
            (Some(_), false) => Action::Change,
        };
        plan.rows.push(RowResult {
            sheet: MEMBERS,
            row: r + 1,
            subject: format!("{name}（{id}）"),
            action,
        });
        members_of
            .entry(branch.clone())
            .or_default()
            .insert(id.clone());
        plan.members.push((branch, member, account));
    }

    for (&r, cells) in sheet(ZONES) {
        let get = |c: u32| cells.get(&c).cloned().unwrap_or_default();
        let Some(branch) = row_branch(&mut plan, ZONES, r, cells, ZONE_COLUMNS) else {
            continue;
        };
        if !super::may_administer_branch(who, &branch) {
            err(
                &mut plan,
                ZONES,
                r,
                0,
                ZONE_COLUMNS,
                "您只能维护本支部。".into(),
                "You can keep only your own branch.".into(),
            );
            continue;
        }
        let name = get(1);
        if name.is_empty() {
            err(
                &mut plan,
                ZONES,
                r,
                1,
                ZONE_COLUMNS,
                "请填写责任区名称。".into(),
                "Fill in the zone's name.".into(),
            );
            continue;
        }
        if plan
            .zones
            .iter()
            .any(|(b, _, z)| *b == branch && z.name == name)
        {
            err(
                &mut plan,
                ZONES,
                r,
                1,
                ZONE_COLUMNS,
                format!("责任区“{name}”在本支部出现了两次。"),
                format!("The zone “{name}” appears twice in the branch."),
            );
            continue;
        }
        let holders = list(&get(3));
        if holders.len() > PEOPLE_PER_RECORD || names(&get(4)).len() > PEOPLE_PER_RECORD {
            err(
                &mut plan,
                ZONES,
                r,
                3,
                ZONE_COLUMNS,
                format!("一个责任区最多 {PEOPLE_PER_RECORD} 个责任人和班组。"),
                format!("A zone has at most {PEOPLE_PER_RECORD} holders and teams."),
            );
            continue;
        }
        let known_members = members_of.get(&branch);
        if let Some(h) = holders
            .iter()
            .find(|h| !known_members.is_some_and(|m| m.contains(*h)))
        {
            err(
                &mut plan,
                ZONES,
                r,
                3,
                ZONE_COLUMNS,
                format!("责任人“{h}”不是本支部成员：请在“成员”表中添加，或改正登录名。"),
                format!(
                    "“{h}” is not a member of the branch: add them on the member sheet, or correct the login."
                ),
            );
            continue;
        }
        let dir = dirs.get(&branch).and_then(Option::as_ref);
        let template_name = get(5);
        let template = if template_name.is_empty() {
            None
        } else {
            let found = dir.and_then(|d| {
                directory::current_templates(d)
                    .into_iter()
                    .find(|(id, t)| t.name == template_name || **id == template_name)
                    .map(|(id, _)| id.clone())
            });
            if found.is_none() {
                err(
                    &mut plan,
                    ZONES,
                    r,
                    5,
                    ZONE_COLUMNS,
                    format!(
                        "本支部没有检查标准“{template_name}”：先在控制台建立，或留空以后再选。"
                    ),
                    format!(
                        "The branch has no template “{template_name}”: create it in the console, or leave it empty."
                    ),
                );
                continue;
            }
            found
        };
        let stored = dir.and_then(|d| d.zones.iter().find(|(_, z)| z.name == name));
        let input = ZoneInput {
            name: name.clone(),
            location: get(2),
            holders: holders.clone(),
            teams: names(&get(4)),
            template: template
                .clone()
                .or_else(|| stored.map(|(_, z)| z.template.clone()))
                .unwrap_or_default(),
            // A retired zone stays retired: the workbook does not say otherwise.
            active: stored.is_none_or(|(_, z)| z.active),
            // The shares stay while the holders do; new holders share equally until the
            // secretary says otherwise on the zone's page.
            shares: stored
                .map(|(_, z)| z.shares.clone())
                .filter(|s| check_shares(&holders, s).is_ok())
                .unwrap_or_default(),
        };
        let action = match stored {
            None => Action::New,
            Some((_, z)) => {
                let same = z.location == tidy(&input.location)
                    && z.holders.keys().cloned().collect::<Vec<_>>() == {
                        let mut h = holders.clone();
                        h.sort();
                        h.dedup();
                        h
                    }
                    && z.teams.keys().cloned().collect::<BTreeSet<_>>()
                        == input.teams.iter().cloned().collect::<BTreeSet<_>>()
                    && z.template == input.template;
                if same { Action::Same } else { Action::Change }
            }
        };
        plan.rows.push(RowResult {
            sheet: ZONES,
            row: r + 1,
            subject: format!("{name}（{branch}）"),
            action,
        });
        plan.zones
            .push((branch, stored.map(|(id, _)| id.clone()), input));
    }
    Ok(plan)
}

/// Applies a plan without errors (see [`plan_and_apply`], which makes it in the same turn): branches first; then every account is checked before
/// anything else is written (a refused one leaves the members and zones as they were); then
/// each branch's members and zones as one change of its directory, validated once; then the
/// accounts. A row already so is left alone. Returns how many rows changed something.
fn apply(state: &State, who: &Actor, plan: &Plan) -> Result<usize, AdminError> {
    if !plan.errors.is_empty() {
        return Err(AdminError::invalid(
            "工作簿还有错误：改正后重新上传。",
            "The workbook still has errors: fix them and upload it again.",
        ));
    }
    let mut changed = 0;
    let mut rows = plan.rows.iter();
    for (id, input) in &plan.branches {
        let action = rows.next().map_or(Action::New, |r| r.action);
        match action {
            Action::Same => {}
            Action::New => {
                directory::create_branch(state, who, Some(id), input)?;
                changed += 1;
            }
            Action::Change => {
                directory::update_branch(state, who, id, input)?;
                changed += 1;
            }
        }
    }
    // Each branch's rows to write, and the accounts, checked before anything is written.
    let mut members: BTreeMap<&str, Vec<&MemberInput>> = BTreeMap::new();
    let mut accounts_checked = Vec::new();
    for (branch, member, account) in &plan.members {
        let action = rows.next().map_or(Action::New, |r| r.action);
        if action == Action::Same {
            continue;
        }
        if let Some(a) = account {
            accounts_checked.push(accounts::check_account(state, who, a)?);
        }
        members.entry(branch).or_default().push(member);
        changed += 1;
    }
    let mut zones: BTreeMap<&str, Vec<(&Option<String>, &ZoneInput)>> = BTreeMap::new();
    for (branch, zone, input) in &plan.zones {
        let action = rows.next().map_or(Action::New, |r| r.action);
        if action == Action::Same {
            continue;
        }
        zones.entry(branch).or_default().push((zone, input));
        changed += 1;
    }
    let branches: BTreeSet<&str> = members.keys().chain(zones.keys()).copied().collect();
    for branch in branches {
        let (m, z) = (
            members.get(branch).map_or(&[][..], Vec::as_slice),
            zones.get(branch).map_or(&[][..], Vec::as_slice),
        );
        admin::edit_document::<Directory>(
            state,
            who,
            &DocId::directory(branch),
            &format!("导入成员 {} 人、责任区 {} 个", m.len(), z.len()),
            |d| {
                for member in m {
                    d.members
                        .insert(code(&member.id), directory::member_value(member));
                }
                for (zone, input) in z {
                    let name = tidy(&input.name);
                    let same_name = d.zones.iter().find(|(_, z)| z.name == name);
                    let id = match (zone, same_name) {
                        (Some(id), _) => id.clone(),
                        // Added since the plan was made: the same zone, not a second one.
                        (None, Some((id, _))) => id.clone(),
                        (None, None) => directory::fresh_id('z'),
                    };
                    d.zones.insert(id, directory::zone_value(input));
                }
                Ok(())
            },
        )?;
        admin::on_record(
            state,
            who,
            branch,
            "import",
            branch,
            format!("从 Excel 导入：成员 {} 人，责任区 {} 个", m.len(), z.len()),
        )?;
    }
    for checked in accounts_checked {
        accounts::store_account(state, who, checked)?;
    }
    Ok(changed)
}
