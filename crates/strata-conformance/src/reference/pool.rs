//! Reference pooling: each output visits its whole (padded) window by the definition.

use strata_backend::{BackendError, Pool2dSpec, PoolOps, Result};

use super::{RefBuffer, ReferenceBackend, index_below, round};

/// Calls `f(plane, out_index, inputs, divisor)` for every output, where `inputs` lists the
/// in-plane positions (`row · in_w + col`) of its window that lie inside the input, in
/// row-major order, and `divisor` is what an average divides by: the window positions inside
/// the padded input (`count_include_pad`, PyTorch's default) or the real inputs only.
fn for_each_window(s: &Pool2dSpec, mut f: impl FnMut(usize, usize, &[usize], f64)) {
    let (oh, ow) = (s.out_h(), s.out_w());
    let mut inputs = Vec::new();
    for plane in 0..s.batch * s.channels {
        for oy in 0..oh {
            for ox in 0..ow {
                inputs.clear();
                let mut in_padded = 0usize;
                for ky in 0..s.kernel_h {
                    for kx in 0..s.kernel_w {
                        let iy = (oy * s.stride_h + ky) as isize - s.pad_h as isize;
                        let ix = (ox * s.stride_w + kx) as isize - s.pad_w as isize;
                        // A ceil-mode window may reach past the right/bottom padding.
                        if iy < (s.in_h + s.pad_h) as isize && ix < (s.in_w + s.pad_w) as isize {
                            in_padded += 1;
                        }
                        if iy >= 0 && iy < s.in_h as isize && ix >= 0 && ix < s.in_w as isize {
                            inputs.push(iy as usize * s.in_w + ix as usize);
                        }
                    }
                }
                let divisor = if s.count_include_pad {
                    in_padded
                } else {
                    inputs.len()
                };
                f(plane, oy * ow + ox, &inputs, divisor as f64);
            }
        }
    }
}

fn check(op: &'static str, s: &Pool2dSpec, x: usize, y: usize) -> Result<()> {
    s.validate(op)?;
    BackendError::check_len(op, s.input_len(), x)?;
    BackendError::check_len(op, s.output_len(), y)
}

impl PoolOps for ReferenceBackend {
    fn max_pool2d(&self, x: &RefBuffer, spec: Pool2dSpec) -> Result<(RefBuffer, RefBuffer)> {
        check("max_pool2d", &spec, x.0.len(), spec.output_len())?;
        let (hw, p) = (spec.in_h * spec.in_w, spec.out_h() * spec.out_w());
        let mut y = vec![0.0f32; spec.output_len()];
        let mut idx = vec![0.0f32; spec.output_len()];
        for_each_window(&spec, |plane, o, inputs, _| {
            // The first maximum in row-major window order.
            let mut best = inputs[0];
            for &i in inputs {
                if x.0[plane * hw + i] > x.0[plane * hw + best] {
                    best = i;
                }
            }
            y[plane * p + o] = x.0[plane * hw + best];
            idx[plane * p + o] = best as f32;
        });
        Ok((RefBuffer(y), RefBuffer(idx)))
    }

    fn max_pool2d_backward(
        &self,
        dy: &RefBuffer,
        indices: &RefBuffer,
        spec: Pool2dSpec,
    ) -> Result<RefBuffer> {
        let op = "max_pool2d_backward";
        check(op, &spec, spec.input_len(), dy.0.len())?;
        BackendError::check_len(op, spec.output_len(), indices.0.len())?;
        let (hw, p) = (spec.in_h * spec.in_w, spec.out_h() * spec.out_w());
        let mut acc = vec![0.0f64; spec.input_len()];
        for (o, (&g, &i)) in dy.0.iter().zip(&indices.0).enumerate() {
            let at = index_below(op, "index", i, hw)?;
            acc[(o / p) * hw + at] += f64::from(g);
        }
        Ok(RefBuffer(acc.into_iter().map(round).collect()))
    }

    fn avg_pool2d(&self, x: &RefBuffer, spec: Pool2dSpec) -> Result<RefBuffer> {
        check("avg_pool2d", &spec, x.0.len(), spec.output_len())?;
        let (hw, p) = (spec.in_h * spec.in_w, spec.out_h() * spec.out_w());
        let mut y = vec![0.0f32; spec.output_len()];
        for_each_window(&spec, |plane, o, inputs, area| {
            let s: f64 = inputs.iter().map(|&i| f64::from(x.0[plane * hw + i])).sum();
            y[plane * p + o] = round(s / area);
        });
        Ok(RefBuffer(y))
    }

    fn avg_pool2d_backward(&self, dy: &RefBuffer, spec: Pool2dSpec) -> Result<RefBuffer> {
        check("avg_pool2d_backward", &spec, spec.input_len(), dy.0.len())?;
        let (hw, p) = (spec.in_h * spec.in_w, spec.out_h() * spec.out_w());
        let mut acc = vec![0.0f64; spec.input_len()];
        for_each_window(&spec, |plane, o, inputs, area| {
            for &i in inputs {
                acc[plane * hw + i] += f64::from(dy.0[plane * p + o]) / area;
            }
        });
        Ok(RefBuffer(acc.into_iter().map(round).collect()))
    }
}
