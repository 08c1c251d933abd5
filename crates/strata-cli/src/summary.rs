//! `strata summary <config>`: the model's layers, output shapes and parameter counts, and
//! the memory training will hold, without training. The data is read only when the model
//! has no `input_shape`.

use strata_core::Result;
use strata_train::Trainer;

use super::args::CliArgs;
use super::setup;

/// Builds the model the config describes and returns its summary as text.
pub fn summary(args: &CliArgs) -> Result<String> {
    let config = setup::load_config(&args.config, &args.overrides)?;
    let device = setup::device(&config)?;
    let sample_shape = match &config.model.input_shape {
        Some(shape) => shape.clone(),
        None => setup::data(&config)?.train.sample_shape().to_vec(),
    };
    let model = config
        .model
        .build(&config.file, &sample_shape, &device, config.train.seed)?;
    let mut trainer = Trainer::with_boxed(
        &model,
        setup::loss(&config)?,
        config.optimizer.build(&config.file)?,
    );
    Ok(format!(
        "{}\noptimizer: {:?} (lr {})\n",
        trainer.describe(),
        config.optimizer.kind,
        config.optimizer.lr
    ))
}
