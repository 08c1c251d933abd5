//! The search against synthetic objectives whose ranking is known.

use std::collections::BTreeMap;

use strata_core::Error;

use super::*;

fn lr_bs_space() -> SearchSpace {
    SearchSpace::new()
        .choice("optimizer.lr", [0.1, 0.01, 0.001])
        .choice("data.batch_size", [32usize, 64])
}

/// Best at lr 0.01, batch 32; more epochs always help a little.
fn score(trial: &TrialConfig, epochs: usize) -> strata_core::Result<TrialResult> {
    let lr = trial.f64("optimizer.lr")?;
    let bs = trial.usize("data.batch_size")? as f64;
    let metric = 0.9 - (lr.log10() + 2.0).abs() * 0.1 - bs / 1000.0 + 0.01 * epochs as f64;
    Ok(TrialResult::new(metric).with("val_loss", 1.0 - metric))
}

#[test]
fn grid_runs_every_combination_once_for_the_full_budget() {
    let mut calls = Vec::new();
    let report = Tuner::new(lr_bs_space())
        .epochs(3)
        .run(|t, epochs| {
            calls.push((t.id, epochs));
            score(t, epochs)
        })
        .unwrap();
    assert_eq!(calls, (0..6).map(|i| (i, 3)).collect::<Vec<_>>());
    assert_eq!(report.trials.len(), 6);
    assert!(
        report
            .trials
            .iter()
            .all(|t| t.status == TrialStatus::Completed)
    );
}

#[test]
fn the_best_trial_has_the_best_metric_in_either_direction() {
    let report = Tuner::new(lr_bs_space()).run(score).unwrap();
    let best = report.best();
    assert_eq!(best.config.f64("optimizer.lr").unwrap(), 0.01);
    assert_eq!(best.config.usize("data.batch_size").unwrap(), 32);
    let top = report
        .trials
        .iter()
        .map(|t| t.last_metric().unwrap())
        .fold(f64::MIN, f64::max);
    assert_eq!(best.last_metric(), Some(top));

    let report = Tuner::new(lr_bs_space())
        .metric("val_loss", Direction::Minimize)
        .run(|t, e| {
            let r = score(t, e)?;
            Ok(TrialResult::new(1.0 - r.metric))
        })
        .unwrap();
    assert_eq!(report.best().config.f64("optimizer.lr").unwrap(), 0.01);
    assert_eq!(report.best().config.usize("data.batch_size").unwrap(), 32);
}

#[test]
fn random_search_is_reproducible_with_a_seed() {
    let space = SearchSpace::new()
        .log_uniform("optimizer.lr", 1e-4, 1e-1)
        .choice("data.batch_size", [16usize, 32, 64]);
    let tuner = |seed| {
        Tuner::new(space.clone())
            .strategy(Strategy::Random { trials: 5 })
            .seed(seed)
    };
    let a = tuner(3).trials().unwrap();
    assert_eq!(a.len(), 5);
    assert_eq!(a, tuner(3).trials().unwrap());
    assert_ne!(a, tuner(4).trials().unwrap());
    let ra = tuner(3).run(score).unwrap();
    let rb = tuner(3).run(score).unwrap();
    assert_eq!(ra.best().config, rb.best().config);
}

#[test]
fn successive_halving_keeps_the_best_and_stops_the_losers_early() {
    // Eight trials whose rank is their value of `q` (higher is better), at every budget.
    let space = SearchSpace::new().choice("q", (0..8i64).collect::<Vec<_>>());
    let mut budgets: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    let report = Tuner::new(space)
        .epochs(4)
        .successive_halving(2, 1)
        .run(|t, epochs| {
            budgets.entry(epochs).or_default().push(t.id);
            Ok(TrialResult::new(t.f64("q")? + epochs as f64 / 100.0))
        })
        .unwrap();
    assert_eq!(budgets[&1], vec![0, 1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(budgets[&2], vec![4, 5, 6, 7]);
    assert_eq!(budgets[&4], vec![6, 7]);
    assert_eq!(report.best().config.id, 7);
    assert_eq!(report.best().epochs(), 4);
    for id in 0..4 {
        assert_eq!(report.trials[id].status, TrialStatus::Stopped { epochs: 1 });
    }
    assert_eq!(report.trials[5].status, TrialStatus::Stopped { epochs: 2 });
    assert_eq!(report.trials[7].status, TrialStatus::Completed);
}

#[test]
fn rungs_grow_by_eta_and_end_on_the_full_budget() {
    let t = |epochs, eta, min| {
        Tuner::new(SearchSpace::new())
            .epochs(epochs)
            .successive_halving(eta, min)
            .rungs()
            .unwrap()
    };
    assert_eq!(t(4, 2, 1), vec![1, 2, 4]);
    assert_eq!(t(5, 2, 1), vec![1, 2, 4, 5]);
    assert_eq!(t(9, 3, 1), vec![1, 3, 9]);
    assert_eq!(t(1, 2, 1), vec![1]);
    assert!(
        Tuner::new(SearchSpace::new())
            .successive_halving(1, 1)
            .rungs()
            .is_err()
    );
}

#[test]
fn a_failing_trial_is_recorded_and_the_search_goes_on() {
    let report = Tuner::new(lr_bs_space())
        .run(|t, e| {
            if t.f64("optimizer.lr")? == 0.1 {
                Err(Error::invalid("fit", "loss is not finite"))
            } else {
                score(t, e)
            }
        })
        .unwrap();
    assert!(
        matches!(report.trials[0].status, TrialStatus::Failed(ref m) if m.contains("not finite"))
    );
    assert_eq!(report.best().config.f64("optimizer.lr").unwrap(), 0.01);
    let all_fail = Tuner::new(lr_bs_space()).run(|_, _| Err(Error::invalid("fit", "boom")));
    assert_eq!(all_fail.unwrap_err().to_string(), "fit: boom");
}

#[test]
fn the_table_and_csv_list_every_trial_and_mark_the_best() {
    let report = Tuner::new(lr_bs_space()).run(score).unwrap();
    let table = report.table();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2 + 6);
    assert!(lines[0].contains("optimizer.lr") && lines[0].contains("val_accuracy"));
    assert!(lines[0].contains("val_loss"));
    let marked: Vec<&&str> = lines.iter().filter(|l| l.starts_with('*')).collect();
    assert_eq!(marked.len(), 1);
    assert!(
        marked[0].contains("0.01") && marked[0].contains("32"),
        "{table}"
    );

    let dir = std::env::temp_dir().join(format!("strata-tune-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("trials.csv");
    report.write_csv(&path).unwrap();
    let csv = std::fs::read_to_string(&path).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 7);
    assert!(rows[0].starts_with("trial,optimizer.lr,data.batch_size,epochs,val_accuracy"));
    assert_eq!(rows.iter().filter(|r| r.ends_with(",true")).count(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}
