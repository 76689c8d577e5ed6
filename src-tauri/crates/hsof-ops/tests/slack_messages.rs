//! Block Kit messages: their shape, and long updates split within Slack's limits.

mod common;

use chrono::Duration;
use common::{incident, utc};
use hsof_ops::incidents::slack::{BLOCKS_MAX, MESSAGE_CHARS_BUDGET, SECTION_TEXT_MAX, TEXT_MAX};
use hsof_ops::incidents::{declared_message, resolved_message, update_messages, Severity, SlackMessage, StatusUpdate};
use serde_json::Value;

fn blocks(m: &SlackMessage) -> &Vec<Value> {
    m.blocks.as_array().expect("blocks is an array")
}

fn of_type<'a>(m: &'a SlackMessage, kind: &str) -> Vec<&'a Value> {
    blocks(m).iter().filter(|b| b["type"] == kind).collect()
}

fn section_texts(m: &SlackMessage) -> Vec<String> {
    of_type(m, "section").iter().map(|b| b["text"]["text"].as_str().expect("mrkdwn text").to_string()).collect()
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

fn assert_within_limits(m: &SlackMessage) {
    assert!(!m.text.trim().is_empty(), "a text fallback");
    assert!(m.text.chars().count() <= TEXT_MAX);
    assert!(blocks(m).len() <= BLOCKS_MAX);
    for s in section_texts(m) {
        assert!(s.chars().count() <= SECTION_TEXT_MAX, "section of {} chars", s.chars().count());
    }
    for h in of_type(m, "header") {
        assert!(h["text"]["text"].as_str().expect("header").chars().count() <= 150);
    }
}

#[test]
fn a_declaration_has_fallback_header_context_and_link() {
    let mut i = incident(7, Severity::P0, utc(2026, 3, 2, 10, 0));
    i.source_alert = Some(serde_json::json!({"labels": {"alertname": "GPUMemoryHigh"}}));
    i.description = "OOM on <gpu-3> & gpu-4".into();
    let m = declared_message(&i, Some("hsof://incidents/7"));
    assert_within_limits(&m);
    assert!(m.text.contains("P0") && m.text.contains("#7") && m.text.contains("Inference latency above SLO"));
    assert_eq!(blocks(&m)[0]["type"], "header");
    let all = m.blocks.to_string();
    assert!(all.contains("GPUMemoryHigh") && all.contains("alice") && all.contains("model, gpu"), "{all}");
    assert!(all.contains("<!date^1772445600^"), "time rendered in each reader's zone: {all}");
    let sections = section_texts(&m);
    assert!(sections.iter().any(|s| s == "OOM on &lt;gpu-3&gt; &amp; gpu-4"), "{sections:?}");
    assert!(sections.iter().any(|s| s.contains("<hsof://incidents/7|Open incident #7")));
    let body = serde_json::to_value(&m).expect("json");
    assert!(body["text"].is_string() && body["blocks"].is_array(), "the webhook body: {body}");
}

#[test]
fn a_short_update_is_one_message_with_all_three_sections() {
    let i = incident(8, Severity::P1, utc(2026, 3, 2, 10, 0));
    let u = StatusUpdate {
        conditions: "Latency back to 700 ms".into(),
        actions: "Rolled back to v2.3.1".into(),
        needs: String::new(),
    };
    let msgs = update_messages(&i, &u, "bob", utc(2026, 3, 2, 10, 20));
    assert_eq!(msgs.len(), 1);
    let m = &msgs[0];
    assert_within_limits(m);
    assert!(!m.text.contains("part"), "{}", m.text);
    assert!(m.text.contains("Latency back to 700 ms") && m.text.contains("bob"), "{}", m.text);
    let kinds: Vec<&str> = blocks(m).iter().map(|b| b["type"].as_str().unwrap_or("")).collect();
    assert_eq!(kinds, ["header", "context", "section", "section", "section"]);
    let context = blocks(m)[1].to_string();
    assert!(
        context.contains("P1") && context.contains("open") && context.contains("bob") && context.contains("!date^")
    );
    assert_eq!(
        section_texts(m),
        ["*Conditions*\nLatency back to 700 ms", "*Actions*\nRolled back to v2.3.1", "*Needs*\n_none_"]
    );
}

#[test]
fn a_long_update_is_split_into_parts_without_losing_text() {
    let mut i = incident(9, Severity::P0, utc(2026, 3, 2, 10, 0));
    i.title = "T".repeat(200);
    let mut conditions = String::new();
    let mut n = 0;
    while conditions.chars().count() < 10_000 {
        n += 1;
        conditions.push_str(&format!("line {n}: queue<{n}> & GPU ok — \n"));
    }
    let conditions: String = conditions.chars().take(10_000).collect();
    let u = StatusUpdate { conditions, actions: "x".repeat(3_500), needs: "Another H100 node".into() };
    let msgs = update_messages(&i, &u, "carol", utc(2026, 3, 2, 10, 30));
    let total = msgs.len();
    assert!(total >= 3, "10,000+ characters make several messages, got {total}");

    let mut rebuilt = [String::new(), String::new(), String::new()];
    for (k, m) in msgs.iter().enumerate() {
        assert_within_limits(m);
        assert!(m.text.chars().count() <= MESSAGE_CHARS_BUDGET, "{} chars", m.text.chars().count());
        let part = format!("(part {}/{total})", k + 1);
        assert!(m.text.contains(&part), "fallback says {part}: {}", m.text.chars().take(120).collect::<String>());
        let header = of_type(m, "header")[0]["text"]["text"].as_str().expect("header").to_string();
        assert!(header.ends_with(&part), "{header}");
        for s in section_texts(m) {
            let (heading, body) = s.split_once('\n').expect("heading line");
            let slot = ["Conditions", "Actions", "Needs"]
                .iter()
                .position(|f| heading == format!("*{f}*") || heading == format!("*{f} (continued)*"))
                .expect("known heading");
            rebuilt[slot].push_str(&unescape(body));
            assert!(m.text.contains(&s), "the fallback carries the section too");
        }
    }
    assert_eq!(rebuilt[0], u.conditions);
    assert_eq!(rebuilt[1], u.actions);
    assert_eq!(rebuilt[2], u.needs);
}

#[test]
fn a_resolution_says_how_long_it_took() {
    let declared = utc(2026, 3, 2, 10, 0);
    let mut i = incident(10, Severity::P2, declared);
    i.resolve(declared + Duration::minutes(95)).expect("resolve");
    let m = resolved_message(&i, "Root cause: a bad model push.\nRolled back.");
    assert_within_limits(&m);
    assert!(m.text.contains("resolved after 1 h 35 min"), "{}", m.text);
    assert!(blocks(&m)[0]["text"]["text"].as_str().expect("header").contains("Resolved"));
    assert_eq!(section_texts(&m), ["Root cause: a bad model push.\nRolled back."]);

    let long = resolved_message(&i, &"summary ".repeat(5_000));
    assert_within_limits(&long);
    assert!(long.blocks.to_string().contains("truncated"), "a cut is visible, not silent");
}
