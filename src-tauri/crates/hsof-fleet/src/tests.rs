use super::*;

fn objects(image: &str, replicas: &str, log_level: &str) -> Objects {
    Objects::default()
        .with(
            "deployment",
            Area::read([
                ("image[hsof]", image),
                ("replicas", replicas),
                ("resources[hsof].requests.cpu", "4"),
                ("env[hsof].REGION", "eu"),
            ]),
        )
        .with("configmap", Area::read([("log_level", log_level), ("batch_size", "64")]))
        .with("services", Area::read([("service[hsof-api].ports", "80/TCP,8080/TCP")]))
}

#[test]
fn the_diff_lists_exactly_what_differs() {
    let a = objects("hsof/hsof:1.5.0", "3", "info");
    let mut b = objects("hsof/hsof:1.5.0", "3", "debug");
    assert!(diff(&a, "a", &a, "a2").is_same());
    if let Some(Area::Read { values }) = b.areas.get_mut("configmap") {
        values.insert("new_key".into(), "1".into());
    }
    let d = diff(&a, "prod", &b, "dr");
    assert_eq!(
        d.differences,
        vec![
            Difference {
                area: "configmap".into(),
                key: "log_level".into(),
                a: Some("info".into()),
                b: Some("debug".into())
            },
            Difference { area: "configmap".into(), key: "new_key".into(), a: None, b: Some("1".into()) },
        ]
    );
    assert!(d.unknown.is_empty());
    let text = d.render("prod", "dr");
    assert!(text.contains("log_level\n    - prod: info\n    + dr: debug"), "{text}");
    assert!(text.contains("new_key\n    - prod: (none)\n    + dr: 1"), "{text}");
}

#[test]
fn drift_is_images_replicas_resources_and_config_keys_only() {
    let primary = objects("hsof/hsof:1.5.0", "3", "info");
    let mut dr = objects("hsof/hsof:1.4.2", "0", "info");
    if let Some(Area::Read { values }) = dr.areas.get_mut("deployment") {
        values.insert("env[hsof].REGION".into(), "us".into());
    }
    dr.areas.insert("services".into(), Area::read([("service[hsof-api].ports", "80/TCP")]));
    let d = drift(&primary, "prod", &dr, "dr");
    let keys: Vec<&str> = d.differences.iter().map(|x| x.key.as_str()).collect();
    assert_eq!(keys, ["image[hsof]", "replicas"], "the region's env and the services are not drift");
    assert_eq!(diff(&primary, "prod", &dr, "dr").differences.len(), 4, "the full diff has them");
}

#[test]
fn what_was_not_read_is_never_reported_as_the_same() {
    let a = objects("x:1", "3", "info");
    let b = Objects::default()
        .with("deployment", Area::Unreadable { why: "forbidden: deployments.apps".into() })
        .with("configmap", Area::Missing);
    let d = drift(&a, "prod", &b, "dr");
    assert!(!d.is_same());
    assert_eq!(d.unknown, ["deployment: not readable on dr: forbidden: deployments.apps"]);
    assert_eq!(d.differences[0].key, "*", "{d:?}");
    assert_eq!(d.differences[0].b.as_deref(), Some("not there"));
    // An area read on one side only.
    let c = Objects::default().with("deployment", a.areas["deployment"].clone());
    assert_eq!(diff(&a, "a", &c, "c").unknown, ["configmap: not read on c", "services: not read on c"]);
    assert!(diff(&a, "a", &c, "c").render("a", "c").contains("not compared: configmap: not read on c"));
}

fn row() -> FleetRow {
    FleetRow {
        name: "prod-eu".into(),
        role: "primary".into(),
        context: "eu".into(),
        reachable: true,
        problems: vec![],
        health: Some("HEALTHY".into()),
        budgets: vec![Budget { slo: "availability".into(), left: Some(0.8) }],
        alerts: Some(AlertCounts::default()),
        version: Some("1.5.0".into()),
        replicas_ready: Some(3),
        replicas_desired: Some(3),
        gpu_capacity: Some(8),
        gpu_allocated: Some(3),
        last_backup: None,
        backup_age_secs: Some(3600),
        drift: None,
        fetched_at: "2026-12-07T10:00:00Z".into(),
        stale: false,
        standby: false,
        level: RowLevel::Unknown,
    }
}

#[test]
fn rows_are_judged_on_one_scale_and_the_fleet_takes_the_worst() {
    let day = 26 * 3600;
    let ok = row();
    assert_eq!(ok.judge(day), RowLevel::Ok);
    let unreachable = FleetRow { reachable: false, health: None, ..row() };
    assert_eq!(unreachable.judge(day), RowLevel::Critical);
    let stale = FleetRow { reachable: false, stale: true, ..row() };
    assert_eq!(stale.judge(day), RowLevel::Critical, "unreachable, even with last known values to show");
    let standby = FleetRow { health: None, standby: true, replicas_ready: Some(0), replicas_desired: Some(0), ..row() };
    assert_eq!(standby.judge(day), RowLevel::Ok, "a cold standby is what it should be");
    let overspent = FleetRow { budgets: vec![Budget { slo: "latency".into(), left: Some(-0.1) }], ..row() };
    assert_eq!(overspent.judge(day), RowLevel::Critical);
    let drifted = FleetRow {
        drift: Some(Comparison {
            differences: vec![Difference {
                area: "deployment".into(),
                key: "replicas".into(),
                a: Some("3".into()),
                b: Some("2".into()),
            }],
            unknown: vec![],
        }),
        ..row()
    };
    assert_eq!(drifted.judge(day), RowLevel::Warning);
    assert_eq!(FleetRow { backup_age_secs: Some(day + 1), ..row() }.judge(day), RowLevel::Warning);
    assert_eq!(FleetRow { replicas_ready: Some(2), ..row() }.judge(day), RowLevel::Warning);
    assert_eq!(FleetRow { health: None, ..row() }.judge(day), RowLevel::Unknown);
    let blind = FleetRow { alerts: None, problems: vec!["AlertManager: unreachable".into()], ..row() };
    assert_eq!(blind.judge(day), RowLevel::Warning, "what could not be read needs a look");
    let paged = FleetRow { alerts: Some(AlertCounts { critical: 1, ..AlertCounts::default() }), ..row() };
    assert_eq!(paged.judge(day), RowLevel::Critical);
    let mut rows = vec![FleetRow { level: RowLevel::Ok, ..row() }, FleetRow { level: RowLevel::Warning, ..row() }];
    assert_eq!(worst(&rows), RowLevel::Warning);
    rows.push(FleetRow { level: RowLevel::Critical, ..row() });
    assert_eq!(worst(&rows), RowLevel::Critical);
    assert_eq!(worst(&[]), RowLevel::Unknown);
    assert_eq!(duplicate_names(["a", "b", "a", "c", "b"]), ["a", "b"]);
}

proptest::proptest! {
    /// A diff is symmetric (sides swapped) and empty exactly when the read facts are equal.
    #[test]
    fn diff_is_symmetric_and_empty_only_for_equal_facts(
        x in proptest::collection::btree_map("[a-c]{1,2}", "[0-2]", 0..6),
        y in proptest::collection::btree_map("[a-c]{1,2}", "[0-2]", 0..6),
    ) {
        let a = Objects::default().with("configmap", Area::Read { values: x.clone() });
        let b = Objects::default().with("configmap", Area::Read { values: y.clone() });
        let ab = diff(&a, "a", &b, "b");
        let ba = diff(&b, "b", &a, "a");
        proptest::prop_assert_eq!(ab.differences.len(), ba.differences.len());
        for (l, r) in ab.differences.iter().zip(&ba.differences) {
            proptest::prop_assert_eq!((&l.a, &l.b), (&r.b, &r.a));
        }
        proptest::prop_assert_eq!(ab.is_same(), x == y);
    }
}
