//! Matrix products: `matmul` (2-D and batched 3-D, with weight broadcasting) and the fused
//! dense-layer product `linear`.

use strata_backend::{LinalgOps, MatmulSpec, Shape};

use crate::autograd::record;
use crate::storage::{map_buffer, map_buffers2, map_buffers3};
use crate::{Error, Result, Tensor};

/// `op(a) · op(b)` as the spec says, not recorded.
fn gemm(a: &Tensor, b: &Tensor, spec: MatmulSpec, out: Vec<usize>) -> Result<Tensor> {
    let storage = map_buffers2!("matmul", &*a.read(), &*b.read(), |be, x, y| be
        .matmul(x, y, spec));
    Ok(Tensor::from_storage(storage, Shape::new(out), None))
}

/// A `MatmulSpec` from its fields in order (positional, to keep the backward rules readable).
#[allow(clippy::too_many_arguments)]
fn spec(
    batch: usize,
    m: usize,
    n: usize,
    k: usize,
    ta: bool,
    tb: bool,
    sa: usize,
    sb: usize,
) -> MatmulSpec {
    MatmulSpec {
        batch,
        m,
        n,
        k,
        trans_a: ta,
        trans_b: tb,
        stride_a: sa,
        stride_b: sb,
    }
}

impl Tensor {
    /// Matrix product. Shapes: `[m, k] · [k, n]`, batched `[b, m, k] · [b, k, n]`, or a batch
    /// against a shared matrix (`[b, m, k] · [k, n]`, `[m, k] · [b, k, n]`).
    pub fn matmul(&self, rhs: &Tensor) -> Result<Tensor> {
        let mismatch = || {
            Error::shape(
                "matmul",
                format!(
                    "lhs is {} but rhs is {}; inner dimensions {} and {} differ",
                    self.shape(),
                    rhs.shape(),
                    self.dims().last().copied().unwrap_or(0),
                    rhs.dims()
                        .get(rhs.rank().wrapping_sub(2))
                        .copied()
                        .unwrap_or(0)
                ),
            )
        };
        let (ld, rd) = (self.dims(), rhs.dims());
        match (ld.len(), rd.len()) {
            (2, 2) | (3, 2) => {
                // A batch against a shared matrix is one GEMM over the flattened rows.
                let k = ld[ld.len() - 1];
                let m: usize = ld[..ld.len() - 1].iter().product();
                let (k2, n) = (rd[0], rd[1]);
                if k != k2 {
                    return Err(mismatch());
                }
                let mut out = ld[..ld.len() - 1].to_vec();
                out.push(n);
                let y = gemm(
                    self,
                    rhs,
                    spec(1, m, n, k, false, false, m * k, k * n),
                    out.clone(),
                )?;
                let node = record("matmul", &[self, rhs], || {
                    move |g: &Tensor, inp: &[Tensor]| {
                        let (a, b) = (&inp[0], &inp[1]);
                        let da = if a.requires_grad() {
                            Some(gemm(
                                g,
                                b,
                                spec(1, m, k, n, false, true, m * n, k * n),
                                a.dims().to_vec(),
                            )?)
                        } else {
                            None
                        };
                        let db = if b.requires_grad() {
                            Some(gemm(
                                a,
                                g,
                                spec(1, k, n, m, true, false, m * k, m * n),
                                b.dims().to_vec(),
                            )?)
                        } else {
                            None
                        };
                        Ok(vec![da, db])
                    }
                });
                Ok(attach(y, node))
            }
            (3, 3) | (2, 3) => {
                let (m, k) = (ld[ld.len() - 2], ld[ld.len() - 1]);
                let (bb, k2, n) = (rd[0], rd[1], rd[2]);
                let ba = if ld.len() == 3 { ld[0] } else { bb };
                if k != k2 || ba != bb {
                    return Err(if k != k2 {
                        mismatch()
                    } else {
                        Error::shape(
                            "matmul",
                            format!(
                                "batch sizes differ: lhs is {} but rhs is {}",
                                self.shape(),
                                rhs.shape()
                            ),
                        )
                    });
                }
                let sa = if ld.len() == 3 { m * k } else { 0 };
                let y = gemm(
                    self,
                    rhs,
                    spec(bb, m, n, k, false, false, sa, k * n),
                    vec![bb, m, n],
                )?;
                let node = record("matmul", &[self, rhs], || {
                    move |g: &Tensor, inp: &[Tensor]| {
                        let (a, b) = (&inp[0], &inp[1]);
                        let da = if a.requires_grad() {
                            let d = gemm(
                                g,
                                b,
                                spec(bb, m, k, n, false, true, m * n, k * n),
                                vec![bb, m, k],
                            )?;
                            Some(if sa == 0 { d.sum(&[0])? } else { d })
                        } else {
                            None
                        };
                        let db = if b.requires_grad() {
                            Some(gemm(
                                a,
                                g,
                                spec(bb, k, n, m, true, false, sa, m * n),
                                vec![bb, k, n],
                            )?)
                        } else {
                            None
                        };
                        Ok(vec![da, db])
                    }
                });
                Ok(attach(y, node))
            }
            _ => Err(Error::shape(
                "matmul",
                format!(
                    "supports 2-D and 3-D operands; got {} and {}",
                    self.shape(),
                    rhs.shape()
                ),
            )),
        }
    }

    /// A dense layer's product: `self · weightᵀ + bias`, with `weight` of shape
    /// `[out, in]` (PyTorch's layout) and `self` of shape `[..., in]`. One GEMM, the bias
    /// folded into its output; no transpose is materialized.
    pub fn linear(&self, weight: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
        if weight.rank() != 2 || self.rank() == 0 {
            return Err(Error::shape(
                "linear",
                format!(
                    "weight must be [out, in] and input [..., in]; got input {} and weight {}",
                    self.shape(),
                    weight.shape()
                ),
            ));
        }
        let (n_out, n_in) = (weight.dims()[0], weight.dims()[1]);
        let k = self.dims()[self.rank() - 1];
        if k != n_in {
            return Err(Error::shape(
                "linear",
                format!(
                    "input is {} but weight is {} (expects {n_in} input features, got {k})",
                    self.shape(),
                    weight.shape()
                ),
            ));
        }
        if let Some(b) = bias
            && b.dims() != [n_out]
        {
            return Err(Error::shape(
                "linear",
                format!("bias is {} but the layer has {n_out} outputs", b.shape()),
            ));
        }
        let m: usize = self.dims()[..self.rank() - 1].iter().product();
        let mut out = self.dims()[..self.rank() - 1].to_vec();
        out.push(n_out);
        let fwd = spec(1, m, n_out, k, false, true, m * k, k * n_out);
        let storage = match bias {
            Some(b) => map_buffers3!(
                "linear",
                &*self.read(),
                &*weight.read(),
                &*b.read(),
                |be, x, w, bb| be.matmul_bias(x, w, bb, fwd)
            ),
            None => map_buffers2!("linear", &*self.read(), &*weight.read(), |be, x, w| be
                .matmul(x, w, fwd)),
        };
        let mut inputs = vec![self, weight];
        if let Some(b) = bias {
            inputs.push(b);
        }
        let node = record("linear", &inputs, || {
            move |g: &Tensor, inp: &[Tensor]| {
                let (x, w) = (&inp[0], &inp[1]);
                let dx = if x.requires_grad() {
                    Some(gemm(
                        g,
                        w,
                        spec(1, m, k, n_out, false, false, m * n_out, n_out * k),
                        x.dims().to_vec(),
                    )?)
                } else {
                    None
                };
                let dw = if w.requires_grad() {
                    Some(gemm(
                        g,
                        x,
                        spec(1, n_out, k, m, true, false, m * n_out, m * k),
                        vec![n_out, k],
                    )?)
                } else {
                    None
                };
                let mut grads = vec![dx, dw];
                if let Some(b) = inp.get(2) {
                    grads.push(if b.requires_grad() {
                        let storage = map_buffer!(&*g.read(), |be, gg| be.sum_rows(gg, m, n_out));
                        Some(Tensor::from_storage(storage, Shape::new(vec![n_out]), None))
                    } else {
                        None
                    });
                }
                Ok(grads)
            }
        });
        Ok(Tensor::from_storage(storage, Shape::new(out), node))
    }
}

/// Gives an unrecorded result its node.
fn attach(y: Tensor, node: Option<crate::autograd::Node>) -> Tensor {
    match node {
        None => y,
        Some(n) => Tensor::from_parts_shared(&y, n),
    }
}
