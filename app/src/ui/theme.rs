//! The look: dark, high contrast, large type, touch targets of at least 48 px. Made for a
//! small phone held in a glove in a dark roadway.

/// The app's style sheet.
pub const CSS: &str = r#"
:root { color-scheme: dark; --bg: #0b0d10; --panel: #171b21; --text: #f4f6f8; --dim: #aab4c0;
  --accent: #ffb020; --ok: #3ddc84; --warn: #ffb020; --bad: #ff5c5c; --line: #2c333d; }
* { box-sizing: border-box; }
html, body { margin: 0; background: var(--bg); color: var(--text);
  font-family: "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif;
  font-size: 20px; line-height: 1.45; -webkit-text-size-adjust: 100%; }
main { max-width: 480px; margin: 0 auto; padding: 12px 14px 96px; }
h1 { font-size: 26px; margin: 8px 0 14px; }
h2 { font-size: 22px; margin: 18px 0 8px; }
label { display: block; margin: 14px 0 6px; color: var(--dim); }
input, textarea, select { width: 100%; min-height: 56px; font-size: 20px; padding: 10px 14px;
  background: var(--panel); color: var(--text); border: 2px solid var(--line); border-radius: 10px; }
input:focus, textarea:focus { outline: 3px solid var(--accent); border-color: var(--accent); }
button { min-height: 56px; min-width: 56px; font-size: 20px; font-weight: 600; padding: 8px 16px;
  border-radius: 10px; border: 2px solid var(--line); background: var(--panel); color: var(--text); }
button.primary { width: 100%; margin-top: 18px; background: var(--accent); color: #111; border-color: var(--accent); }
button:active { filter: brightness(1.3); }
button:disabled { opacity: 0.5; }
.error { color: var(--bad); font-weight: 600; margin: 12px 0; }
.banner { position: sticky; top: 0; z-index: 5; padding: 10px 14px; margin: -12px -14px 12px;
  font-size: 18px; border-bottom: 2px solid var(--line); background: var(--panel); }
.banner { display: flex; justify-content: space-between; align-items: center; gap: 8px; min-height: 48px; }
.sync-now { white-space: nowrap; color: var(--text); font-weight: 600; }
.banner.ok { color: var(--ok); } .banner.busy { color: var(--accent); }
.banner.offline { color: var(--dim); } .banner.bad { color: var(--bad); }
.item { background: var(--panel); border-radius: 12px; padding: 12px; margin: 10px 0; }
.item.na { opacity: 0.55; }
.item-head { display: flex; justify-content: space-between; gap: 10px; }
.item-score { font-size: 24px; font-weight: 700; white-space: nowrap; }
.rule { display: flex; align-items: center; gap: 8px; margin-top: 8px; }
.rule-text { flex: 1; }
.count { min-width: 40px; text-align: center; font-size: 24px; font-weight: 700; }
.total { position: fixed; left: 0; right: 0; bottom: 0; z-index: 5; display: flex;
  justify-content: space-between; align-items: center; padding: 10px 16px; min-height: 72px;
  background: #000; border-top: 3px solid var(--accent); font-size: 22px; }
.total strong { font-size: 32px; color: var(--accent); }
.who, .dim { color: var(--dim); }
.who { margin: 0 0 8px; }
button.wide { display: block; width: 100%; margin-top: 12px; text-align: left; }
.due li.late { color: var(--bad); font-weight: bold; }
button.danger { border-color: var(--bad); color: var(--bad); font-weight: bold; }
button.back { margin: 2px 0; padding-left: 0; background: transparent; border-color: transparent;
  color: var(--accent); }
.choices { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; }
.date-field { display: flex; gap: 8px; align-items: stretch; }
.date-field input { flex: 1; min-width: 0; text-align: center; font-size: 22px; font-variant-numeric: tabular-nums; }
.date-field button.step { min-width: 64px; font-size: 28px; font-weight: 700; }
button.choice { width: 100%; }
button.check { display: block; width: 100%; margin: 8px 0; text-align: left; }
button[aria-pressed=true] { background: #3a2a00; border-color: var(--accent); color: var(--accent); }
button.check[aria-pressed=true]::before { content: "✓ "; }
button.check[aria-pressed=false]::before { content: "○ "; color: var(--dim); }
button.row { display: flex; flex-direction: column; align-items: flex-start; width: 100%;
  margin: 8px 0; padding: 10px 14px; text-align: left; }
.row-main { font-size: 21px; }
.row-sub { font-size: 17px; font-weight: 400; color: var(--dim); }
button.row.closed { opacity: 0.6; }
button.row.overdue { border-color: var(--bad); }
.badge { display: inline-block; margin-left: 8px; padding: 0 10px; border-radius: 999px;
  background: #000; color: var(--accent); }
.badge.bad { background: var(--bad); color: #fff; }
.badge.good { background: var(--ok); color: #000; }
.thumbs { display: flex; flex-wrap: wrap; gap: 8px; margin: 4px 0 12px; }
.thumb { width: 120px; height: 120px; object-fit: cover; border-radius: 8px; border: 1px solid var(--dim); }
.thumb.missing { display: flex; align-items: center; padding: 8px; font-size: 15px; }
.thumb-box { display: flex; flex-direction: column; gap: 4px; }
.thumb-open { padding: 0; border: none; background: none; min-height: 0; }
.thumb-remove { min-height: 48px; font-size: 16px; }
.viewer { position: fixed; inset: 0; background: #000; z-index: 10; display: flex; flex-direction: column; }
.viewer-tools { display: flex; gap: 8px; padding: 8px; }
.viewer-tools button { flex: 1; min-height: 56px; }
.viewer-frame { flex: 1; overflow: auto; touch-action: pan-x pan-y pinch-zoom; }
.viewer-frame img { display: block; max-width: none; }
.viewer-photo { position: relative; }
.viewer-photo img { width: 100%; }
.thumb-open { position: relative; }
.marks-layer { position: absolute; inset: 0; pointer-events: none; }
.thumb-open .marks-layer { border-radius: 8px; overflow: hidden; }
.marks-layer svg { display: block; width: 100%; height: 100%; }
.annotate .hint { margin: 0 8px; color: #fff; }
.annotate-words { display: flex; flex-wrap: wrap; gap: 8px; padding: 0 8px 8px; }
.annotate-words input { flex: 1 1 100%; min-height: 56px; font-size: 20px; }
.annotate-words button.choice { width: auto; flex: 1 0 28%; min-height: 56px; padding: 0 4px; }
.annotate .viewer-tools button { white-space: nowrap; padding: 0 4px; }
.annotate-frame { flex: 1; min-height: 0; display: flex; align-items: center; justify-content: center; overflow: hidden; container-type: size; }
.annotate-photo { position: relative; }
.thumb-open .thumb { display: block; }
.annotate-photo img { display: block; width: 100%; height: 100%; object-fit: fill; }
.annotate-touch { position: absolute; inset: 0; touch-action: none; cursor: crosshair; }
.handle { position: absolute; width: 56px; height: 56px; margin: -28px 0 0 -28px; border-radius: 50%;
  border: 4px solid #ffd400; background: rgba(255, 212, 0, 0.3); box-shadow: 0 0 0 2px #000; pointer-events: none; }
.notice { position: sticky; top: 50px; z-index: 4; margin: 0 0 8px; padding: 8px 12px;
  border-radius: 8px; background: #10301f; color: var(--ok); font-weight: 600; }
.notice.bad { background: #3a1010; color: var(--bad); }
.item-tools { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin-top: 10px; }
form.photo { display: inline-block; margin: 0; }
form.photo input[type=file] { position: absolute; width: 1px; height: 1px; opacity: 0; }
details.authority { margin-top: 24px; }
details.authority summary { display: flex; align-items: center; min-height: 56px; font-size: 18px; cursor: pointer; }
details.authority button { margin-top: 8px; }
details.more-time { margin-top: 24px; }
details.more-time summary { display: flex; align-items: center; min-height: 56px; font-size: 18px; cursor: pointer; }
details.more-time button { margin-top: 8px; }
label.button { display: inline-flex; align-items: center; min-height: 56px; margin: 0;
  padding: 8px 16px; border-radius: 10px; border: 2px solid var(--line); background: var(--panel);
  color: var(--text); font-weight: 600; }
label.button.busy { opacity: 0.6; }
.photos { color: var(--ok); font-weight: 600; }
.warn { color: var(--warn); }
textarea.note { margin-top: 10px; }
.hint { margin: 6px 0 0; color: var(--accent); font-size: 17px; }
.work { display: grid; grid-template-columns: 2fr 1fr 1fr; gap: 6px; margin: 8px 0; }
table.ranking { width: 100%; border-collapse: collapse; font-size: 19px; }
table.ranking th { color: var(--dim); font-weight: 400; text-align: left; padding: 4px; }
table.ranking td { padding: 8px 4px; border-top: 1px solid var(--line); }
button.zone-link { display: block; width: 100%; min-height: 56px; padding: 4px 0; border: 0; background: none; color: var(--text);
  font-size: 19px; text-align: left; text-decoration: underline; text-underline-offset: 4px; }
.standing { margin: 8px 0 16px; padding: 12px; border-radius: 10px; background: var(--panel); }
.standing p { margin: 4px 0; font-size: 19px; }
.bar { height: 10px; border-radius: 5px; background: var(--accent); margin-top: 4px; }
.up { color: var(--ok); }
.down { color: var(--bad); }
"#;
