//! Block Kit messages for declaration, status updates and resolution.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::incidents::time_format::human_duration;
use crate::incidents::{Incident, StatusUpdate};

/// Slack's limit on a section block's text, in characters.
pub const SECTION_TEXT_MAX: usize = 3000;
/// Slack's limit on blocks per message.
pub const BLOCKS_MAX: usize = 50;
/// Slack truncates a message's `text` beyond this many characters.
pub const TEXT_MAX: usize = 40_000;
/// Slack recommends keeping a message under 4,000 characters; longer status updates are
/// split into several messages ("part k/n") so none is truncated or hard to read.
pub const MESSAGE_CHARS_BUDGET: usize = 4_000;
/// Slack's limit on a header block's text.
const HEADER_MAX: usize = 150;
/// Room left in each message for the header line of the text fallback.
const CONTENT_BUDGET: usize = MESSAGE_CHARS_BUDGET - 500;
/// Below this much room a new section starts a new message instead.
const MIN_PIECE: usize = 200;
/// Sections a declaration or resolution message may use for free text.
const FREE_TEXT_SECTIONS: usize = 4;

/// One webhook post. Serialised as is, it is the webhook's JSON body:
/// `{"text": "...", "blocks": [...]}`; `text` is the fallback shown in notifications.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct SlackMessage {
    /// Plain fallback (mrkdwn), shown in notifications and by clients without blocks.
    pub text: String,
    /// Block Kit blocks.
    #[specta(type = specta_typescript::Unknown)]
    pub blocks: Value,
}

/// The announcement of a newly declared incident, with a link into the app when given.
pub fn declared_message(i: &Incident, app_link: Option<&str>) -> SlackMessage {
    let mut blocks = vec![
        header(&format!("🚨 [{}] ", i.severity), &i.title, ""),
        context(&[
            format!("*Severity:* {} — {}", i.severity, i.severity.description()),
            format!("*Status:* {}", i.status),
            format!(
                "*Components:* {}",
                if i.components.is_empty() { "—".into() } else { escape(&i.components.join(", ")) }
            ),
            format!("*Declared by:* {}", escape(&i.declared_by)),
            format!("*At:* {}", slack_date(i.declared_at)),
        ]),
    ];
    if let Some(alert) = i.source_alert.as_ref().and_then(alert_name) {
        blocks.push(context(&[format!("*From alert:* `{}`", escape(&alert))]));
    }
    blocks.extend(free_text_sections(&i.description));
    if let Some(link) = app_link {
        blocks.push(section(&format!("<{}|Open incident {} in HSOF Control Center>", escape(link), i.reference())));
    }
    let text = format!(
        ":rotating_light: {} incident {} declared by {}: {}",
        i.severity,
        i.reference(),
        escape(&i.declared_by),
        escape(&i.title)
    );
    SlackMessage { text, blocks: Value::Array(blocks) }
}

/// A status update as one or more messages: header, context (severity, status, author,
/// time), then *Conditions*, *Actions* and *Needs*. Long updates are split across messages
/// at Slack's limits, each marked "(part k/n)"; no text is dropped.
pub fn update_messages(i: &Incident, u: &StatusUpdate, author: &str, at: DateTime<Utc>) -> Vec<SlackMessage> {
    let parts = pack_sections(&[("Conditions", &u.conditions), ("Actions", &u.actions), ("Needs", &u.needs)]);
    let n = parts.len();
    parts
        .into_iter()
        .enumerate()
        .map(|(k, sections)| {
            let part = if n > 1 { format!(" (part {}/{n})", k + 1) } else { String::new() };
            let mut blocks = vec![
                header(&format!("[{}] Update: ", i.severity), &i.title, &part),
                context(&[
                    format!("*Severity:* {}", i.severity),
                    format!("*Status:* {}", i.status),
                    format!("*By:* {}", escape(author)),
                    format!("*At:* {}", slack_date(at)),
                ]),
            ];
            let mut text = format!(
                ":memo: {} incident {} update by {}{part}: {}",
                i.severity,
                i.reference(),
                escape(author),
                escape(&i.title)
            );
            for s in &sections {
                text.push('\n');
                text.push_str(s);
                blocks.push(section(s));
            }
            SlackMessage { text, blocks: Value::Array(blocks) }
        })
        .collect()
}

/// The resolution notice with the first lines of the summary.
pub fn resolved_message(i: &Incident, summary_first_lines: &str) -> SlackMessage {
    let took = i.resolved_at.map(|r| human_duration(r - i.declared_at));
    let mut facts = vec![format!("*Severity:* {}", i.severity)];
    if let Some(at) = i.resolved_at {
        facts.push(format!("*Resolved:* {}", slack_date(at)));
    }
    if let Some(took) = &took {
        facts.push(format!("*Duration:* {took}"));
    }
    let mut blocks = vec![header(&format!("✅ [{}] Resolved: ", i.severity), &i.title, ""), context(&facts)];
    blocks.extend(free_text_sections(summary_first_lines));
    let after = took.map(|t| format!(" after {t}")).unwrap_or_default();
    let text =
        format!(":white_check_mark: {} incident {} resolved{after}: {}", i.severity, i.reference(), escape(&i.title));
    SlackMessage { text, blocks: Value::Array(blocks) }
}

/// Escapes the three characters Slack's mrkdwn treats as control characters.
pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn escaped_len(c: char) -> usize {
    match c {
        '&' => 5,
        '<' | '>' => 4,
        _ => 1,
    }
}

/// A header block: `prefix` + title (shortened with "…" if needed) + `suffix`, within 150 chars.
fn header(prefix: &str, title: &str, suffix: &str) -> Value {
    let room = HEADER_MAX.saturating_sub(prefix.chars().count() + suffix.chars().count());
    let title = if title.chars().count() > room {
        format!("{}…", title.chars().take(room.saturating_sub(1)).collect::<String>())
    } else {
        title.to_string()
    };
    json!({"type": "header", "text": {"type": "plain_text", "text": format!("{prefix}{title}{suffix}"), "emoji": true}})
}

fn context(items: &[String]) -> Value {
    let elements: Vec<Value> = items
        .iter()
        .take(10)
        .map(|t| json!({"type": "mrkdwn", "text": t.chars().take(SECTION_TEXT_MAX).collect::<String>()}))
        .collect();
    json!({"type": "context", "elements": elements})
}

fn section(mrkdwn: &str) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}})
}

/// Slack renders `<!date^…>` in each reader's own time zone; the fallback is UTC.
fn slack_date(at: DateTime<Utc>) -> String {
    format!("<!date^{}^{{date_short_pretty}} {{time}}|{}>", at.timestamp(), at.format("%Y-%m-%d %H:%M UTC"))
}

fn alert_name(alert: &Value) -> Option<String> {
    let name = alert.pointer("/labels/alertname").or_else(|| alert.get("alertname"))?;
    name.as_str().map(str::to_string)
}

/// Free text (description, summary) as up to [`FREE_TEXT_SECTIONS`] sections; beyond that
/// the text is cut with a visible note pointing to the app.
fn free_text_sections(raw: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut rest = raw.trim_end();
    while !rest.is_empty() {
        if out.len() == FREE_TEXT_SECTIONS {
            if let Some(Value::Object(last)) = out.last_mut() {
                let note = "\n… _(truncated; the full text is in HSOF Control Center)_";
                if let Some(Value::String(t)) = last.get_mut("text").and_then(|t| t.get_mut("text")) {
                    let keep = SECTION_TEXT_MAX - note.chars().count();
                    *t = format!("{}{note}", t.chars().take(keep).collect::<String>());
                }
            }
            break;
        }
        let (chunk, tail) = split_escaped(rest, SECTION_TEXT_MAX);
        out.push(section(&escape(chunk)));
        rest = tail;
    }
    out
}

/// Splits `raw` so the escaped first part is at most `room` characters, preferring to
/// break after a newline or space in the second half. The parts concatenate to `raw`.
fn split_escaped(raw: &str, room: usize) -> (&str, &str) {
    let mut used = 0;
    let mut cut = raw.len();
    let (mut last_newline, mut last_space) = (None, None);
    for (idx, c) in raw.char_indices() {
        let len = escaped_len(c);
        if used + len > room {
            cut = idx;
            break;
        }
        used += len;
        let after = idx + c.len_utf8();
        if c == '\n' {
            last_newline = Some((after, used));
        } else if c.is_whitespace() {
            last_space = Some((after, used));
        }
    }
    if cut < raw.len() {
        let good = |b: Option<(usize, usize)>| b.filter(|(_, at)| *at * 2 >= room).map(|(pos, _)| pos);
        if let Some(pos) = good(last_newline).or_else(|| good(last_space)) {
            cut = pos;
        }
    }
    raw.split_at(cut)
}

/// Lays the update's fields out as section texts, grouped into messages by the budget.
fn pack_sections(fields: &[(&str, &String)]) -> Vec<Vec<String>> {
    let mut messages: Vec<Vec<String>> = vec![Vec::new()];
    let mut used = 0;
    // Header and context take two blocks of every message.
    let max_sections = BLOCKS_MAX - 2;
    let push = |messages: &mut Vec<Vec<String>>, used: &mut usize, text: String| {
        let len = text.chars().count();
        let full =
            messages.last().is_some_and(|m| m.len() >= max_sections || (!m.is_empty() && *used + len > CONTENT_BUDGET));
        if full {
            messages.push(Vec::new());
            *used = 0;
        }
        *used += len;
        if let Some(m) = messages.last_mut() {
            m.push(text);
        }
    };
    for (label, raw) in fields {
        if raw.trim().is_empty() {
            push(&mut messages, &mut used, format!("*{label}*\n_none_"));
            continue;
        }
        let mut rest = raw.as_str();
        let mut first = true;
        while !rest.is_empty() {
            let heading = if first { format!("*{label}*\n") } else { format!("*{label} (continued)*\n") };
            let heading_len = heading.chars().count();
            let mut room = (SECTION_TEXT_MAX - heading_len).min(CONTENT_BUDGET.saturating_sub(used + heading_len));
            if room < MIN_PIECE || messages.last().is_some_and(|m| m.len() >= max_sections) {
                messages.push(Vec::new());
                used = 0;
                room = SECTION_TEXT_MAX - heading_len;
            }
            let (chunk, tail) = split_escaped(rest, room);
            push(&mut messages, &mut used, format!("{heading}{}", escape(chunk)));
            rest = tail;
            first = false;
        }
    }
    messages
}
