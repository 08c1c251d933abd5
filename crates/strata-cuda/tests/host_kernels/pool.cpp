// pool.cu on the host: max pooling (values, first-maximum indices, NaN handling) and average
// pooling (both divisors), forward and the gather-form backward, against plain loops over
// clipped windows, for overlapping windows, padding, strides, ties and ceil mode.
#include "harness.h"
#define float double
#include "pool.cu"
#undef float

// PyTorch's output length: floor, or ceil unless the last window starts in the right padding.
static int out_len(int len, int pad, int kernel, int stride, bool ceil) {
    const int span = len + 2 * pad - kernel;
    int out = (ceil ? (span + stride - 1) / stride : span / stride) + 1;
    if (ceil && (out - 1) * stride >= len + pad) --out;
    return out;
}

static void check(int planes, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw,
                  bool ties, bool ceil = false, bool count_pad = true) {
    const int oh = out_len(h, ph, kh, sh, ceil), ow = out_len(w, pw, kw, sw, ceil), p = oh * ow;
    std::mt19937 rng(7);
    V x = random_values(rng, (size_t)planes * h * w);
    // Whole numbers in -2..1 make many equal maxima, so the first-maximum rule is exercised.
    if (ties)
        for (auto& v : x) v = std::floor(2.0 * v);
    const V dy = random_values(rng, (size_t)planes * p);
    V max_ref(dy.size()), idx_ref(dy.size()), avg_ref(dy.size());
    V dmax_ref(x.size(), 0.0), davg_ref(x.size(), 0.0);
    for (int pl = 0; pl < planes; ++pl)
        for (int oy = 0; oy < oh; ++oy)
            for (int ox = 0; ox < ow; ++ox) {
                const int y0 = max(oy * sh - ph, 0), y1 = min(oy * sh - ph + kh, h);
                const int x0 = max(ox * sw - pw, 0), x1 = min(ox * sw - pw + kw, w);
                // Window positions inside the padded input, or real inputs only.
                int padded = 0;
                for (int ky = 0; ky < kh; ++ky)
                    for (int kx = 0; kx < kw; ++kx)
                        padded += oy * sh - ph + ky < h + ph && ox * sw - pw + kx < w + pw;
                const R count = count_pad ? padded : (y1 - y0) * (x1 - x0);
                const size_t o = (size_t)pl * p + oy * ow + ox;
                const R* src = x.data() + (size_t)pl * h * w;
                R best = -INFINITY, sum = 0.0;
                int at = y0 * w + x0;
                for (int r = y0; r < y1; ++r)
                    for (int c = x0; c < x1; ++c) {
                        sum += src[r * w + c];
                        if (src[r * w + c] > best) {
                            best = src[r * w + c];
                            at = r * w + c;
                        }
                    }
                max_ref[o] = best;
                idx_ref[o] = at;
                avg_ref[o] = sum / count;
                dmax_ref[(size_t)pl * h * w + at] += dy[o];
                for (int r = y0; r < y1; ++r)
                    for (int c = x0; c < x1; ++c)
                        davg_ref[(size_t)pl * h * w + r * w + c] += dy[o] / count;
            }
    V y(dy.size(), -7.0), idx(dy.size(), -7.0), avg(dy.size(), -7.0);
    V dmax(x.size(), -7.0), davg(x.size(), -7.0);
    pool_max_forward(x.data(), y.data(), idx.data(), y.size(), h, w, oh, ow, kh, kw, sh, sw, ph,
                     pw);
    pool_max_backward(dy.data(), idx.data(), dmax.data(), x.size(), h, w, oh, ow, kh, kw, sh, sw,
                      ph, pw);
    pool_avg_forward(x.data(), avg.data(), avg.size(), h, w, oh, ow, kh, kw, sh, sw, ph, pw,
                     count_pad);
    pool_avg_backward(dy.data(), davg.data(), x.size(), h, w, oh, ow, kh, kw, sh, sw, ph, pw,
                      count_pad);
    expect_close("max_pool2d values", y, max_ref, 0.0);
    expect_close("max_pool2d indices", idx, idx_ref, 0.0);
    expect_close("max_pool2d_backward", dmax, dmax_ref, 1e-12);
    expect_close("avg_pool2d", avg, avg_ref, 1e-12);
    expect_close("avg_pool2d_backward", davg, davg_ref, 1e-12);
}

int main() {
    //    planes h  w kh kw sh sw ph pw ties
    check(3, 4, 4, 2, 2, 2, 2, 0, 0, false);
    check(2, 5, 7, 3, 3, 2, 2, 1, 1, false);
    check(2, 6, 5, 3, 2, 1, 1, 1, 0, true);
    check(4, 7, 7, 3, 3, 3, 2, 1, 1, true);
    check(1, 1, 9, 1, 4, 1, 3, 0, 2, false);
    check(2, 5, 5, 5, 5, 1, 1, 2, 2, true);
    check(1, 9, 9, 2, 3, 1, 2, 1, 1, true);
    //    planes h  w kh kw sh sw ph pw ties   ceil   count_include_pad
    check(2, 5, 7, 3, 3, 2, 2, 1, 1, false, false, false);
    check(2, 5, 5, 2, 2, 2, 2, 0, 0, false, true, true);
    check(3, 4, 6, 3, 3, 2, 2, 1, 1, true, true, true);
    check(3, 4, 6, 3, 3, 2, 2, 1, 1, false, true, false);
    check(1, 8, 9, 3, 2, 3, 2, 1, 0, false, true, false);
    // A NaN beats every number and the first NaN in row-major order is the one reported.
    V x = {1.0, NAN, NAN, 4.0}, y(1), idx(1);
    pool_max_forward(x.data(), y.data(), idx.data(), 1, 2, 2, 1, 1, 2, 2, 2, 2, 0, 0);
    if (!isnan(y[0]) || idx[0] != 1.0) {
        std::printf("FAIL max_pool2d NaN: value %g index %g\n", y[0], idx[0]);
        ++failures;
    }
    return finish("pool");
}
