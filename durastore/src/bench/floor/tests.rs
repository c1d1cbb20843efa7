use super::check_supported;
use super::replay::{parse_after, tail};
use super::rounds::{Rounds, median};
use crate::bench::report::FloorRun;

#[test]
fn pgbench_output_parsing() {
    let out = "transaction type: x.sql\nnumber of transactions actually processed: 1234\n\
                   number of failed transactions: 0 (0.000%)\nlatency average = 3.1 ms\n\
                   tps = 411.3 (without initial connection time)\n";
    assert_eq!(
        parse_after(out, "number of transactions actually processed:"),
        Some(1234.0)
    );
    let tps = out.lines().find(|l| l.starts_with("tps =")).unwrap_or("");
    assert_eq!(parse_after(tps, "tps ="), Some(411.3));
    assert_eq!(parse_after("x", "tps ="), None);
    assert_eq!(tail("a\n\nb\nc\n", 2), "b | c");
}

#[test]
fn medians() {
    assert_eq!(median([]), 0.0);
    assert_eq!(median([3.0]), 3.0);
    assert_eq!(median([0.9, 0.5, 1.2]), 0.9);
    assert_eq!(median([4.0, 1.0, 2.0, 3.0]), 2.5);
}

fn run(method: &str, units_per_second: f64) -> FloorRun {
    FloorRun {
        round: 0,
        method: method.into(),
        units: 1,
        failed_units: 0,
        elapsed_seconds: 1.0,
        units_per_second,
        client_cpu_ms: None,
    }
}

#[test]
fn floor_is_the_method_the_adapter_trails_most_over_all_rounds() {
    let mut rounds = Rounds::default();
    // Two equally fast replays whose noise alternates: a per-round maximum would make
    // every floor 110 (ratio 0.909); per method each ratio's median is 1.0 or 0.952.
    rounds.close_round(
        100.0,
        None,
        vec![run("driver_loop", 110.0), run("pgbench", 90.0)],
    );
    rounds.close_round(
        100.0,
        None,
        vec![run("driver_loop", 90.0), run("pgbench", 110.0)],
    );
    rounds.close_round(
        100.0,
        None,
        vec![run("driver_loop", 100.0), run("pgbench", 105.0)],
    );
    let report = rounds.finish();
    assert_eq!(report.floor_method, "pgbench");
    assert!((report.ratio_by_method["driver_loop"] - 1.0).abs() < 1e-9);
    assert!((report.floor_ratio - 100.0 / 105.0).abs() < 1e-9);
    assert_eq!(report.floor_units_per_second, 105.0);
    let per_round: Vec<f64> = report
        .rounds
        .iter()
        .map(|r| r.floor_units_per_second)
        .collect();
    assert_eq!(per_round, [90.0, 110.0, 105.0]);
    assert_eq!(report.runs.iter().filter(|r| r.round == 2).count(), 2);
}

#[test]
fn a_round_without_the_floor_method_does_not_count_as_zero() {
    let mut rounds = Rounds::default();
    rounds.close_round(80.0, None, vec![run("driver_loop", 100.0)]);
    rounds.close_round(
        90.0,
        None,
        vec![run("driver_loop", 100.0), run("pgbench", 100.0)],
    );
    let report = rounds.finish();
    // pgbench ran in round 2 only: its median ratio is 0.9; the driver loop's 0.85.
    assert_eq!(report.floor_method, "driver_loop");
    assert!((report.floor_ratio - 0.85).abs() < 1e-9);
    assert!((report.ratio_by_method["pgbench"] - 0.9).abs() < 1e-9);
}

#[test]
fn server_backends_have_a_floor() {
    assert!(check_supported("postgres://u@h/db").is_ok());
    assert!(check_supported("mariadb://u@h/db").is_ok());
    assert!(check_supported("cassandra://h/ks").is_ok());
    assert!(check_supported("opensearch://h:9200/idx").is_ok());
    let e = check_supported("sqlite:///tmp/x.db").unwrap_err();
    assert_eq!(e.kind(), durastore_api::ErrorKind::Unsupported);
}
