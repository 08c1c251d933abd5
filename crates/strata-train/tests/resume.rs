//! A run checkpointed mid-epoch and resumed from the file, with everything rebuilt fresh,
//! ends with weights bit-identical to an uninterrupted run (dropout, a shuffling loader, Adam
//! and a schedule included).

mod common;

use common::{blobs, mlp, temp_dir, weight_bits};
use strata_core::Result;
use strata_data::DataLoader;
use strata_layers::CrossEntropyLoss;
use strata_optim::{Adam, Schedule};
use strata_train::callbacks::{Callback, Context, ModelCheckpoint};
use strata_train::metrics::Accuracy;
use strata_train::{Checkpoint, Trainer};

const EPOCHS: u64 = 3;

/// The trainer every run uses: the same settings, as a fresh process would build them.
fn trainer(model: &strata_layers::Sequential) -> Trainer<'_> {
    Trainer::new(
        model,
        CrossEntropyLoss::new(),
        Adam::new(0.01).weight_decay(1e-3),
    )
    .epochs(EPOCHS)
    .schedule(Schedule::cosine_annealing(40, 1e-4).with_warmup(5, 0.1))
    .metric(Accuracy::new())
    .verbose(false)
}

/// Simulates a crash: stops training right after optimizer step `at`.
struct KillAt(u64);

impl Callback for KillAt {
    fn on_batch_end(&mut self, ctx: &mut Context<'_, '_>) -> Result<()> {
        if ctx.step() == self.0 {
            ctx.stop();
        }
        Ok(())
    }
}

#[test]
fn resuming_mid_epoch_from_a_file_is_bit_identical_to_an_uninterrupted_run() {
    resume_matches_an_uninterrupted_run_without_prefetch(0, "resume");
}

#[test]
fn a_prefetching_run_resumed_mid_epoch_is_bit_identical_to_an_uninterrupted_plain_run() {
    resume_matches_an_uninterrupted_run_without_prefetch(2, "resume-prefetch");
}

/// Interrupts and resumes a run whose loaders prefetch `prefetch` batches (the resumed epoch
/// starts its worker mid-epoch) and compares it with a run without prefetch.
fn resume_matches_an_uninterrupted_run_without_prefetch(prefetch: usize, test: &str) {
    let (train, valid) = (blobs(90, 11), blobs(30, 12));
    let loader = DataLoader::new(&train, 8).unwrap().shuffle(99);
    let valid_loader = DataLoader::new(&valid, 16).unwrap();
    assert_eq!(loader.num_batches(), 12);

    let reference = mlp(5);
    let history = trainer(&reference)
        .fit(&loader, Some(&valid_loader))
        .unwrap();
    assert_eq!(history.len(), EPOCHS as usize);

    // Step 17 is batch 5 of epoch 2: mid-epoch. Checkpoints every step, then "dies".
    let dir = temp_dir(test);
    let first = mlp(5);
    let loader = loader.prefetch(prefetch);
    let valid_loader = valid_loader.prefetch(prefetch);
    let mut run = trainer(&first)
        .callback(ModelCheckpoint::new(&dir).every_steps(1))
        .callback(KillAt(17));
    run.fit(&loader, Some(&valid_loader)).unwrap();
    assert_eq!((run.state().epoch, run.state().batch), (1, 5));
    drop(run);

    // A new process: another seed for the initial weights (the checkpoint overwrites them),
    // a new optimizer, schedule and loader.
    let resumed = mlp(1234);
    let loader = DataLoader::new(&train, 8)
        .unwrap()
        .shuffle(99)
        .prefetch(prefetch);
    let mut run = trainer(&resumed);
    run.resume(ModelCheckpoint::last_path(&dir)).unwrap();
    assert_eq!(run.state().step, 17);
    let resumed_history = run.fit(&loader, Some(&valid_loader)).unwrap();

    assert_eq!(weight_bits(&resumed), weight_bits(&reference));
    let checkpoint_a = Checkpoint::load(
        ModelCheckpoint::last_path(&dir),
        &strata_core::Device::cpu(),
    );
    assert!(checkpoint_a.is_ok());
    // The epoch losses and validation values match too (the interrupted epoch's running loss
    // was in the checkpoint).
    for name in ["loss", "val_loss", "val_accuracy", "lr"] {
        let bits = |h: &strata_train::History| -> Vec<u64> {
            h.series(name).iter().map(|v| v.to_bits()).collect()
        };
        assert_eq!(bits(&resumed_history), bits(&history), "{name}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn optimizer_state_and_rng_counters_are_in_the_checkpoint() {
    let train = blobs(24, 1);
    let model = mlp(5);
    let mut run = trainer(&model);
    run.fit(&DataLoader::new(&train, 8).unwrap().shuffle(1), None)
        .unwrap();
    let checkpoint = run.checkpoint().unwrap();
    assert_eq!(checkpoint.state.rng[1], EPOCHS * 3);
    assert_eq!(checkpoint.state.step, EPOCHS * 3);
    assert_eq!(checkpoint.state.scheduler_step, Some(EPOCHS * 3));
    let keys: Vec<&str> = checkpoint
        .optimizer
        .iter()
        .map(|(k, _)| k.as_str())
        .collect();
    assert!(
        keys.contains(&"0.weight.exp_avg") && keys.contains(&"step"),
        "{keys:?}"
    );
    assert_eq!(checkpoint.config["trainer"]["epochs"], EPOCHS);
}
