// elementwise.cu on the host: every unary op and derivative against the f64 definitions of
// `UnaryOp::eval_f64` / `derivative_f64`, NaN behaviour, binary ops and comparisons with
// broadcasting strides against a naive N-d loop, scalar ops and select.
#include "shim.h"
#include "elementwise.cu"

static double erf_ref(double x) { return std::erf(x); }

static double unary_ref(int op, double x, double a) {
    switch (op) {
        case U_NEG: return -x;
        case U_ABS: return std::fabs(x);
        case U_EXP: return std::exp(x);
        case U_LOG: return std::log(x);
        case U_LOG1P: return std::log1p(x);
        case U_SQRT: return std::sqrt(x);
        case U_SQUARE: return x * x;
        case U_RECIP: return 1.0 / x;
        case U_RELU: return x < 0.0 ? 0.0 : x;
        case U_LEAKY_RELU: return x > 0.0 ? x : a * x;
        case U_ELU: return x > 0.0 ? x : a * std::expm1(x);
        case U_GELU: return 0.5 * x * (1.0 + erf_ref(x / std::sqrt(2.0)));
        case U_SIGMOID: return 1.0 / (1.0 + std::exp(-x));
        case U_TANH: return std::tanh(x);
        case U_SOFTPLUS: return std::fmax(x, 0.0) + std::log1p(std::exp(-std::fabs(x)));
        case U_SIGN: return x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : 0.0);
    }
    return NAN;
}

static double derivative_ref(int op, double x, double a) {
    const double pi = 3.14159265358979323846;
    switch (op) {
        case U_NEG: return -1.0;
        case U_ABS: return x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : 0.0);
        case U_EXP: return std::exp(x);
        case U_LOG: return 1.0 / x;
        case U_LOG1P: return 1.0 / (1.0 + x);
        case U_SQRT: return 0.5 / std::sqrt(x);
        case U_SQUARE: return 2.0 * x;
        case U_RECIP: return -1.0 / (x * x);
        case U_RELU: return x > 0.0 ? 1.0 : 0.0;
        case U_LEAKY_RELU: return x > 0.0 ? 1.0 : a;
        case U_ELU: return x > 0.0 ? 1.0 : a * std::exp(x);
        case U_GELU:
            return 0.5 * (1.0 + erf_ref(x / std::sqrt(2.0))) + x * std::exp(-0.5 * x * x) / std::sqrt(2.0 * pi);
        case U_SIGMOID: {
            const double s = 1.0 / (1.0 + std::exp(-x));
            return s * (1.0 - s);
        }
        case U_TANH: return 1.0 - std::tanh(x) * std::tanh(x);
        case U_SOFTPLUS: return 1.0 / (1.0 + std::exp(-x));
        case U_SIGN: return 0.0;
    }
    return NAN;
}

static void unary_ops() {
    V x;
    for (int i = -40; i <= 40; ++i) x.push_back(i * 0.1f + 0.05f);
    V pos;
    for (int i = 1; i <= 40; ++i) pos.push_back(i * 0.1f);
    const V dy = [&] {
        V d(x.size());
        for (size_t i = 0; i < d.size(); ++i) d[i] = 0.5f + 0.01f * (float)i;
        return d;
    }();
    for (int op = 0; op <= U_SIGN; ++op) {
        const bool positive_only = op == U_LOG || op == U_SQRT;
        const V& in = positive_only ? pos : x;
        const float alpha = op == U_LEAKY_RELU ? 0.1f : (op == U_ELU ? 1.5f : 0.0f);
        V out(in.size(), -7.0f), dx(in.size(), -7.0f);
        std::vector<double> want(in.size()), want_dx(in.size());
        for (size_t i = 0; i < in.size(); ++i) {
            want[i] = unary_ref(op, in[i], alpha);
            want_dx[i] = derivative_ref(op, in[i], alpha) * dy[i];
        }
        elementwise_unary(out.data(), in.data(), in.size(), op, alpha);
        elementwise_unary_backward(dx.data(), in.data(), dy.data(), in.size(), op, alpha);
        char what[64];
        std::snprintf(what, sizeof what, "unary op %d", op);
        expect_close(what, out, want, 2e-6);
        std::snprintf(what, sizeof what, "unary_backward op %d", op);
        expect_close(what, dx, want_dx, 2e-5);
    }
    // NaN: ReLU propagates it, sign gives 0, max/min ignore it.
    V nan_in = {NAN}, out(1);
    elementwise_unary(out.data(), nan_in.data(), 1, U_RELU, 0.0f);
    if (!std::isnan(out[0])) {
        std::printf("FAIL relu(NaN) = %g, expected NaN\n", out[0]);
        ++failures;
    }
    elementwise_unary(out.data(), nan_in.data(), 1, U_SIGN, 0.0f);
    expect_close("sign(NaN)", out, {0.0}, 0.0);
    elementwise_scalar(out.data(), nan_in.data(), 1, S_MAX, 2.0f);
    expect_close("max(NaN, 2)", out, {2.0}, 0.0);
}

// out[idx] for an N-d index over `out_dims`, operands broadcast by their own dims.
static void binary_broadcast() {
    const std::vector<u64> out_dims = {2, 3, 4, 5};
    const std::vector<u64> l_dims = {2, 1, 4, 1}, r_dims = {1, 3, 1, 5};
    std::mt19937 rng(5);
    const V l = random_values(rng, 2 * 4), r = random_values(rng, 3 * 5, 0.5f, 2.0f);
    auto strides_of = [&](const std::vector<u64>& d) {
        std::vector<u64> s(d.size());
        u64 acc = 1;
        for (int i = (int)d.size() - 1; i >= 0; --i) {
            s[i] = d[i] == 1 ? 0 : acc;
            acc *= d[i];
        }
        return s;
    };
    const Strided s = walk(out_dims, strides_of(l_dims), strides_of(r_dims));
    const u64 n = 2 * 3 * 4 * 5;
    for (int op = B_ADD; op <= B_POW; ++op) {
        V out(n, -7.0f), cmp(n, -7.0f);
        std::vector<double> want(n), want_cmp(n);
        for (u64 a = 0; a < 2; ++a)
            for (u64 b = 0; b < 3; ++b)
                for (u64 c = 0; c < 4; ++c)
                    for (u64 d = 0; d < 5; ++d) {
                        const u64 o = ((a * 3 + b) * 4 + c) * 5 + d;
                        const double lv = l[a * 4 + c], rv = r[b * 5 + d];
                        double w = 0.0;
                        switch (op) {
                            case B_ADD: w = lv + rv; break;
                            case B_SUB: w = lv - rv; break;
                            case B_MUL: w = lv * rv; break;
                            case B_DIV: w = lv / rv; break;
                            case B_MAX: w = std::fmax(lv, rv); break;
                            case B_MIN: w = std::fmin(lv, rv); break;
                            case B_POW: w = std::pow(std::fabs(lv), rv); break;
                        }
                        want[o] = w;
                        want_cmp[o] = lv < rv ? 1.0 : 0.0;
                    }
        V lin = l;
        if (op == B_POW)
            for (auto& v : lin) v = std::fabs(v);
        elementwise_binary_strided(out.data(), lin.data(), r.data(), n, op, s);
        char what[64];
        std::snprintf(what, sizeof what, "binary_strided op %d", op);
        expect_close(what, out, want, 2e-6);
        elementwise_compare_strided(cmp.data(), l.data(), r.data(), n, C_LT, s);
        expect_close("compare_strided lt", cmp, want_cmp, 0.0);
    }
    // Contiguous forms.
    V a = {1, 2, 3, 4}, b = {4, 3, 2, 1}, out(4), mask = {1, 0, 0, 2};
    elementwise_binary(out.data(), a.data(), b.data(), 4, B_SUB);
    expect_close("binary sub", out, {-3, -1, 1, 3}, 0.0);
    elementwise_compare(out.data(), a.data(), b.data(), 4, C_GE);
    expect_close("compare ge", out, {0, 0, 1, 1}, 0.0);
    elementwise_compare_scalar(out.data(), a.data(), 4, C_EQ, 3.0f);
    expect_close("compare_scalar eq", out, {0, 0, 1, 0}, 0.0);
    elementwise_select(out.data(), mask.data(), a.data(), b.data(), 4);
    expect_close("select", out, {1, 3, 2, 4}, 0.0);
    const int sops[] = {S_ADD, S_MUL, S_RSUB, S_RDIV, S_POW, S_MAX, S_MIN};
    const std::vector<std::vector<double>> swant = {
        {3.5, 4.5, 5.5, 6.5}, {2.5, 5, 7.5, 10}, {1.5, 0.5, -0.5, -1.5}, {2.5, 1.25, 2.5 / 3, 0.625},
        {1, std::pow(2.0, 2.5), std::pow(3.0, 2.5), 32}, {2.5, 2.5, 3, 4}, {1, 2, 2.5, 2.5}};
    for (int i = 0; i < 7; ++i) {
        elementwise_scalar(out.data(), a.data(), 4, sops[i], 2.5f);
        char what[64];
        std::snprintf(what, sizeof what, "scalar op %d", sops[i]);
        expect_close(what, out, swant[i], 1e-6);
    }
    elementwise_scalar(out.data(), a.data(), 4, S_POW, 2.0f);
    expect_close("scalar pow 2", out, {1, 4, 9, 16}, 0.0);
}

int main() {
    unary_ops();
    binary_broadcast();
    return finish("elementwise");
}
