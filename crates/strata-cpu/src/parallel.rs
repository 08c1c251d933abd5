//! Splitting one op's loop across the backend's threads.
//!
//! The memory-bound loops around the GEMMs of a training step (im2col and col2im, the conv
//! output scatter, max pooling, unary maps and their derivatives, the bias gradient, Adam on
//! big parameters) are cut into contiguous parts of whole units (a plane, a sample, a channel,
//! a row of the column matrix), one per thread ([`crate::threads`]); the calling thread takes
//! the first part and the pool's workers ([`crate::pool`]) the others. A part is only split off
//! when it carries at least [`MIN_WORK_PER_THREAD`] elements of work, so small tensors never
//! pay for a hand-off. With one thread, or small inputs, every helper calls `f` once on the
//! calling thread.
//!
//! Splitting never changes a result: each output element is computed by exactly the same
//! arithmetic whatever the part it falls in.

use std::mem::MaybeUninit;
use std::ops::Range;

/// The least work (elements read or written) worth a thread of its own.
pub(crate) const MIN_WORK_PER_THREAD: usize = 1 << 16;

/// How many parts `units` units of `unit_work` elements of work each are split into.
fn part_count(units: usize, unit_work: usize) -> usize {
    let threads = crate::threads::num_threads();
    if threads <= 1 || units <= 1 {
        return 1;
    }
    let total = units.saturating_mul(unit_work);
    (total / MIN_WORK_PER_THREAD).clamp(1, threads.min(units))
}

/// Cuts `units` into `parts` contiguous ranges of nearly equal size.
fn ranges(units: usize, parts: usize) -> impl Iterator<Item = Range<usize>> {
    let per = units.div_ceil(parts.max(1)).max(1);
    (0..units)
        .step_by(per)
        .map(move |start| start..(start + per).min(units))
}

/// Calls `f(units, part)` for disjoint parts of `data`, each holding the whole units `units`
/// (of `unit_len` elements; trailing elements that do not fill a unit are not passed), in
/// parallel when the work (`unit_work` elements per unit) is large enough.
pub(crate) fn for_each_part<T: Send>(
    data: &mut [T],
    unit_len: usize,
    unit_work: usize,
    f: impl Fn(Range<usize>, &mut [T]) + Sync,
) {
    let units = data.len().checked_div(unit_len).unwrap_or(0);
    let parts = part_count(units, unit_work);
    if parts <= 1 {
        f(0..units, &mut data[..units * unit_len]);
        return;
    }
    let mut rest = &mut data[..units * unit_len];
    let mut jobs = Vec::with_capacity(parts);
    for range in ranges(units, parts) {
        let (part, tail) = std::mem::take(&mut rest).split_at_mut(range.len() * unit_len);
        rest = tail;
        jobs.push((range, part));
    }
    crate::pool::run_parts(jobs, &|(range, part)| f(range, part));
}

/// The length of the parts `len` elements of `elem_work` work each are cut into (`len`
/// itself, at least 1, when the work does not pay for a second thread): zip `chunks_mut` of
/// every operand with this length and hand them to [`run_each`].
pub(crate) fn chunk_len(len: usize, elem_work: usize) -> usize {
    len.div_ceil(part_count(len, elem_work)).max(1)
}

/// Runs `f` on every item, the first on the calling thread and each other on a pool worker
/// (so at most as many items as threads should be passed: see [`chunk_len`]).
pub(crate) fn run_each<I>(items: I, f: impl Fn(I::Item) + Sync)
where
    I: IntoIterator,
    I::Item: Send,
{
    crate::pool::run_parts(items.into_iter().collect(), &f);
}

/// [`for_each_part`] over two buffers cut at the same units (`a_unit` and `b_unit` elements
/// per unit respectively).
pub(crate) fn for_each_part2<A: Send, B: Send>(
    (a, a_unit): (&mut [A], usize),
    (b, b_unit): (&mut [B], usize),
    unit_work: usize,
    f: impl Fn(Range<usize>, &mut [A], &mut [B]) + Sync,
) {
    let units = a
        .len()
        .checked_div(a_unit)
        .unwrap_or(0)
        .min(b.len().checked_div(b_unit).unwrap_or(0));
    let parts = part_count(units, unit_work);
    let (a, b) = (&mut a[..units * a_unit], &mut b[..units * b_unit]);
    if parts <= 1 {
        f(0..units, a, b);
        return;
    }
    let (mut rest_a, mut rest_b) = (a, b);
    let mut jobs = Vec::with_capacity(parts);
    for range in ranges(units, parts) {
        let (pa, ta) = std::mem::take(&mut rest_a).split_at_mut(range.len() * a_unit);
        let (pb, tb) = std::mem::take(&mut rest_b).split_at_mut(range.len() * b_unit);
        (rest_a, rest_b) = (ta, tb);
        jobs.push((range, pa, pb));
    }
    crate::pool::run_parts(jobs, &|(range, pa, pb)| f(range, pa, pb));
}

/// A new vector of `units · unit_len` floats, each part written by `f(units, part)` (in
/// parallel as [`for_each_part`]); `None` as soon as `f` returns `false` for some part.
///
/// # Safety
/// Whenever `f` returns `true` it must have written every element of the part it was given.
pub(crate) unsafe fn try_fill(
    units: usize,
    unit_len: usize,
    unit_work: usize,
    f: impl Fn(Range<usize>, &mut [MaybeUninit<f32>]) -> bool + Sync,
) -> Option<Vec<f32>> {
    let len = units * unit_len;
    let mut out: Vec<f32> = Vec::with_capacity(len);
    let ok = std::sync::atomic::AtomicBool::new(true);
    for_each_part(
        &mut out.spare_capacity_mut()[..len],
        unit_len,
        unit_work,
        |range, part| {
            if !f(range, part) {
                ok.store(false, std::sync::atomic::Ordering::Relaxed);
            }
        },
    );
    if !ok.into_inner() {
        return None;
    }
    // SAFETY: every part returned true, so (the caller guarantees) each wrote all of its
    // elements, and the parts tile `0..len`.
    unsafe { out.set_len(len) };
    Some(out)
}

/// A new vector of `units · unit_len` floats, each part written by `f(units, part)`.
///
/// # Safety
/// `f` must write every element of the part it is given.
pub(crate) unsafe fn fill(
    units: usize,
    unit_len: usize,
    unit_work: usize,
    f: impl Fn(Range<usize>, &mut [MaybeUninit<f32>]) + Sync,
) -> Vec<f32> {
    // SAFETY: `f` writes every element of its part (our caller's guarantee) and we return true.
    let out = unsafe {
        try_fill(units, unit_len, unit_work, |range, part| {
            f(range, part);
            true
        })
    };
    out.unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_tile_the_units_in_order() {
        for units in [1, 2, 7, 64] {
            for parts in 1..5 {
                let r: Vec<Range<usize>> = ranges(units, parts).collect();
                assert_eq!(r.first().unwrap().start, 0);
                assert_eq!(r.last().unwrap().end, units);
                assert!(r.windows(2).all(|w| w[0].end == w[1].start));
                assert!(r.len() <= parts);
            }
        }
    }

    #[test]
    fn parts_cover_every_unit_once_on_any_thread_count() {
        let before = crate::threads::num_threads();
        for threads in [1, 2, 3] {
            crate::threads::set_num_threads(threads);
            let mut data = vec![0u32; 5 * 100_000 + 3];
            for_each_part(&mut data, 5, 5, |range, part| {
                for (u, unit) in range.zip(part.chunks_exact_mut(5)) {
                    for v in unit {
                        *v += u as u32 + 1;
                    }
                }
            });
            let want: Vec<u32> = (0..100_000u32)
                .flat_map(|u| [u + 1; 5])
                .chain([0; 3])
                .collect();
            assert_eq!(data, want, "{threads} threads");
            // SAFETY: the closure writes every element of its part.
            let filled = unsafe {
                fill(70_000, 2, 2, |range, part| {
                    for (u, pair) in range.zip(part.chunks_exact_mut(2)) {
                        pair[0].write(u as f32);
                        pair[1].write(-(u as f32));
                    }
                })
            };
            assert_eq!(filled.len(), 140_000);
            assert!(
                filled
                    .chunks(2)
                    .enumerate()
                    .all(|(u, p)| p == [u as f32, -(u as f32)])
            );
            // SAFETY: a part returning false makes the result None; true parts wrote all.
            let refused = unsafe {
                try_fill(70_000, 1, 1, |range, part| {
                    for (u, v) in range.clone().zip(part.iter_mut()) {
                        v.write(u as f32);
                    }
                    !range.contains(&69_999)
                })
            };
            assert!(refused.is_none());
        }
        crate::threads::set_num_threads(before);
    }
}
