//! Properties of `BufferOps`: transfers and copies keep every bit, `full` fills, `add_assign`
//! adds, and mismatched lengths are refused.

use proptest::prelude::*;
use strata_backend::{Backend, BufferOps};

use super::{download, length_mismatches, upload, wrong_len};
use crate::compare::{Expected, check_bits};
use crate::reference::{RefBuffer, ReferenceBackend};
use crate::strategies::{MAX_ELEMENTS, arbitrary_bit_patterns, values_in};
use crate::suite::{
    Family, OrFail, Property, PropertyResult, SuiteConfig, expect_err, run_property,
};

const FAMILY: Family = Family::Buffer;

/// The properties of this family.
pub fn properties<B: Backend>() -> Vec<Property<B>> {
    vec![
        Property::new(FAMILY, "round_trip", round_trip::<B>),
        Property::new(FAMILY, "full", full::<B>),
        Property::new(FAMILY, "copy", copy::<B>),
        Property::new(FAMILY, "add_assign", add_assign::<B>),
        Property::new(
            FAMILY,
            "rejects_mismatched_lengths",
            rejects_mismatched_lengths::<B>,
        ),
    ]
}

fn lengths() -> BoxedStrategy<usize> {
    prop_oneof![
        Just(0usize),
        Just(1usize),
        1usize..=40,
        41usize..=MAX_ELEMENTS
    ]
    .boxed()
}

/// `from_host` and `from_host_vec` followed by `to_host` return every bit pattern unchanged
/// (NaN payloads, −0, subnormals, infinities), and `len` counts the elements.
pub fn round_trip<B: BufferOps>(backend: &B, config: &SuiteConfig) -> PropertyResult {
    let strategy = lengths().prop_flat_map(arbitrary_bit_patterns);
    run_property(config, FAMILY, "round_trip", strategy, |data| {
        let buf = upload(backend, data)?;
        if backend.len(&buf) != data.len() {
            return Err(format!(
                "len: {} for a buffer of {} elements",
                backend.len(&buf),
                data.len()
            ));
        }
        check_bits("from_host then to_host", data, &download(backend, &buf)?)?;
        let owned = backend
            .from_host_vec(data.clone())
            .or_fail("from_host_vec")?;
        check_bits(
            "from_host_vec then to_host",
            data,
            &download(backend, &owned)?,
        )
    })
}

/// `full(len, v)` holds `len` copies of `v`'s bits; `zeros(len)` holds `len` copies of +0.
pub fn full<B: BufferOps>(backend: &B, config: &SuiteConfig) -> PropertyResult {
    let strategy = (lengths(), any::<f32>());
    run_property(config, FAMILY, "full", strategy, |&(len, value)| {
        let filled = backend.full(len, value).or_fail("full")?;
        check_bits("full", &vec![value; len], &download(backend, &filled)?)?;
        let zeros = backend.zeros(len).or_fail("zeros")?;
        check_bits("zeros", &vec![0.0; len], &download(backend, &zeros)?)
    })
}

/// `copy` returns the same bits in a new buffer: adding to the original afterwards leaves
/// the copy as it was.
pub fn copy<B: BufferOps>(backend: &B, config: &SuiteConfig) -> PropertyResult {
    let strategy = lengths().prop_flat_map(arbitrary_bit_patterns);
    run_property(config, FAMILY, "copy", strategy, |data| {
        let mut original = upload(backend, data)?;
        let copy = backend.copy(&original).or_fail("copy")?;
        check_bits("copy", data, &download(backend, &copy)?)?;
        let ones = backend.full(data.len(), 1.0).or_fail("full")?;
        backend
            .add_assign(&mut original, &ones)
            .or_fail("add_assign")?;
        check_bits(
            "copy after adding to the original",
            data,
            &download(backend, &copy)?,
        )
    })
}

/// Buffers and values of an `add_assign`.
#[derive(Debug, Clone)]
struct AddAssignCase {
    dst: Vec<f32>,
    src: Vec<f32>,
}

/// `add_assign(dst, src)` leaves `dst + src` in `dst`.
pub fn add_assign<B: BufferOps>(backend: &B, config: &SuiteConfig) -> PropertyResult {
    let strategy = lengths()
        .prop_flat_map(|n| (values_in(n, -4.0, 4.0), values_in(n, -4.0, 4.0)))
        .prop_map(|(dst, src)| AddAssignCase { dst, src });
    run_property(config, FAMILY, "add_assign", strategy, |case| {
        let mut expected = RefBuffer(case.dst.clone());
        ReferenceBackend
            .add_assign(&mut expected, &RefBuffer(case.src.clone()))
            .or_fail("reference add_assign")?;
        let mut dst = upload(backend, &case.dst)?;
        backend
            .add_assign(&mut dst, &upload(backend, &case.src)?)
            .or_fail("add_assign")?;
        Expected::new("add_assign", &[case.dst.len()], &expected.0)
            .check(&download(backend, &dst)?, config.tolerances.elementwise)
    })
}

/// `add_assign` with buffers of different lengths returns `Err`.
pub fn rejects_mismatched_lengths<B: BufferOps>(
    backend: &B,
    config: &SuiteConfig,
) -> PropertyResult {
    run_property(
        config,
        FAMILY,
        "rejects_mismatched_lengths",
        length_mismatches(),
        |&(n, delta)| {
            let src_len = wrong_len(n, delta);
            let mut dst = upload(backend, &vec![1.0; n])?;
            let src = upload(backend, &vec![1.0; src_len])?;
            expect_err(
                backend.add_assign(&mut dst, &src),
                &format!("add_assign of {src_len} elements into {n}"),
            )
        },
    )
}
