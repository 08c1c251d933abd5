// softmax.cu on the host: softmax and log-softmax with their backward passes, and the fused
// cross-entropy with label smoothing and its backward pass, against f64 formulas, with the
// constants computed as src/ops/softmax.rs computes them. Large logits check the max shift.
#include "shim.h"
#include "softmax.cu"

static const u64 ROWS = 4, COLS = 7;

int main() {
    std::mt19937 rng(8);
    V x = random_values(rng, ROWS * COLS, -3.0f, 3.0f);
    for (u64 c = 0; c < COLS; ++c) x[COLS + c] += 80.0f;  // exp would overflow without the shift
    const V dy = random_values(rng, ROWS * COLS);
    const V labels = {0.0f, 6.0f, 3.0f, 1.0f};
    const V dloss = {1.0f, 0.5f, -2.0f, 0.25f};
    const float eps = 0.1f;

    std::vector<double> p(ROWS * COLS), lp(ROWS * COLS), loss(ROWS), dsm(ROWS * COLS), dlsm(ROWS * COLS),
        dxent(ROWS * COLS);
    for (u64 r = 0; r < ROWS; ++r) {
        double m = -INFINITY, s = 0.0;
        for (u64 c = 0; c < COLS; ++c) m = std::fmax(m, x[r * COLS + c]);
        for (u64 c = 0; c < COLS; ++c) s += std::exp(x[r * COLS + c] - m);
        double dot = 0.0, total = 0.0;
        for (u64 c = 0; c < COLS; ++c) {
            const u64 i = r * COLS + c;
            p[i] = std::exp(x[i] - m) / s;
            lp[i] = x[i] - m - std::log(s);
            dot += dy[i] * p[i];
            total += dy[i];
        }
        loss[r] = 0.0;
        for (u64 c = 0; c < COLS; ++c) {
            const u64 i = r * COLS + c;
            dsm[i] = p[i] * (dy[i] - dot);
            dlsm[i] = dy[i] - std::exp(lp[i]) * total;
            const double target = (c == (u64)labels[r] ? 1.0 - eps : 0.0) + eps / COLS;
            loss[r] -= target * lp[i];
            dxent[i] = dloss[r] * (p[i] - target);
        }
    }
    V y(ROWS * COLS, -7.0f), ly(ROWS * COLS, -7.0f), dx(ROWS * COLS, -7.0f), dlx(ROWS * COLS, -7.0f);
    softmax_forward(y.data(), x.data(), ROWS, COLS, 0);
    softmax_forward(ly.data(), x.data(), ROWS, COLS, 1);
    expect_close("softmax", y, p, 1e-6);
    expect_close("log_softmax", ly, lp, 1e-5);
    std::vector<double> yd(y.begin(), y.end()), lyd(ly.begin(), ly.end());
    softmax_backward(dx.data(), y.data(), dy.data(), ROWS, COLS, 0);
    softmax_backward(dlx.data(), ly.data(), dy.data(), ROWS, COLS, 1);
    expect_close("softmax_backward", dx, dsm, 1e-5);
    expect_close("log_softmax_backward", dlx, dlsm, 1e-5);

    const float keep = 1.0f - eps, off_target = eps / (float)COLS, on_target = 1.0f - eps + off_target;
    V l(ROWS, -7.0f), probs(ROWS * COLS, -7.0f), dl(ROWS * COLS, -7.0f);
    softmax_cross_entropy(l.data(), probs.data(), x.data(), labels.data(), ROWS, COLS, keep, off_target);
    expect_close("cross_entropy loss", l, loss, 1e-5);
    expect_close("cross_entropy probs", probs, p, 1e-6);
    softmax_cross_entropy_backward(dl.data(), probs.data(), labels.data(), dloss.data(), ROWS, COLS, on_target,
                                   off_target);
    expect_close("cross_entropy_backward", dl, dxent, 1e-6);

    // A label outside 0..cols never reads out of bounds: its loss is NaN.
    const V bad = {0.0f, 7.0f, -1.0f, 2.5f};
    softmax_cross_entropy(l.data(), probs.data(), x.data(), bad.data(), ROWS, COLS, keep, off_target);
    for (u64 r = 1; r < ROWS; ++r)
        if (!std::isnan(l[r])) {
            std::printf("FAIL cross_entropy: bad label in row %llu gave loss %g, expected NaN\n",
                        (unsigned long long)r, l[r]);
            ++failures;
        }
    return finish("softmax");
}
