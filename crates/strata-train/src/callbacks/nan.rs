//! `TerminateOnNan`: stop as soon as a batch's loss is NaN or infinite.

use strata_core::Result;

use super::{Callback, Context};

/// Stops training at the first batch whose loss is not finite. The trainer never updates the
/// weights from such a batch, so the model keeps the weights of the last good step, and
/// [`super::ModelCheckpoint`] writes nothing for it: its files keep the last good state.
/// Without this callback a non-finite loss makes `fit` return an error instead.
#[derive(Debug, Clone, Copy, Default)]
pub struct TerminateOnNan;

impl TerminateOnNan {
    /// The callback.
    pub fn new() -> Self {
        TerminateOnNan
    }
}

impl Callback for TerminateOnNan {
    fn on_batch_end(&mut self, ctx: &mut Context<'_, '_>) -> Result<()> {
        if let Some(loss) = ctx.batch_loss()
            && !loss.is_finite()
        {
            eprintln!(
                "TerminateOnNan: loss {loss} at epoch {}, batch {}; stopping with the weights \
                 of optimizer step {}",
                ctx.epoch() + 1,
                ctx.batch() + 1,
                ctx.step()
            );
            ctx.stop();
        }
        Ok(())
    }
}
