// optimizer.cu on the host: each fused update against a plain f64 transcription of the
// torch.optim step (with the constants src/ops/optimizer.rs computes), over three steps so
// that the state buffers are exercised; plus scale and clamp.
#include "shim.h"
#include "optimizer.cu"

static const u64 N = 17;

static std::vector<double> d(const V& v) { return std::vector<double>(v.begin(), v.end()); }

static void sgd(bool momentum, bool wd, bool nesterov) {
    std::mt19937 rng(1);
    V p = random_values(rng, N), g = random_values(rng, N), buf(N, 0.0f);
    std::vector<double> pr = d(p), br(N, 0.0);
    const float lr = 0.1f, mu = momentum ? 0.9f : 0.0f, dampening = 0.2f, decay = wd ? 0.01f : 0.0f;
    const float damp = (float)(1.0 - (double)dampening);
    for (int step = 1; step <= 3; ++step) {
        const int flags = (momentum ? 1 : 0) | (wd ? 2 : 0) | (step == 1 ? 4 : 0) | (nesterov ? 8 : 0);
        optimizer_sgd(p.data(), g.data(), buf.data(), N, lr, mu, damp, decay, flags);
        for (u64 i = 0; i < N; ++i) {
            double gi = g[i] + (wd ? decay * pr[i] : 0.0);
            if (momentum) {
                br[i] = step == 1 ? gi : br[i] * mu + (1.0 - dampening) * gi;
                gi = nesterov ? gi + mu * br[i] : br[i];
            }
            pr[i] -= lr * gi;
        }
    }
    char what[64];
    std::snprintf(what, sizeof what, "sgd momentum %d wd %d nesterov %d", momentum, wd, nesterov);
    expect_close(what, p, pr, 1e-5);
}

static void adam(bool adamw) {
    std::mt19937 rng(2);
    V p = random_values(rng, N), g = random_values(rng, N), m(N, 0.0f), v(N, 0.0f);
    std::vector<double> pr = d(p), mr(N, 0.0), vr(N, 0.0);
    const float lr = 0.01f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, wd = 0.05f;
    for (int t = 1; t <= 3; ++t) {
        const float shrink = adamw ? (float)(1.0 - (double)lr * wd) : 1.0f;
        const int l2 = adamw ? 0 : 1;
        const double c1 = 1.0 - std::pow((double)b1, t), c2 = 1.0 - std::pow((double)b2, t);
        optimizer_adam(p.data(), g.data(), m.data(), v.data(), N, b2, (float)(1.0 - (double)b1),
                       (float)(1.0 - (double)b2), eps, wd, l2, shrink, (float)(-(double)lr / c1),
                       (float)std::sqrt(c2));
        for (u64 i = 0; i < N; ++i) {
            const double gi = g[i] + (adamw ? 0.0 : wd * pr[i]);
            if (adamw) pr[i] *= 1.0 - lr * wd;
            mr[i] = b1 * mr[i] + (1.0 - b1) * gi;
            vr[i] = b2 * vr[i] + (1.0 - b2) * gi * gi;
            pr[i] -= lr / c1 * mr[i] / (std::sqrt(vr[i]) / std::sqrt(c2) + eps);
        }
    }
    expect_close(adamw ? "adamw" : "adam", p, pr, 1e-5);
    expect_close(adamw ? "adamw m" : "adam m", m, mr, 1e-5);
    expect_close(adamw ? "adamw v" : "adam v", v, vr, 1e-5);
}

static void rmsprop(bool momentum) {
    std::mt19937 rng(3);
    V p = random_values(rng, N), g = random_values(rng, N), sq(N, 0.0f), buf(N, 0.0f);
    std::vector<double> pr = d(p), sr(N, 0.0), br(N, 0.0);
    const float lr = 0.01f, alpha = 0.99f, eps = 1e-8f, wd = 0.02f, mu = momentum ? 0.5f : 0.0f;
    for (int t = 1; t <= 3; ++t) {
        optimizer_rmsprop(p.data(), g.data(), sq.data(), buf.data(), N, lr, alpha,
                          (float)(1.0 - (double)alpha), eps, wd, mu, 1, momentum ? 1 : 0);
        for (u64 i = 0; i < N; ++i) {
            const double gi = g[i] + wd * pr[i];
            sr[i] = alpha * sr[i] + (1.0 - alpha) * gi * gi;
            const double avg = std::sqrt(sr[i]) + eps;
            if (momentum) {
                br[i] = br[i] * mu + gi / avg;
                pr[i] -= lr * br[i];
            } else {
                pr[i] -= lr * gi / avg;
            }
        }
    }
    expect_close(momentum ? "rmsprop momentum" : "rmsprop", p, pr, 1e-5);
}

static void adagrad() {
    std::mt19937 rng(4);
    V p = random_values(rng, N), g = random_values(rng, N), sum(N, 0.0f);
    std::vector<double> pr = d(p), sr(N, 0.0);
    const float lr = 0.1f, lr_decay = 0.01f, eps = 1e-10f, wd = 0.1f;
    for (int t = 1; t <= 3; ++t) {
        const double clr = lr / (1.0 + (t - 1) * (double)lr_decay);
        optimizer_adagrad(p.data(), g.data(), sum.data(), N, (float)(-clr), eps, wd, 1);
        for (u64 i = 0; i < N; ++i) {
            const double gi = g[i] + wd * pr[i];
            sr[i] += gi * gi;
            pr[i] -= clr * gi / (std::sqrt(sr[i]) + eps);
        }
    }
    expect_close("adagrad", p, pr, 1e-5);
}

int main() {
    for (int mask = 0; mask < 8; ++mask) sgd(mask & 1, mask & 2, mask & 4);
    adam(false);
    adam(true);
    rmsprop(false);
    rmsprop(true);
    adagrad();
    V x = {-3.0f, -0.5f, 0.0f, 2.0f, NAN};
    optimizer_scale(x.data(), 5, 2.0f);
    expect_close("scale", x, {-6.0, -1.0, 0.0, 4.0, NAN}, 0.0);
    optimizer_clamp(x.data(), 5, 1.5f);
    expect_close("clamp", x, {-1.5, -1.0, 0.0, 1.5, NAN}, 0.0);
    return finish("optimizer");
}
