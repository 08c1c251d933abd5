// norm.cu on the host: per-channel mean and biased variance, the channel affine map and its
// backward sums, against plain loops, including a single channel, spatial 1 and empty inputs.
#include "harness.h"
#define float double
#include "norm.cu"
#undef float

static void check(int batch, int channels, int spatial) {
    std::mt19937 rng(3);
    V x = random_values(rng, (size_t)batch * channels * spatial);
    for (auto& v : x) v += 3.0;  // an offset mean, so a one-pass variance would lose digits
    const V dy = random_values(rng, x.size());
    const V scale = random_values(rng, channels), shift = random_values(rng, channels);
    const R count = max(1, batch * spatial);
    V mean_ref(channels, 0.0), var_ref(channels, 0.0), y_ref(x.size());
    V dscale_ref(channels, 0.0), dshift_ref(channels, 0.0);
    for (int pass = 0; pass < 2; ++pass)
        for (int n = 0; n < batch; ++n)
            for (int c = 0; c < channels; ++c)
                for (int s = 0; s < spatial; ++s) {
                    const size_t e = ((size_t)n * channels + c) * spatial + s;
                    if (pass == 0) {
                        mean_ref[c] += x[e] / count;
                        y_ref[e] = x[e] * scale[c] + shift[c];
                        dscale_ref[c] += dy[e] * x[e];
                        dshift_ref[c] += dy[e];
                    } else {
                        var_ref[c] += (x[e] - mean_ref[c]) * (x[e] - mean_ref[c]) / count;
                    }
                }
    V mean(channels, -7.0), var(channels, -7.0), y(x.size(), -7.0);
    V dscale(channels, -7.0), dshift(channels, -7.0);
    norm_channel_stats(x.data(), mean.data(), var.data(), batch, channels, spatial);
    norm_channel_affine(x.data(), scale.data(), shift.data(), y.data(), y.size(), channels,
                        spatial);
    norm_channel_affine_backward(dy.data(), x.data(), dscale.data(), dshift.data(), batch, channels,
                                 spatial);
    expect_close("channel_stats mean", mean, mean_ref, 1e-12);
    expect_close("channel_stats var", var, var_ref, 1e-12);
    expect_close("channel_affine", y, y_ref, 1e-12);
    expect_close("channel_affine_backward dscale", dscale, dscale_ref, 1e-12);
    expect_close("channel_affine_backward dshift", dshift, dshift_ref, 1e-12);
}

int main() {
    check(2, 3, 5);
    check(4, 7, 1);
    check(1, 1, 9);
    check(0, 3, 4);
    check(3, 2, 0);
    return finish("norm");
}
