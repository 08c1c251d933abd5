//! The step hook: a user-supplied forward pass and loss trains through the same step as
//! `Trainer::new`, several named outputs carry their own metrics, and the gradient points a
//! wrapper can take over are called where the docs say.

mod common;

use std::sync::{Arc, Mutex};

use common::{blobs, mlp, series_bits, weight_bits};
use strata_core::{Gradients, Param, Result, Tensor};
use strata_data::{DataLoader, InMemoryDataset};
use strata_layers::{CrossEntropyLoss, Dense, Loss, Mode, Module, MseLoss, Sequential};
use strata_optim::{Adam, Sgd};
use strata_train::Trainer;
use strata_train::metrics::{Accuracy, Mae, Metric};
use strata_train::step::{LossStep, StepBatch, StepHook, StepOutput};

#[test]
fn a_closure_hook_of_model_and_loss_trains_bit_identically_to_trainer_new() {
    let data = blobs(60, 31);
    let loader = DataLoader::new(&data, 8).unwrap().shuffle(4);
    let fit = |model: &Sequential, trainer: Trainer<'_>| {
        let history = trainer
            .epochs(2)
            .accumulate(2)
            .metric(Accuracy::new())
            .verbose(false)
            .fit(&loader, Some(&DataLoader::new(&data, 32).unwrap()))
            .unwrap();
        (weight_bits(model), history)
    };
    let plain_model = mlp(8);
    let (plain, plain_history) = fit(
        &plain_model,
        Trainer::new(&plain_model, CrossEntropyLoss::new(), Adam::new(0.01)),
    );
    let hooked_model = mlp(8);
    let hook = |model: &dyn Module, batch: &StepBatch, mode: Mode| -> Result<StepOutput> {
        let scores = model.forward(batch.features(), mode)?;
        let loss = CrossEntropyLoss::new().forward(&scores, batch.targets())?;
        Ok(StepOutput::new(loss).with_output("scores", scores, batch.targets().clone()))
    };
    let (hooked, hooked_history) = fit(
        &hooked_model,
        Trainer::with_step(&hooked_model, hook, Adam::new(0.01)),
    );
    assert_eq!(hooked, plain);
    for name in ["loss", "accuracy", "val_loss", "val_accuracy"] {
        assert_eq!(
            series_bits(&hooked_history, name),
            series_bits(&plain_history, name),
            "{name}"
        );
    }
}

/// 16 samples of 4 features; each target row is `[class in 0..3, value]`.
fn two_task_data() -> InMemoryDataset {
    let features: Vec<f32> = (0..64)
        .map(|i| ((i * 7) % 11) as f32 / 11.0 - 0.5)
        .collect();
    let targets: Vec<f32> = (0..16)
        .flat_map(|i| [(i % 3) as f32, i as f32 / 16.0])
        .collect();
    InMemoryDataset::new(features, vec![4], targets, vec![2]).unwrap()
}

/// One trunk, two heads cut from its 4 outputs: class scores (columns 0..3) and a value
/// (column 3), with losses weighted 0.7 and 0.3.
fn two_heads(model: &dyn Module, batch: &StepBatch, mode: Mode) -> Result<StepOutput> {
    let (scores, value) = split(&model.forward(batch.features(), mode)?)?;
    let (class, target) = split_targets(batch.targets())?;
    let loss = CrossEntropyLoss::new()
        .forward(&scores, &class)?
        .mul_scalar(0.7)?
        .add(&MseLoss.forward(&value, &target)?.mul_scalar(0.3)?)?;
    Ok(StepOutput::new(loss)
        .with_output("class", scores, class)
        .with_output("value", value, target))
}

fn split(out: &Tensor) -> Result<(Tensor, Tensor)> {
    Ok((out.narrow(1, 0, 3)?, out.narrow(1, 3, 1)?))
}

fn split_targets(targets: &Tensor) -> Result<(Tensor, Tensor)> {
    let n = targets.dims()[0];
    Ok((
        targets.narrow(1, 0, 1)?.reshape([n])?,
        targets.narrow(1, 1, 1)?,
    ))
}

fn trunk(seed: u64) -> Sequential {
    Sequential::new()
        .add(Dense::new(4))
        .build(&[4], &strata_core::Device::cpu(), seed)
        .unwrap()
}

#[test]
fn each_output_has_its_own_metrics_in_fit_and_evaluate() {
    let data = two_task_data();
    let model = trunk(2);
    let mut trainer = Trainer::with_step(&model, two_heads, Adam::new(0.01))
        .epochs(2)
        .metric(Accuracy::new())
        .output_metric("class", Accuracy::new())
        .output_metric("value", Mae::new())
        .verbose(false);
    let valid = DataLoader::new(&data, 5).unwrap();
    let history = trainer
        .fit(&DataLoader::new(&data, 4).unwrap(), Some(&valid))
        .unwrap();
    let last = history.last().unwrap();
    // `metric` reads the first output: the same accuracy as the one attached to "class".
    assert_eq!(last.get("accuracy"), last.get("class_accuracy"));
    assert_eq!(last.get("val_accuracy"), last.get("val_class_accuracy"));

    // The value head's MAE, by hand from the model's outputs.
    let x =
        Tensor::from_slice(&data_features(&data), [16, 4], &strata_core::Device::cpu()).unwrap();
    let (_, value) = split(&trainer.predict(&x).unwrap()).unwrap();
    let (_, target) = split_targets(
        &Tensor::from_slice(&data_targets(&data), [16, 2], &strata_core::Device::cpu()).unwrap(),
    )
    .unwrap();
    let mut by_hand = Mae::new();
    by_hand.update(&value, &target).unwrap();
    let scores = trainer.evaluate(&valid).unwrap();
    assert!(
        (scores["value_mae"] - by_hand.compute()).abs() < 1e-6,
        "{scores:?}"
    );
    assert_eq!(last.get("val_value_mae"), Some(scores["value_mae"]));
    assert!(scores.contains_key("class_accuracy") && scores.contains_key("loss"));
}

fn data_features(data: &InMemoryDataset) -> Vec<f32> {
    DataLoader::new(data, 16)
        .unwrap()
        .epoch(0)
        .next()
        .unwrap()
        .unwrap()
        .features
}

fn data_targets(data: &InMemoryDataset) -> Vec<f32> {
    DataLoader::new(data, 16)
        .unwrap()
        .epoch(0)
        .next()
        .unwrap()
        .unwrap()
        .targets
}

#[test]
fn a_metric_of_an_output_the_step_does_not_return_is_an_error_naming_the_outputs() {
    let data = two_task_data();
    let model = trunk(3);
    let mut trainer = Trainer::with_step(&model, two_heads, Adam::new(0.01))
        .output_metric("species", Accuracy::new())
        .verbose(false);
    let err = trainer
        .evaluate(&DataLoader::new(&data, 4).unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("metric `accuracy` reads output `species`")
            && err.contains(r#"["class", "value"]"#),
        "{err}"
    );
}

#[test]
fn two_outputs_of_the_same_name_are_refused() {
    let data = two_task_data();
    let model = trunk(4);
    let twice = |model: &dyn Module, batch: &StepBatch, mode: Mode| -> Result<StepOutput> {
        let out = two_heads(model, batch, mode)?;
        let head = out.outputs()[0].clone();
        Ok(out.with_output("class", head.predictions().clone(), head.targets().clone()))
    };
    let mut trainer = Trainer::with_step(&model, twice, Adam::new(0.01))
        .metric(Accuracy::new())
        .verbose(false);
    let err = trainer
        .fit(&DataLoader::new(&data, 4).unwrap(), None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("two outputs named `class`"), "{err}");
}

/// A wrapper hook, as a data-parallel one would be: the forward pass of the inner hook,
/// counted backward passes, and gradients scaled by `factor` at each reduction.
struct Scaling<H> {
    inner: H,
    factor: f32,
    /// Backward passes and reductions so far, read by the test after `fit`.
    calls: Arc<Mutex<(usize, usize)>>,
}

impl<H: StepHook> StepHook for Scaling<H> {
    fn forward(&mut self, model: &dyn Module, batch: &StepBatch, mode: Mode) -> Result<StepOutput> {
        self.inner.forward(model, batch, mode)
    }

    fn backward(&mut self, loss: &Tensor) -> Result<Gradients> {
        self.calls.lock().unwrap().0 += 1;
        loss.backward()
    }

    fn reduce_gradients(&mut self, grads: &mut Gradients, params: &[Param]) -> Result<()> {
        self.calls.lock().unwrap().1 += 1;
        for p in params {
            if let Some(g) = grads.get(p.tensor()) {
                let scaled = g.mul_scalar(self.factor)?;
                grads.insert(p.tensor(), scaled);
            }
        }
        Ok(())
    }
}

#[test]
fn reduce_gradients_sees_each_update_once_and_its_changes_reach_the_optimizer() {
    let data = blobs(40, 32);
    let loader = DataLoader::new(&data, 8).unwrap();
    // Halving the summed gradients at lr 0.2 is the same update as lr 0.1 without the hook.
    let scaled_model = mlp(9);
    let calls = Arc::new(Mutex::new((0, 0)));
    let scaling = Scaling {
        inner: LossStep::new(Box::new(CrossEntropyLoss::new()) as Box<dyn Loss>),
        factor: 0.5,
        calls: Arc::clone(&calls),
    };
    let mut trainer = Trainer::with_step(&scaled_model, scaling, Sgd::new(0.2))
        .epochs(2)
        .accumulate(2)
        .verbose(false);
    trainer.fit(&loader, None).unwrap();
    // 5 batches per epoch in groups of 2, 2, 1: 3 updates per epoch.
    assert_eq!(trainer.state().step, 6);
    assert_eq!(*calls.lock().unwrap(), (10, 6));

    let plain_model = mlp(9);
    Trainer::new(&plain_model, CrossEntropyLoss::new(), Sgd::new(0.1))
        .epochs(2)
        .accumulate(2)
        .verbose(false)
        .fit(&loader, None)
        .unwrap();
    for ((name, a), (_, b)) in weight_bits(&scaled_model)
        .into_iter()
        .zip(weight_bits(&plain_model))
    {
        for (a, b) in a.iter().zip(&b) {
            let (a, b) = (f32::from_bits(*a), f32::from_bits(*b));
            assert!(
                (a - b).abs() <= 1e-6 * (1.0 + b.abs()),
                "{name}: {a} vs {b}"
            );
        }
    }
    assert_ne!(
        weight_bits(&plain_model),
        weight_bits(&mlp(9)),
        "it trained"
    );
}
