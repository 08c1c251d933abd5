//! Reference convolution: the seven nested loops of the definition, accumulated in `f64`.
//! Both backward passes are the same loops with the roles of the operands exchanged.

use strata_backend::{BackendError, Conv2dSpec, ConvOps, Result};

use super::{RefBuffer, ReferenceBackend, round};

/// Calls `f(x_index, w_index, y_index)` for every term `x · w` that contributes to an output,
/// skipping taps that fall on padding.
fn for_each_term(s: &Conv2dSpec, mut f: impl FnMut(usize, usize, usize)) {
    let (oh, ow) = (s.out_h(), s.out_w());
    let (cg, og) = (s.group_in(), s.group_out());
    for n in 0..s.batch {
        for o in 0..s.out_channels {
            let g = o / og;
            for oy in 0..oh {
                for ox in 0..ow {
                    let y_at = ((n * s.out_channels + o) * oh + oy) * ow + ox;
                    for c in 0..cg {
                        let ci = g * cg + c;
                        for ky in 0..s.kernel_h {
                            let iy =
                                (oy * s.stride_h + ky * s.dilation_h) as isize - s.pad_top as isize;
                            if iy < 0 || iy >= s.in_h as isize {
                                continue;
                            }
                            for kx in 0..s.kernel_w {
                                let ix = (ox * s.stride_w + kx * s.dilation_w) as isize
                                    - s.pad_left as isize;
                                if ix < 0 || ix >= s.in_w as isize {
                                    continue;
                                }
                                let x_at = ((n * s.in_channels + ci) * s.in_h + iy as usize)
                                    * s.in_w
                                    + ix as usize;
                                let w_at = ((o * cg + c) * s.kernel_h + ky) * s.kernel_w + kx;
                                f(x_at, w_at, y_at);
                            }
                        }
                    }
                }
            }
        }
    }
}

fn check(op: &'static str, s: &Conv2dSpec, x: usize, w: usize, y: usize) -> Result<()> {
    s.validate(op)?;
    BackendError::check_len(op, s.input_len(), x)?;
    BackendError::check_len(op, s.weight_len(), w)?;
    BackendError::check_len(op, s.output_len(), y)
}

impl ConvOps for ReferenceBackend {
    fn conv2d(
        &self,
        x: &RefBuffer,
        w: &RefBuffer,
        bias: Option<&RefBuffer>,
        spec: Conv2dSpec,
    ) -> Result<RefBuffer> {
        check("conv2d", &spec, x.0.len(), w.0.len(), spec.output_len())?;
        if let Some(b) = bias {
            BackendError::check_len("conv2d", spec.out_channels, b.0.len())?;
        }
        let p = spec.out_h() * spec.out_w();
        let mut acc: Vec<f64> = (0..spec.output_len())
            .map(|i| bias.map_or(0.0, |b| f64::from(b.0[(i / p.max(1)) % spec.out_channels])))
            .collect();
        for_each_term(&spec, |xi, wi, yi| {
            acc[yi] += f64::from(x.0[xi]) * f64::from(w.0[wi]);
        });
        Ok(RefBuffer(acc.into_iter().map(round).collect()))
    }

    fn conv2d_backward_input(
        &self,
        dy: &RefBuffer,
        w: &RefBuffer,
        spec: Conv2dSpec,
    ) -> Result<RefBuffer> {
        check(
            "conv2d_backward_input",
            &spec,
            spec.input_len(),
            w.0.len(),
            dy.0.len(),
        )?;
        let mut acc = vec![0.0f64; spec.input_len()];
        for_each_term(&spec, |xi, wi, yi| {
            acc[xi] += f64::from(dy.0[yi]) * f64::from(w.0[wi]);
        });
        Ok(RefBuffer(acc.into_iter().map(round).collect()))
    }

    fn conv2d_backward_weight(
        &self,
        x: &RefBuffer,
        dy: &RefBuffer,
        spec: Conv2dSpec,
    ) -> Result<RefBuffer> {
        check(
            "conv2d_backward_weight",
            &spec,
            x.0.len(),
            spec.weight_len(),
            dy.0.len(),
        )?;
        let mut acc = vec![0.0f64; spec.weight_len()];
        for_each_term(&spec, |xi, wi, yi| {
            acc[wi] += f64::from(dy.0[yi]) * f64::from(x.0[xi]);
        });
        Ok(RefBuffer(acc.into_iter().map(round).collect()))
    }

    fn conv2d_backward_bias(&self, dy: &RefBuffer, spec: Conv2dSpec) -> Result<RefBuffer> {
        BackendError::check_len("conv2d_backward_bias", spec.output_len(), dy.0.len())?;
        let p = spec.out_h() * spec.out_w();
        let mut acc = vec![0.0f64; spec.out_channels];
        for (i, &v) in dy.0.iter().enumerate() {
            acc[(i / p) % spec.out_channels] += f64::from(v);
        }
        Ok(RefBuffer(acc.into_iter().map(round).collect()))
    }
}
