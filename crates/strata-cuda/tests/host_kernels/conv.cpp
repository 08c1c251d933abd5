// conv.cu on the host: the chunked im2col → GEMM → scatter forward, gather → GEMMᵀ → col2im
// input gradient and im2col/gather → GEMM weight gradient of `src/ops/conv.rs`, and the bias
// gradient, against a direct 7-loop convolution, for groups, strides, dilations, asymmetric
// padding and chunkings that leave a short last chunk.
#include "harness.h"
#define float double
#include "conv.cu"
#undef float

struct Spec {
    int n, c, h, w, o, kh, kw, sh, sw, pt, pb, pl, pr, dh, dw, groups;
};

static void check(const Spec& s, int chunk) {
    const int oh = (s.h + s.pt + s.pb - (s.dh * (s.kh - 1) + 1)) / s.sh + 1;
    const int ow = (s.w + s.pl + s.pr - (s.dw * (s.kw - 1) + 1)) / s.sw + 1;
    const int p = oh * ow, cg = s.c / s.groups, og = s.o / s.groups;
    const int kg = cg * s.kh * s.kw, k_all = s.c * s.kh * s.kw;
    std::mt19937 rng(42);
    const V x = random_values(rng, (size_t)s.n * s.c * s.h * s.w);
    const V w = random_values(rng, (size_t)s.o * kg);
    const V bias = random_values(rng, s.o);
    const V dy = random_values(rng, (size_t)s.n * s.o * p);

    V y_ref(dy.size()), dx_ref(x.size(), 0.0), dw_ref(w.size(), 0.0), db_ref(s.o, 0.0);
    for (int n = 0; n < s.n; ++n)
        for (int o = 0; o < s.o; ++o)
            for (int oy = 0; oy < oh; ++oy)
                for (int ox = 0; ox < ow; ++ox) {
                    const int g = o / og;
                    const size_t yi = (((size_t)n * s.o + o) * oh + oy) * ow + ox;
                    R acc = bias[o];
                    db_ref[o] += dy[yi];
                    for (int c = 0; c < cg; ++c)
                        for (int ky = 0; ky < s.kh; ++ky)
                            for (int kx = 0; kx < s.kw; ++kx) {
                                const int iy = oy * s.sh + ky * s.dh - s.pt;
                                const int ix = ox * s.sw + kx * s.dw - s.pl;
                                if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) continue;
                                const size_t xi =
                                    (((size_t)n * s.c + g * cg + c) * s.h + iy) * s.w + ix;
                                const size_t wi = (((size_t)o * cg + c) * s.kh + ky) * s.kw + kx;
                                acc += x[xi] * w[wi];
                                dx_ref[xi] += dy[yi] * w[wi];
                                dw_ref[wi] += dy[yi] * x[xi];
                            }
                    y_ref[yi] = acc;
                }

    const int nb = max(1, min(chunk, s.n));
    V cols((size_t)k_all * nb * p), rows((size_t)s.o * nb * p);
    V y(y_ref.size(), -7.0), dx(x.size(), -7.0), dw(w.size(), -7.0), db(s.o, -7.0);
    for (int n0 = 0; n0 < s.n; n0 += nb) {
        const int b = min(nb, s.n - n0);
        const size_t ld = (size_t)b * p;
        // forward
        conv_im2col(x.data(), cols.data(), (unsigned long long)k_all * ld, n0, b, s.c, s.h, s.w,
                    s.kh, s.kw, s.sh, s.sw, s.pt, s.pl, s.dh, s.dw, oh, ow);
        gemm(og, ld, kg, false, false, s.groups, 0.0, w.data(), kg, og * kg, cols.data(), ld,
             kg * ld, rows.data(), ld, og * ld);
        conv_scatter_output(rows.data(), bias.data(), y.data(), (unsigned long long)s.o * ld, n0, b,
                            s.o, p);
        // input gradient
        conv_gather_grad(dy.data(), rows.data(), (unsigned long long)s.o * ld, n0, b, s.o, p);
        gemm(kg, ld, og, true, false, s.groups, 0.0, w.data(), kg, og * kg, rows.data(), ld,
             og * ld, cols.data(), ld, kg * ld);
        conv_col2im(cols.data(), dx.data(), (unsigned long long)b * s.c * s.h * s.w, n0, b, s.c,
                    s.h, s.w, s.kh, s.kw, s.sh, s.sw, s.pt, s.pl, s.dh, s.dw, oh, ow);
        // weight gradient (rows still hold this chunk's dy)
        conv_im2col(x.data(), cols.data(), (unsigned long long)k_all * ld, n0, b, s.c, s.h, s.w,
                    s.kh, s.kw, s.sh, s.sw, s.pt, s.pl, s.dh, s.dw, oh, ow);
        gemm(og, kg, ld, false, true, s.groups, n0 == 0 ? 0.0 : 1.0, rows.data(), ld, og * ld,
             cols.data(), ld, kg * ld, dw.data(), kg, og * kg);
    }
    conv_bias_backward(dy.data(), db.data(), s.n, s.o, p);
    V filled(y.size(), -7.0), filled_ref(y.size());
    conv_fill_bias(bias.data(), filled.data(), filled.size(), s.o, p);
    for (size_t e = 0; e < filled.size(); ++e) filled_ref[e] = bias[(e / p) % s.o];

    expect_close("conv2d", y, y_ref, 1e-12);
    expect_close("conv2d_backward_input", dx, dx_ref, 1e-12);
    expect_close("conv2d_backward_weight", dw, dw_ref, 1e-12);
    expect_close("conv2d_backward_bias", db, db_ref, 1e-12);
    expect_close("conv_fill_bias", filled, filled_ref, 0.0);
}

int main() {
    //     n  c  h  w  o kh kw sh sw pt pb pl pr dh dw groups
    check({2, 3, 5, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 8);
    check({3, 4, 7, 5, 6, 3, 2, 2, 1, 0, 1, 2, 0, 1, 2, 2}, 2);
    check({5, 2, 6, 6, 2, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 1}, 1);
    check({2, 6, 4, 4, 6, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 3}, 4);
    check({1, 1, 3, 9, 2, 3, 1, 3, 2, 1, 0, 0, 2, 1, 3, 1}, 4);
    check({2, 2, 8, 8, 4, 3, 3, 2, 3, 2, 1, 0, 2, 2, 1, 2}, 3);
    return finish("conv");
}
