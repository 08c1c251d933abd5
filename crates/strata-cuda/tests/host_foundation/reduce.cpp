// reduce.cu on the host: sum / mean / max / min over several axis sets of a [3, 4, 5] tensor
// (the kept and reduced walks built as src/ops/reduce.rs builds them, unmerged), argmax along
// each axis (first maximum, NaN ignored), and the two-pass sum of squares.
#include "shim.h"
#include "reduce.cu"

static const u64 D0 = 3, D1 = 4, D2 = 5;

static void reduce_axes_sets() {
    std::mt19937 rng(11);
    const V x = random_values(rng, D0 * D1 * D2);
    const u64 strides[3] = {D1 * D2, D2, 1}, dims[3] = {D0, D1, D2};
    // Axis sets as bit masks: {1}, {0, 2}, {2}, {0, 1, 2}, {0}.
    for (int mask : {2, 5, 4, 7, 1}) {
        std::vector<u64> kd, ks, rd, rs;
        for (int i = 0; i < 3; ++i) {
            if (mask & (1 << i)) {
                rd.push_back(dims[i]);
                rs.push_back(strides[i]);
            } else {
                kd.push_back(dims[i]);
                ks.push_back(strides[i]);
            }
        }
        u64 outputs = 1, count = 1;
        for (u64 d : kd) outputs *= d;
        for (u64 d : rd) count *= d;
        const Strided kept = walk(kd, ks, ks), red = walk(rd, rs, rs);
        for (int op = R_SUM; op <= R_MIN; ++op) {
            std::vector<double> want(outputs, op == R_MAX ? -INFINITY : (op == R_MIN ? INFINITY : 0.0));
            for (u64 a = 0; a < D0; ++a)
                for (u64 b = 0; b < D1; ++b)
                    for (u64 c = 0; c < D2; ++c) {
                        const u64 idx[3] = {a, b, c};
                        u64 o = 0;
                        for (int i = 0; i < 3; ++i)
                            if (!(mask & (1 << i))) o = o * dims[i] + idx[i];
                        const double v = x[a * D1 * D2 + b * D2 + c];
                        double& w = want[o];
                        w = op == R_MAX ? std::fmax(w, v) : (op == R_MIN ? std::fmin(w, v) : w + v);
                    }
            if (op == R_MEAN)
                for (auto& w : want) w /= (double)count;
            V out(outputs, -7.0f);
            reduce_axes(out.data(), x.data(), outputs, count, op, 1.0f / (float)count, kept, red);
            char what[64];
            std::snprintf(what, sizeof what, "reduce op %d axes mask %d", op, mask);
            expect_close(what, out, want, 1e-5);
        }
    }
}

static void argmax_each_axis() {
    V x(D0 * D1 * D2);
    std::mt19937 rng(2);
    x = random_values(rng, x.size());
    x[7] = x[12] = 9.0f;  // a tie along axis 1 at (0, 1, 2) and (0, 2, 2): the first wins
    x[0] = NAN;           // NaN is ignored
    const u64 dims[3] = {D0, D1, D2};
    for (int axis = 0; axis < 3; ++axis) {
        u64 outer = 1, inner = 1;
        for (int i = 0; i < axis; ++i) outer *= dims[i];
        for (int i = axis + 1; i < 3; ++i) inner *= dims[i];
        const u64 n = dims[axis];
        std::vector<double> want(outer * inner);
        for (u64 o = 0; o < outer; ++o)
            for (u64 in = 0; in < inner; ++in) {
                double best = -INFINITY;
                u64 at = 0;
                for (u64 r = 0; r < n; ++r) {
                    const float v = x[(o * n + r) * inner + in];
                    if (!std::isnan(v) && v > best) {
                        best = v;
                        at = r;
                    }
                }
                want[o * inner + in] = (double)at;
            }
        V out(outer * inner, -7.0f);
        reduce_argmax(out.data(), x.data(), outer * inner, n, inner);
        char what[64];
        std::snprintf(what, sizeof what, "argmax axis %d", axis);
        expect_close(what, out, want, 0.0);
    }
}

static void sum_squares_two_passes() {
    std::mt19937 rng(4);
    const V x = random_values(rng, 1000);
    double want = 0.0;
    for (float v : x) want += (double)v * v;
    V partial(1, -7.0f), out(1, -7.0f);
    reduce_sum_squares(partial.data(), x.data(), x.size(), 1);
    reduce_sum_squares(out.data(), partial.data(), 1, 0);
    expect_close("sum_squares", out, {want}, 1e-5);
}

int main() {
    reduce_axes_sets();
    argmax_each_axis();
    sum_squares_two_passes();
    return finish("reduce");
}
