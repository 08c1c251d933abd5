//! Properties of `RecurrentOps`: the forward pass (outputs, `h_n`, `c_n`) and backpropagation
//! through time (every operand's gradient) of the tanh, LSTM and GRU cells, both directions,
//! with and without per-row lengths; and refusal of a length longer than the sequence.

use proptest::prelude::*;
use strata_backend::{Backend, BufferOps, RecurrentOps, RnnCell, RnnOperands, RnnSpec};

use super::{download, upload};
use crate::compare::Expected;
use crate::reference::{RefBuffer, ReferenceBackend};
use crate::strategies::values_in;
use crate::suite::{
    Family, OrFail, Property, PropertyResult, SuiteConfig, expect_err, run_property,
};

const FAMILY: Family = Family::Recurrent;

/// The properties of this family.
pub fn properties<B: Backend>() -> Vec<Property<B>> {
    vec![
        Property::new(FAMILY, "rnn_forward", rnn_forward::<B>),
        Property::new(FAMILY, "rnn_backward", rnn_backward::<B>),
        Property::new(
            FAMILY,
            "rnn_rejects_length_beyond_sequence",
            rnn_rejects_length_beyond_sequence::<B>,
        ),
    ]
}

/// One recurrent problem: a spec, every operand, optional lengths and an upstream gradient.
#[derive(Debug, Clone)]
pub struct RnnCase {
    spec: RnnSpec,
    x: Vec<f32>,
    w_ih: Vec<f32>,
    w_hh: Vec<f32>,
    b_ih: Vec<f32>,
    b_hh: Vec<f32>,
    h0: Vec<f32>,
    c0: Vec<f32>,
    lengths: Option<Vec<f32>>,
    dpacked: Vec<f32>,
}

/// Small recurrent problems over every cell, both directions, lengths present or not
/// (including zero-length rows); weights in ±0.8 so gates are neither linear nor saturated.
pub fn rnn_cases() -> impl Strategy<Value = RnnCase> {
    let cell = prop_oneof![Just(RnnCell::Tanh), Just(RnnCell::Lstm), Just(RnnCell::Gru)];
    (
        cell,
        1usize..=3,
        1usize..=4,
        1usize..=4,
        1usize..=4,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_flat_map(
            |(cell, batch, seq_len, input_size, hidden_size, reverse, ragged)| {
                let spec = RnnSpec {
                    cell,
                    batch,
                    seq_len,
                    input_size,
                    hidden_size,
                    reverse,
                };
                let lengths = if ragged {
                    proptest::collection::vec(0..=seq_len, batch)
                        .prop_map(|l| Some(l.into_iter().map(|v| v as f32).collect()))
                        .boxed()
                } else {
                    Just(None).boxed()
                };
                (
                    Just(spec),
                    values_in(spec.input_len(), -1.0, 1.0),
                    values_in(spec.w_ih_len(), -0.8, 0.8),
                    values_in(spec.w_hh_len(), -0.8, 0.8),
                    values_in(spec.bias_len(), -0.5, 0.5),
                    values_in(spec.bias_len(), -0.5, 0.5),
                    values_in(spec.state_len(), -1.0, 1.0),
                    values_in(spec.state_len(), -1.0, 1.0),
                    lengths,
                    values_in(spec.packed_len(), -1.0, 1.0),
                )
            },
        )
        .prop_map(
            |(spec, x, w_ih, w_hh, b_ih, b_hh, h0, c0, lengths, dpacked)| RnnCase {
                spec,
                x,
                w_ih,
                w_hh,
                b_ih,
                b_hh,
                h0,
                c0,
                lengths,
                dpacked,
            },
        )
}

/// The case's operands uploaded to a backend, in the order of `RnnOperands`.
struct Uploaded<Buf> {
    bufs: Vec<Buf>,
    lengths: Option<Buf>,
}

impl<Buf> Uploaded<Buf> {
    fn operands(&self) -> RnnOperands<'_, Buf> {
        let b = &self.bufs;
        RnnOperands {
            x: &b[0],
            w_ih: &b[1],
            w_hh: &b[2],
            b_ih: &b[3],
            b_hh: &b[4],
            h0: &b[5],
            c0: &b[6],
            lengths: self.lengths.as_ref(),
        }
    }
}

fn upload_case<B: BufferOps>(backend: &B, c: &RnnCase) -> Result<Uploaded<B::Buffer>, String> {
    let bufs = [&c.x, &c.w_ih, &c.w_hh, &c.b_ih, &c.b_hh, &c.h0, &c.c0]
        .into_iter()
        .map(|v| upload(backend, v))
        .collect::<Result<Vec<_>, _>>()?;
    let lengths = c.lengths.as_ref().map(|l| upload(backend, l)).transpose()?;
    Ok(Uploaded { bufs, lengths })
}

fn reference_case(c: &RnnCase) -> Uploaded<RefBuffer> {
    let bufs = [&c.x, &c.w_ih, &c.w_hh, &c.b_ih, &c.b_hh, &c.h0, &c.c0]
        .into_iter()
        .map(|v| RefBuffer(v.clone()))
        .collect();
    Uploaded {
        bufs,
        lengths: c.lengths.clone().map(RefBuffer),
    }
}

/// The packed result (step outputs, `h_n`, `c_n`) matches the reference.
pub fn rnn_forward<B: BufferOps + RecurrentOps>(
    backend: &B,
    config: &SuiteConfig,
) -> PropertyResult {
    run_property(config, FAMILY, "rnn_forward", rnn_cases(), |c| {
        let r = reference_case(c);
        let expected = ReferenceBackend
            .rnn_forward(c.spec, r.operands())
            .or_fail("reference rnn_forward")?;
        let up = upload_case(backend, c)?;
        let found = backend
            .rnn_forward(c.spec, up.operands())
            .or_fail("rnn_forward")?;
        let shape = [
            c.spec.batch,
            c.spec.seq_len + c.spec.cell.state_count(),
            c.spec.hidden_size,
        ];
        Expected::new("rnn_forward packed", &shape, &expected.packed.0).check(
            &download(backend, &found.packed)?,
            config.tolerances.recurrent,
        )
    })
}

/// Every gradient of backpropagation through time matches the reference.
pub fn rnn_backward<B: BufferOps + RecurrentOps>(
    backend: &B,
    config: &SuiteConfig,
) -> PropertyResult {
    run_property(config, FAMILY, "rnn_backward", rnn_cases(), |c| {
        let r = reference_case(c);
        let expected = ReferenceBackend
            .rnn_backward(
                c.spec,
                r.operands(),
                &RefBuffer(Vec::new()),
                &RefBuffer(c.dpacked.clone()),
            )
            .or_fail("reference rnn_backward")?;
        let up = upload_case(backend, c)?;
        let fwd = backend
            .rnn_forward(c.spec, up.operands())
            .or_fail("rnn_forward")?;
        let dpacked = upload(backend, &c.dpacked)?;
        let found = backend
            .rnn_backward(c.spec, up.operands(), &fwd.workspace, &dpacked)
            .or_fail("rnn_backward")?;
        let s = c.spec;
        let (g, h, i) = (s.cell.gates() * s.hidden_size, s.hidden_size, s.input_size);
        let pairs = [
            ("dx", vec![s.batch, s.seq_len, i], &expected.dx, &found.dx),
            ("dw_ih", vec![g, i], &expected.dw_ih, &found.dw_ih),
            ("dw_hh", vec![g, h], &expected.dw_hh, &found.dw_hh),
            ("db_ih", vec![g], &expected.db_ih, &found.db_ih),
            ("db_hh", vec![g], &expected.db_hh, &found.db_hh),
            ("dh0", vec![s.batch, h], &expected.dh0, &found.dh0),
        ];
        for (what, shape, e, f) in pairs {
            Expected::new(what, &shape, &e.0)
                .check(&download(backend, f)?, config.tolerances.recurrent)?;
        }
        if s.cell.has_cell_state() {
            Expected::new("dc0", &[s.batch, h], &expected.dc0.0)
                .check(&download(backend, &found.dc0)?, config.tolerances.recurrent)?;
        }
        Ok(())
    })
}

/// A row length of `seq_len + 1` or more is refused, by forward and by backward.
pub fn rnn_rejects_length_beyond_sequence<B: BufferOps + RecurrentOps>(
    backend: &B,
    config: &SuiteConfig,
) -> PropertyResult {
    let strategy = (rnn_cases(), 1usize..=3).prop_map(|(mut c, excess)| {
        let bad = (c.spec.seq_len + excess) as f32;
        let mut l = c.lengths.take().unwrap_or_else(|| vec![0.0; c.spec.batch]);
        l[0] = bad;
        c.lengths = Some(l);
        c
    });
    run_property(
        config,
        FAMILY,
        "rnn_rejects_length_beyond_sequence",
        strategy,
        |c| {
            let up = upload_case(backend, c)?;
            expect_err(
                backend.rnn_forward(c.spec, up.operands()),
                "rnn_forward with a length beyond seq_len",
            )?;
            let ws = upload(backend, &[])?;
            let dp = upload(backend, &c.dpacked)?;
            expect_err(
                backend.rnn_backward(c.spec, up.operands(), &ws, &dp),
                "rnn_backward with a length beyond seq_len",
            )
        },
    )
}
