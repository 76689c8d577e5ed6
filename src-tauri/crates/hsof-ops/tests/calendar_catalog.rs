//! The procedures catalog: the built-in one holds the whole runbook; bad catalogs are
//! rejected naming the file, the procedure and the field.

use hsof_ops::calendar::{load_catalog, parse_catalog, Action, Cadence, CatalogError, GateSet, BUILTIN_CATALOG};

const RUNBOOK_PROCEDURES: [&str; 19] = [
    "morning-health-check",
    "evening-status-review",
    "daily-smoke-tests",
    "daily-standup",
    "weekly-capacity-planning",
    "weekly-team-meeting",
    "weekly-performance-summary",
    "weekly-security-review",
    "weekly-integration-tests",
    "weekly-maintenance",
    "monthly-system-review",
    "monthly-dr-test",
    "monthly-security-assessment",
    "monthly-technology-updates",
    "monthly-load-tests",
    "monthly-review",
    "quarterly-performance-review",
    "quarterly-technology-roadmap",
    "quarterly-security-audit",
];

#[test]
fn the_builtin_catalog_holds_every_recurring_procedure_of_the_runbook() {
    let catalog = load_catalog(None).expect("the built-in catalog is valid");
    for id in RUNBOOK_PROCEDURES.iter().chain(&["quarterly-annual-planning", "quarterly-strategic-review"]) {
        let p = catalog.procedure(id).unwrap_or_else(|| panic!("`{id}` is missing"));
        assert!(!p.steps.is_empty(), "`{id}` has no steps");
        assert!(!p.section.is_empty(), "`{id}` names no runbook section");
    }
    assert_eq!(catalog.procedures.len(), RUNBOOK_PROCEDURES.len() + 2);

    let morning = catalog.procedure("morning-health-check").expect("present");
    assert_eq!(
        (morning.cadence, morning.rrule.as_str(), morning.start.as_str()),
        (Cadence::Daily, "FREQ=DAILY", "2026-01-05T09:00")
    );
    let actions: Vec<Option<&Action>> = morning.steps.iter().map(|s| s.action.as_ref()).collect();
    assert_eq!(actions[0], Some(&Action::PodStatus));
    assert_eq!(morning.steps[0].commands, ["kubectl get pods -n hsof"]);
    assert!(actions.contains(&Some(&Action::BackupStatus)));
    let channel = Action::Incidents { part: "channel".into() };
    assert!(actions.contains(&Some(&channel)), "the incident channel is read from the app's outbox");

    let dr = catalog.procedure("monthly-dr-test").expect("present");
    assert_eq!(dr.rrule, "FREQ=MONTHLY;BYDAY=2MO");
    assert_eq!(dr.steps[0].action, Some(Action::RunJob { job: "backup-restore-test".into() }));
    let security = catalog.procedure("weekly-security-review").expect("present");
    assert_eq!(security.steps[0].action, Some(Action::RunJob { job: "vulnerability-scan".into() }));
    let capacity = catalog.procedure("weekly-capacity-planning").expect("present");
    assert!(capacity.steps.iter().any(|s| s.action == Some(Action::DfInPod)));
    let integration = catalog.procedure("weekly-integration-tests").expect("present");
    assert!(integration.steps.iter().any(|s| s.action == Some(Action::EvaluateGates { gates: GateSet::Deployment })));
    for (id, rule) in [
        ("monthly-system-review", "FREQ=MONTHLY;BYDAY=1MO"),
        ("monthly-security-assessment", "FREQ=MONTHLY;BYDAY=3MO"),
        ("monthly-technology-updates", "FREQ=MONTHLY;BYDAY=4MO"),
        ("monthly-review", "FREQ=MONTHLY;BYDAY=1FR"),
        ("weekly-team-meeting", "FREQ=WEEKLY;BYDAY=MO"),
    ] {
        assert_eq!(catalog.procedure(id).expect("present").rrule, rule, "{id}");
    }
}

#[test]
fn the_catalog_round_trips_through_serde() {
    let catalog = load_catalog(None).expect("valid");
    let text = toml::to_string(&catalog).expect("serialises");
    assert_eq!(parse_catalog("copy.toml", &text).expect("parses back"), catalog);
}

fn one_procedure(fields: &str, steps: &str) -> String {
    format!(
        "[[procedures]]\nid = \"monthly-dr-test\"\ntitle = \"DR\"\ncadence = \"monthly\"\nduration_minutes = 60\n{fields}\n{steps}"
    )
}

const STEP: &str = "[[procedures.steps]]\nid = \"a\"\ntext = \"Do it\"\n";
const GOOD_RULE: &str = "rrule = \"FREQ=MONTHLY;BYDAY=2MO\"\nstart = \"2026-01-12T10:00\"";

fn error(text: &str) -> CatalogError {
    parse_catalog("procedures.toml", text).expect_err("must be rejected")
}

#[test]
fn a_minimal_catalog_parses() {
    let catalog = parse_catalog("procedures.toml", &one_procedure(GOOD_RULE, STEP)).expect("valid");
    assert_eq!(catalog.procedures[0].steps[0].action, None);
    assert_eq!(catalog.procedures[0].section, "");
}

#[test]
fn a_start_the_rule_does_not_yield_is_rejected_naming_file_procedure_and_field() {
    let weekly = "[[procedures]]\nid = \"weekly-x\"\ntitle = \"X\"\ncadence = \"weekly\"\nduration_minutes = 60\n\
                  rrule = \"FREQ=WEEKLY;BYDAY=MO\"\nstart = \"2026-01-06T10:00\"\n"
        .to_owned()
        + STEP;
    let e = error(&weekly);
    assert_eq!(
        (e.file.as_str(), e.procedure.as_deref(), e.field.as_deref()),
        ("procedures.toml", Some("weekly-x"), Some("start"))
    );
    let message = e.to_string();
    assert!(message.starts_with("procedures.toml: procedure `weekly-x`, field `start`: "), "{message}");
    assert!(message.contains("2026-01-06T10:00 (Tue)") && message.contains("2026-01-12T10:00 (Mon)"), "{message}");

    let e = error(&one_procedure("rrule = \"FREQ=MONTHLY;BYDAY=2MO\"\nstart = \"2026-01-05T10:00\"", STEP));
    assert_eq!(e.field.as_deref(), Some("start"));
}

#[test]
fn invalid_rules_and_starts_are_rejected() {
    for (fields, field) in [
        ("rrule = \"FREQ=FORTNIGHTLY\"\nstart = \"2026-01-12T10:00\"", "rrule"),
        ("rrule = \"FREQ=MONTHLY;BYDAY=9MO\"\nstart = \"2026-01-12T10:00\"", "rrule"),
        ("rrule = \"DTSTART:20260112T100000\\nRRULE:FREQ=MONTHLY\"\nstart = \"2026-01-12T10:00\"", "rrule"),
        ("rrule = \"FREQ=MONTHLY;BYDAY=2MO\"\nstart = \"next monday\"", "start"),
        ("rrule = \"FREQ=WEEKLY;BYDAY=MO\"\nstart = \"2026-01-12T10:00\"", "cadence"),
    ] {
        let e = error(&one_procedure(fields, STEP));
        assert_eq!(e.procedure.as_deref(), Some("monthly-dr-test"), "{e}");
        assert_eq!(e.field.as_deref(), Some(field), "{e}");
    }
}

#[test]
fn duplicate_ids_are_rejected() {
    let twice = one_procedure(GOOD_RULE, STEP).repeat(2);
    let e = error(&twice);
    assert_eq!((e.procedure.as_deref(), e.field.as_deref()), (Some("monthly-dr-test"), Some("id")));
    assert!(e.reason.contains("duplicate"), "{e}");

    let e = error(&one_procedure(GOOD_RULE, &STEP.repeat(2)));
    assert_eq!(e.field.as_deref(), Some("steps[1].id"));
    assert!(e.reason.contains("duplicate step id `a`"), "{e}");
}

#[test]
fn unknown_actions_and_jobs_are_rejected() {
    let e = error(&one_procedure(GOOD_RULE, &format!("{STEP}action = {{ kind = \"reboot_cluster\" }}\n")));
    assert_eq!(e.field.as_deref(), Some("steps[0].action"));
    assert!(e.reason.contains("reboot_cluster") && e.reason.contains("pod_status"), "{e}");

    let e = error(&one_procedure(GOOD_RULE, &format!("{STEP}action = {{ kind = \"run_job\", job = \"chaos\" }}\n")));
    assert_eq!(e.field.as_deref(), Some("steps[0].action.job"));
    assert!(e.reason.contains("unknown job `chaos`") && e.reason.contains("load-tests"), "{e}");

    let e = error(&one_procedure(
        GOOD_RULE,
        &format!("{STEP}action = {{ kind = \"evaluate_gates\", gates = \"staging\" }}\n"),
    ));
    assert_eq!(e.field.as_deref(), Some("steps[0].action"));
}

#[test]
fn empty_or_missing_parts_are_rejected() {
    let e = error(&one_procedure(&format!("{GOOD_RULE}\nsteps = []"), ""));
    assert_eq!(e.field.as_deref(), Some("steps"));
    let e = error(&one_procedure(GOOD_RULE, ""));
    assert_eq!((e.field.as_deref(), e.reason.as_str()), (Some("steps"), "missing"));
    let e = error(&one_procedure(GOOD_RULE, STEP).replace("title = \"DR\"", "title = \"  \""));
    assert_eq!(e.field.as_deref(), Some("title"));
    let e = error(&one_procedure(GOOD_RULE, STEP).replace("duration_minutes = 60", "duration_minutes = 0"));
    assert_eq!(e.field.as_deref(), Some("duration_minutes"));
    let e = error(&one_procedure(GOOD_RULE, STEP).replace("\"monthly\"", "\"yearly\""));
    assert_eq!(e.field.as_deref(), Some("cadence"));
    let e = error(&one_procedure(GOOD_RULE, STEP).replace("text = \"Do it\"", "text = \"\""));
    assert_eq!(e.field.as_deref(), Some("steps[0].text"));
    let e = error(&one_procedure(GOOD_RULE, &format!("{STEP}comands = [\"ls\"]\n")));
    assert_eq!((e.field.as_deref(), e.reason.as_str()), (Some("steps[0].comands"), "unknown field"));
    let e = error(&one_procedure(GOOD_RULE, STEP).replace("id = \"monthly-dr-test\"", "id = \"Monthly DR\""));
    assert_eq!((e.procedure.as_deref(), e.field.as_deref()), (Some("#1"), Some("id")));
    let e = error("procedures = []");
    assert_eq!((e.procedure, e.field.as_deref()), (None, Some("procedures")));
    let e = error("this is not toml");
    assert_eq!((e.procedure, e.field), (None, None));
}

#[test]
fn a_user_copy_replaces_the_builtin_catalog_and_its_errors_name_the_user_file() {
    let catalog = load_catalog(Some(("/home/ops/.config/hsof/procedures.toml", &one_procedure(GOOD_RULE, STEP))))
        .expect("valid user copy");
    assert_eq!(catalog.procedures.len(), 1);

    let broken = one_procedure(GOOD_RULE, STEP).replace("FREQ=MONTHLY;BYDAY=2MO", "FREQ=MONTHLY;BYDAY=1MO");
    let e = load_catalog(Some(("/home/ops/.config/hsof/procedures.toml", &broken))).expect_err("invalid");
    assert!(
        e.to_string().starts_with("/home/ops/.config/hsof/procedures.toml: procedure `monthly-dr-test`, field `start`"),
        "{e}"
    );
    assert!(BUILTIN_CATALOG.contains("morning-health-check"));
}

#[test]
fn cost_and_capacity_answer_the_capacity_monthly_and_quarterly_steps() {
    let catalog = parse_catalog("procedures.toml", BUILTIN_CATALOG).expect("builtin");
    let part = |procedure: &str, step: &str| {
        let p = catalog.procedure(procedure).unwrap_or_else(|| panic!("{procedure}"));
        match &p.steps.iter().find(|s| s.id == step).unwrap_or_else(|| panic!("{procedure}/{step}")).action {
            Some(Action::Cost { part }) => part.clone(),
            other => panic!("{procedure}/{step}: {other:?}"),
        }
    };
    for (procedure, step, want) in [
        ("weekly-capacity-planning", "cloud-spend", "spend"),
        ("weekly-capacity-planning", "cost-per-dataset", "per-dataset"),
        ("weekly-capacity-planning", "cost-optimization", "idle-gpu"),
        ("weekly-capacity-planning", "optimization", "rightsizing"),
        ("weekly-capacity-planning", "latency-patterns", "patterns"),
        ("monthly-system-review", "monthly-cost", "spend"),
        ("monthly-system-review", "scaling", "autoscaling"),
        ("quarterly-performance-review", "regressions", "regressions"),
        ("quarterly-performance-review", "capacity", "growth"),
        ("quarterly-annual-planning", "budget", "spend"),
    ] {
        assert_eq!(part(procedure, step), want, "{procedure}/{step}");
    }
    let e = error(&one_procedure(GOOD_RULE, &format!("{STEP}action = {{ kind = \"cost\", part = \"lunch\" }}\n")));
    assert_eq!(e.field.as_deref(), Some("steps[0].action.part"));
    assert!(e.reason.contains("unknown cost part `lunch`") && e.reason.contains("idle-gpu"), "{e}");
}
