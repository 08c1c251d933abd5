//! Max and average pooling on the CPU: one pass over each input plane, windows clipped to the
//! input so the padded border costs nothing. Max pooling keeps the index of each maximum for
//! a backward pass that is a single scatter.

use strata_backend::{BackendError, Pool2dSpec, PoolOps, PoolWindow, Result};

use crate::check::index;
use crate::{CpuBackend, CpuBuffer};
use crate::{parallel, pool2x2};

/// Calls `f(out_index, rows, cols)` for every output position of one plane.
fn for_each_window(spec: &Pool2dSpec, mut f: impl FnMut(usize, PoolWindow, PoolWindow)) {
    let (oh, ow) = (spec.out_h(), spec.out_w());
    for oy in 0..oh {
        let rows = spec.rows(oy);
        for ox in 0..ow {
            f(oy * ow + ox, rows, spec.cols(ox));
        }
    }
}

/// The common 2x2 window at stride 2 without padding (the classic `MaxPool2d(2)`), with no
/// partial window (ceil mode over an odd size has one).
fn is_2x2_tiling(spec: &Pool2dSpec) -> bool {
    spec.kernel_h == 2
        && spec.kernel_w == 2
        && spec.stride_h == 2
        && spec.stride_w == 2
        && spec.pad_h == 0
        && spec.pad_w == 0
        && spec.out_h() == spec.in_h / 2
        && spec.out_w() == spec.in_w / 2
}

/// The input gradient of a 2x2/stride-2 max pool written in one pass per plane, or `None`
/// when some index lies outside its window (the general scatter handles that case).
fn max_pool_2x2_backward(dy: &[f32], indices: &[f32], spec: &Pool2dSpec) -> Option<Vec<f32>> {
    let (hw, p) = (spec.in_h * spec.in_w, spec.out_h() * spec.out_w());
    let planes = spec.batch * spec.channels;
    // SAFETY: `backward_plane` returns true only after writing every position of its plane
    // (the window taps, the odd edge row and column); a part covers whole planes.
    unsafe {
        parallel::try_fill(planes, hw, hw + 2 * p, |range, part| {
            range.zip(part.chunks_exact_mut(hw)).all(|(plane, dst)| {
                let (d, ix) = (&dy[plane * p..][..p], &indices[plane * p..][..p]);
                pool2x2::backward_plane(d, ix, spec.in_h, spec.in_w, dst)
            })
        })
    }
}

fn check(op: &'static str, spec: &Pool2dSpec, input: usize, output: usize) -> Result<()> {
    spec.validate(op)?;
    BackendError::check_len(op, spec.input_len(), input)?;
    BackendError::check_len(op, spec.output_len(), output)
}

impl PoolOps for CpuBackend {
    fn max_pool2d(&self, x: &CpuBuffer, spec: Pool2dSpec) -> Result<(CpuBuffer, CpuBuffer)> {
        check("max_pool2d", &spec, x.len(), spec.output_len())?;
        let (hw, p) = (spec.in_h * spec.in_w, spec.out_h() * spec.out_w());
        let mut y = vec![0.0f32; spec.output_len()];
        let mut idx = vec![0.0f32; spec.output_len()];
        if hw > 0 && p > 0 {
            let x = x.as_slice();
            // Planes in parallel (each reads `hw` and writes `2p` floats).
            parallel::for_each_part2((&mut y, p), (&mut idx, p), hw + 2 * p, |planes, ys, is| {
                for ((plane, yo), io) in planes
                    .zip(ys.chunks_exact_mut(p))
                    .zip(is.chunks_exact_mut(p))
                {
                    let src = &x[plane * hw..(plane + 1) * hw];
                    if is_2x2_tiling(&spec) {
                        pool2x2::forward_plane(src, spec.in_w, yo, io);
                        continue;
                    }
                    for_each_window(&spec, |o, rows, cols| {
                        let (y0, y1, x0, x1) = (rows.lo, rows.hi, cols.lo, cols.hi);
                        let (mut best, mut at) = (f32::NEG_INFINITY, y0 * spec.in_w + x0);
                        for r in y0..y1 {
                            for (c, &v) in src[r * spec.in_w + x0..r * spec.in_w + x1]
                                .iter()
                                .enumerate()
                            {
                                // A NaN wins too, and then propagates, as in PyTorch.
                                if v > best || v.is_nan() {
                                    best = v;
                                    at = r * spec.in_w + x0 + c;
                                    if v.is_nan() {
                                        break;
                                    }
                                }
                            }
                        }
                        yo[o] = best;
                        io[o] = at as f32;
                    });
                }
            });
        }
        Ok((CpuBuffer::from_vec(y), CpuBuffer::from_vec(idx)))
    }

    fn max_pool2d_backward(
        &self,
        dy: &CpuBuffer,
        indices: &CpuBuffer,
        spec: Pool2dSpec,
    ) -> Result<CpuBuffer> {
        let op = "max_pool2d_backward";
        check(op, &spec, spec.input_len(), dy.len())?;
        BackendError::check_len(op, spec.output_len(), indices.len())?;
        let (hw, p) = (spec.in_h * spec.in_w, spec.out_h() * spec.out_w());
        if is_2x2_tiling(&spec)
            && hw > 0
            && p > 0
            && let Some(dx) = max_pool_2x2_backward(dy.as_slice(), indices.as_slice(), &spec)
        {
            return Ok(CpuBuffer::from_vec(dx));
        }
        let mut dx = vec![0.0f32; spec.input_len()];
        if hw > 0 && p > 0 {
            let planes = dx.chunks_exact_mut(hw);
            let grads = dy.as_slice().chunks_exact(p);
            let idx = indices.as_slice().chunks_exact(p);
            for (plane, ((d, ix), dst)) in grads.zip(idx).zip(planes).enumerate() {
                for (pos, (&g, &i)) in d.iter().zip(ix).enumerate() {
                    // The cheap test first; `index` builds the error message when it fails.
                    let at = i as usize;
                    if i >= 0.0 && i.fract() == 0.0 && at < hw {
                        dst[at] += g;
                    } else {
                        index(op, "index", "output", plane * p + pos, i, hw)?;
                    }
                }
            }
        }
        Ok(CpuBuffer::from_vec(dx))
    }

    fn avg_pool2d(&self, x: &CpuBuffer, spec: Pool2dSpec) -> Result<CpuBuffer> {
        check("avg_pool2d", &spec, x.len(), spec.output_len())?;
        let (hw, p) = (spec.in_h * spec.in_w, spec.out_h() * spec.out_w());
        let mut y = vec![0.0f32; spec.output_len()];
        if hw > 0 && p > 0 {
            for (src, yo) in x.as_slice().chunks_exact(hw).zip(y.chunks_exact_mut(p)) {
                for_each_window(&spec, |o, rows, cols| {
                    let (x0, x1) = (cols.lo, cols.hi);
                    let s: f32 = (rows.lo..rows.hi)
                        .map(|r| crate::math::sum(&src[r * spec.in_w + x0..r * spec.in_w + x1]))
                        .sum();
                    yo[o] = s * (1.0 / spec.avg_divisor(rows, cols) as f32);
                });
            }
        }
        Ok(CpuBuffer::from_vec(y))
    }

    fn avg_pool2d_backward(&self, dy: &CpuBuffer, spec: Pool2dSpec) -> Result<CpuBuffer> {
        check("avg_pool2d_backward", &spec, spec.input_len(), dy.len())?;
        let (hw, p) = (spec.in_h * spec.in_w, spec.out_h() * spec.out_w());
        let mut dx = vec![0.0f32; spec.input_len()];
        if hw > 0 && p > 0 {
            for (d, dst) in dy.as_slice().chunks_exact(p).zip(dx.chunks_exact_mut(hw)) {
                for_each_window(&spec, |o, rows, cols| {
                    let g = d[o] * (1.0 / spec.avg_divisor(rows, cols) as f32);
                    let (x0, x1) = (cols.lo, cols.hi);
                    for r in rows.lo..rows.hi {
                        for v in &mut dst[r * spec.in_w + x0..r * spec.in_w + x1] {
                            *v += g;
                        }
                    }
                });
            }
        }
        Ok(CpuBuffer::from_vec(dx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(h: usize, w: usize, k: usize, s: usize, pad: usize) -> Pool2dSpec {
        Pool2dSpec::new([1, 1, h, w], [k, k], [s, s], [pad, pad])
    }

    #[test]
    fn max_pool2d_2x2_takes_each_window_max_and_its_index() {
        let cpu = CpuBackend::new();
        let x = CpuBuffer::from_vec(vec![
            1.0, 5.0, 2.0, 0.0, //
            3.0, 4.0, 8.0, 1.0, //
            0.0, 0.0, 1.0, 1.0, //
            9.0, 0.0, 1.0, 2.0,
        ]);
        let (y, i) = cpu.max_pool2d(&x, spec(4, 4, 2, 2, 0)).unwrap();
        assert_eq!(y.as_slice(), &[5.0, 8.0, 9.0, 2.0]);
        assert_eq!(i.as_slice(), &[1.0, 6.0, 12.0, 15.0]);
        let dx = cpu
            .max_pool2d_backward(
                &CpuBuffer::from_vec(vec![1.0, 2.0, 3.0, 4.0]),
                &i,
                spec(4, 4, 2, 2, 0),
            )
            .unwrap();
        let mut want = [0.0; 16];
        want[1] = 1.0;
        want[6] = 2.0;
        want[12] = 3.0;
        want[15] = 4.0;
        assert_eq!(dx.as_slice(), &want[..]);
    }

    #[test]
    fn avg_pool2d_counts_padding_as_zeros() {
        let cpu = CpuBackend::new();
        let x = CpuBuffer::from_vec(vec![4.0, 8.0, 12.0, 16.0]);
        // 3x3 windows with padding 1 and stride 2 over a 2x2 input: one window holding all four.
        let y = cpu.avg_pool2d(&x, spec(2, 2, 3, 2, 1)).unwrap();
        assert_eq!(y.as_slice(), &[40.0 / 9.0]);
        let dx = cpu
            .avg_pool2d_backward(&CpuBuffer::from_vec(vec![9.0]), spec(2, 2, 3, 2, 1))
            .unwrap();
        assert_eq!(dx.as_slice(), &[1.0, 1.0, 1.0, 1.0]);
    }
}
