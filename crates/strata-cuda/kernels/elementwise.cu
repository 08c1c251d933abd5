// Elementwise family: unary maps and their fused derivatives, binary ops and comparisons
// (contiguous, or N-d with broadcasting strides), scalar ops and select.
//
// Op codes match the `code` functions in src/ops/elementwise.rs. Each kernel switches on its op
// code inside the grid-stride loop; the code is the same for every thread, so there is no
// divergence. The definitions follow the CPU backend's exactly (NaN behaviour included: ReLU
// propagates NaN, max/min ignore a NaN operand, sign(NaN) = 0).

#include "common.cuh"

// Unary op codes.
#define U_NEG 0
#define U_ABS 1
#define U_EXP 2
#define U_LOG 3
#define U_LOG1P 4
#define U_SQRT 5
#define U_SQUARE 6
#define U_RECIP 7
#define U_RELU 8
#define U_LEAKY_RELU 9
#define U_ELU 10
#define U_GELU 11
#define U_SIGMOID 12
#define U_TANH 13
#define U_SOFTPLUS 14
#define U_SIGN 15

// Binary op codes (also scalar ops: see scalar_op).
#define B_ADD 0
#define B_SUB 1
#define B_MUL 2
#define B_DIV 3
#define B_MAX 4
#define B_MIN 5
#define B_POW 6

// Scalar op codes.
#define S_ADD 0
#define S_MUL 1
#define S_RSUB 2
#define S_RDIV 3
#define S_POW 4
#define S_MAX 5
#define S_MIN 6

// Comparison codes.
#define C_EQ 0
#define C_NE 1
#define C_LT 2
#define C_LE 3
#define C_GT 4
#define C_GE 5

#define INV_SQRT_2PI 0.3989422804014327f

__device__ __forceinline__ float sigmoid(float v) { return 1.0f / (1.0f + expf(-v)); }

__device__ __forceinline__ float sign_of(float v) { return v > 0.0f ? 1.0f : (v < 0.0f ? -1.0f : 0.0f); }

__device__ __forceinline__ float unary_op(int op, float v, float alpha) {
    switch (op) {
        case U_NEG: return -v;
        case U_ABS: return fabsf(v);
        case U_EXP: return expf(v);
        case U_LOG: return logf(v);
        case U_LOG1P: return log1pf(v);
        case U_SQRT: return sqrtf(v);
        case U_SQUARE: return v * v;
        case U_RECIP: return 1.0f / v;
        case U_RELU: return v < 0.0f ? 0.0f : v;  // NaN propagates, as in PyTorch
        case U_LEAKY_RELU: return v > 0.0f ? v : alpha * v;
        case U_ELU: return v > 0.0f ? v : alpha * expm1f(v);
        case U_GELU: return v * normcdff(v);
        case U_SIGMOID: return sigmoid(v);
        case U_TANH: return tanhf(v);
        case U_SOFTPLUS: return fmaxf(v, 0.0f) + log1pf(expf(-fabsf(v)));
        case U_SIGN: return sign_of(v);
        default: return __int_as_float(0x7fc00000);  // unknown code: NaN, never silent
    }
}

// f'(v) · g
__device__ __forceinline__ float unary_derivative(int op, float v, float g, float alpha) {
    switch (op) {
        case U_NEG: return -g;
        case U_ABS: return v > 0.0f ? g : (v < 0.0f ? -g : 0.0f);
        case U_EXP: return expf(v) * g;
        case U_LOG: return g / v;
        case U_LOG1P: return g / (1.0f + v);
        case U_SQRT: return 0.5f * g / sqrtf(v);
        case U_SQUARE: return 2.0f * v * g;
        case U_RECIP: return -g / (v * v);
        case U_RELU: return v > 0.0f ? g : 0.0f;
        case U_LEAKY_RELU: return v > 0.0f ? g : alpha * g;
        case U_ELU: return v > 0.0f ? g : alpha * expf(v) * g;
        case U_GELU: return (normcdff(v) + v * (expf(-0.5f * v * v) * INV_SQRT_2PI)) * g;
        case U_SIGMOID: {
            // σ(1 − σ) without the cancellation of 1 − σ in the tails: e/(1 + e)², e = e^−|v|.
            const float e = expf(-fabsf(v));
            const float d = 1.0f + e;
            return e / (d * d) * g;
        }
        case U_TANH: {
            // 1 − tanh² = 4e/(1 + e)², e = e^−2|v|.
            const float e = expf(-2.0f * fabsf(v));
            const float d = 1.0f + e;
            return 4.0f * e / (d * d) * g;
        }
        case U_SOFTPLUS: return sigmoid(v) * g;
        case U_SIGN: return 0.0f;
        default: return __int_as_float(0x7fc00000);
    }
}

__device__ __forceinline__ float binary_op(int op, float a, float b) {
    switch (op) {
        case B_ADD: return a + b;
        case B_SUB: return a - b;
        case B_MUL: return a * b;
        case B_DIV: return a / b;
        case B_MAX: return fmaxf(a, b);
        case B_MIN: return fminf(a, b);
        case B_POW: return powf(a, b);
        default: return __int_as_float(0x7fc00000);
    }
}

__device__ __forceinline__ float compare_op(int op, float a, float b) {
    bool r;
    switch (op) {
        case C_EQ: r = a == b; break;
        case C_NE: r = a != b; break;
        case C_LT: r = a < b; break;
        case C_LE: r = a <= b; break;
        case C_GT: r = a > b; break;
        case C_GE: r = a >= b; break;
        default: return __int_as_float(0x7fc00000);
    }
    return r ? 1.0f : 0.0f;
}

__device__ __forceinline__ float scalar_op(int op, float v, float s) {
    switch (op) {
        case S_ADD: return v + s;
        case S_MUL: return v * s;
        case S_RSUB: return s - v;
        case S_RDIV: return s / v;
        case S_POW: return s == 2.0f ? v * v : (s == 1.0f ? v : powf(v, s));
        case S_MAX: return fmaxf(v, s);
        case S_MIN: return fminf(v, s);
        default: return __int_as_float(0x7fc00000);
    }
}

// out[i] = f(x[i])
extern "C" __global__ void elementwise_unary(float* __restrict__ out, const float* __restrict__ x, u64 n,
                                             int op, float alpha) {
    GRID_STRIDE(i, n) { out[i] = unary_op(op, x[i], alpha); }
}

// dx[i] = f'(x[i]) · dy[i]
extern "C" __global__ void elementwise_unary_backward(float* __restrict__ dx, const float* __restrict__ x,
                                                      const float* __restrict__ dy, u64 n, int op,
                                                      float alpha) {
    GRID_STRIDE(i, n) { dx[i] = unary_derivative(op, x[i], dy[i], alpha); }
}

// out[i] = lhs[i] ∘ rhs[i] (equal shapes)
extern "C" __global__ void elementwise_binary(float* __restrict__ out, const float* __restrict__ lhs,
                                              const float* __restrict__ rhs, u64 n, int op) {
    GRID_STRIDE(i, n) { out[i] = binary_op(op, lhs[i], rhs[i]); }
}

// out[i] = lhs[a(i)] ∘ rhs[b(i)] with broadcasting strides (s.a for lhs, s.b for rhs)
extern "C" __global__ void elementwise_binary_strided(float* __restrict__ out, const float* __restrict__ lhs,
                                                      const float* __restrict__ rhs, u64 n, int op,
                                                      Strided s) {
    GRID_STRIDE(i, n) {
        u64 a, b;
        strided_offsets(s, i, n, &a, &b);
        out[i] = binary_op(op, lhs[a], rhs[b]);
    }
}

// out[i] = (lhs[i] ⋈ rhs[i]) ? 1 : 0 (equal shapes)
extern "C" __global__ void elementwise_compare(float* __restrict__ out, const float* __restrict__ lhs,
                                               const float* __restrict__ rhs, u64 n, int op) {
    GRID_STRIDE(i, n) { out[i] = compare_op(op, lhs[i], rhs[i]); }
}

// out[i] = (lhs[a(i)] ⋈ rhs[b(i)]) ? 1 : 0 with broadcasting strides
extern "C" __global__ void elementwise_compare_strided(float* __restrict__ out, const float* __restrict__ lhs,
                                                       const float* __restrict__ rhs, u64 n, int op,
                                                       Strided s) {
    GRID_STRIDE(i, n) {
        u64 a, b;
        strided_offsets(s, i, n, &a, &b);
        out[i] = compare_op(op, lhs[a], rhs[b]);
    }
}

// out[i] = x[i] ∘ s
extern "C" __global__ void elementwise_scalar(float* __restrict__ out, const float* __restrict__ x, u64 n,
                                              int op, float s) {
    GRID_STRIDE(i, n) { out[i] = scalar_op(op, x[i], s); }
}

// out[i] = (x[i] ⋈ s) ? 1 : 0
extern "C" __global__ void elementwise_compare_scalar(float* __restrict__ out, const float* __restrict__ x,
                                                      u64 n, int op, float s) {
    GRID_STRIDE(i, n) { out[i] = compare_op(op, x[i], s); }
}

// out[i] = mask[i] != 0 ? on_true[i] : on_false[i]
extern "C" __global__ void elementwise_select(float* __restrict__ out, const float* __restrict__ mask,
                                              const float* __restrict__ on_true,
                                              const float* __restrict__ on_false, u64 n) {
    GRID_STRIDE(i, n) { out[i] = mask[i] != 0.0f ? on_true[i] : on_false[i]; }
}
