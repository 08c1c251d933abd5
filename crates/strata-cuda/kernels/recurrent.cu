// Fused recurrent cells (tanh RNN, LSTM with gates i,f,g,o, GRU with gates r,z,n, as PyTorch),
// forward and backward, one launch per time step after that step's cuBLAS GEMM. The host
// (`src/ops/recurrent.rs`) runs the input projection of all steps as one GEMM into `acts` and
// the weight gradients as one GEMM each after the loop.
//
// Layouts are batch-first, as on the CPU: `acts [B, T, G·H]` (pre-activations, overwritten with
// the activated gates of every valid step), `hprev [B, T, H]` (the state each step started
// from), then LSTM `cprev [B, T, H]` and `tanh(c') [B, T, H]`, GRU `W_hn h + b_hn [B, T, H]`
// (`x1`, `x2` below). `packed [B, T + states, H]`. `hs`, `cs`, `dh`, `dc` are `[B, H]`.
//
// Variable lengths: `lengths` (nullable, `[B]` as f32) limits row b to steps 0..lengths[b];
// outside them the state passes through, the output stays zero (the host zeroes `packed`) and
// the gate gradients stay zero (the host zeroes them), so padding changes nothing.
//
// Every per-step kernel runs one thread per (row, j) with j < H; a thread touches only the
// gate entries of its own j, so there are no races. Conventions: dimensions are `int`, element
// counts `unsigned long long`, grid-stride loops so any launch shape is correct.

#define GRID_STRIDE(i, n)                                                                    \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (long long)(n); \
         i += (long long)blockDim.x * gridDim.x)

__device__ __forceinline__ float rnn_sigmoid(float x) {
    return 1.0f / (1.0f + expf(-x));
}

// The valid steps of row b, clamped to 0..=seq_len.
__device__ __forceinline__ int rnn_len(const float* lengths, int b, int seq_len) {
    if (lengths == nullptr) return seq_len;
    const float v = lengths[b];
    if (!(v > 0.0f)) return 0;
    if (v >= (float)seq_len) return seq_len;
    return (int)v;
}

// acts[r, j] = b1[j] (+ b2[j] when b2 is not null): the starting value the input-projection
// GEMM accumulates onto. `total` = rows·gh.
extern "C" __global__ void recurrent_fill_bias(float* __restrict__ acts,
                                               const float* __restrict__ b1,
                                               const float* __restrict__ b2,
                                               unsigned long long total, int gh) {
    GRID_STRIDE(e, total) {
        const int j = (int)(e % gh);
        acts[e] = b1[j] + (b2 != nullptr ? b2[j] : 0.0f);
    }
}

// Copies the final states into the packed result: row T of each batch row gets hs, row T + 1
// gets cs (when cs is not null). `total` = B·H.
extern "C" __global__ void recurrent_write_states(const float* __restrict__ hs,
                                                  const float* __restrict__ cs,
                                                  float* __restrict__ packed,
                                                  unsigned long long total, int seq_len, int hidden,
                                                  int rows_per_b) {
    GRID_STRIDE(e, total) {
        const long long b = e / hidden;
        const long long j = e - b * hidden;
        const long long base = (b * rows_per_b + seq_len) * hidden + j;
        packed[base] = hs[e];
        if (cs != nullptr) packed[base + hidden] = cs[e];
    }
}

// The inverse of recurrent_write_states for gradients: dh = dpacked[row T], dc = dpacked[row
// T + 1] (when dc is not null). `total` = B·H.
extern "C" __global__ void recurrent_read_state_grads(const float* __restrict__ dpacked,
                                                      float* __restrict__ dh,
                                                      float* __restrict__ dc,
                                                      unsigned long long total, int seq_len,
                                                      int hidden, int rows_per_b) {
    GRID_STRIDE(e, total) {
        const long long b = e / hidden;
        const long long j = e - b * hidden;
        const long long base = (b * rows_per_b + seq_len) * hidden + j;
        dh[e] = dpacked[base];
        if (dc != nullptr) dc[e] = dpacked[base + hidden];
    }
}

// Tanh cell, step `step`: acts already holds x·W_ihᵀ + b_ih + b_hh + h·W_hhᵀ. `total` = B·H.
extern "C" __global__ void recurrent_tanh_forward(float* __restrict__ acts, float* __restrict__ hs,
                                                  float* __restrict__ hprev,
                                                  float* __restrict__ packed,
                                                  const float* __restrict__ lengths,
                                                  unsigned long long total, int seq_len, int hidden,
                                                  int rows_per_b, int step) {
    GRID_STRIDE(e, total) {
        const int b = (int)(e / hidden);
        const int j = (int)(e - (long long)b * hidden);
        const long long at = (long long)b * seq_len + step;
        hprev[at * hidden + j] = hs[e];
        if (step >= rnn_len(lengths, b, seq_len)) continue;
        const float a = tanhf(acts[at * hidden + j]);
        acts[at * hidden + j] = a;
        hs[e] = a;
        packed[((long long)b * rows_per_b + step) * hidden + j] = a;
    }
}

// LSTM cell, step `step`: acts holds the summed pre-activations of i, f, g, o.
// x1 = cprev, x2 = tanh(c'). `total` = B·H.
extern "C" __global__ void recurrent_lstm_forward(float* __restrict__ acts, float* __restrict__ hs,
                                                  float* __restrict__ cs, float* __restrict__ hprev,
                                                  float* __restrict__ x1, float* __restrict__ x2,
                                                  float* __restrict__ packed,
                                                  const float* __restrict__ lengths,
                                                  unsigned long long total, int seq_len, int hidden,
                                                  int rows_per_b, int step) {
    GRID_STRIDE(e, total) {
        const int b = (int)(e / hidden);
        const int j = (int)(e - (long long)b * hidden);
        const long long at = (long long)b * seq_len + step;
        hprev[at * hidden + j] = hs[e];
        if (step >= rnn_len(lengths, b, seq_len)) continue;
        float* a = acts + at * 4 * hidden;
        const float i = rnn_sigmoid(a[j]);
        const float f = rnn_sigmoid(a[hidden + j]);
        const float g = tanhf(a[2 * hidden + j]);
        const float o = rnn_sigmoid(a[3 * hidden + j]);
        a[j] = i;
        a[hidden + j] = f;
        a[2 * hidden + j] = g;
        a[3 * hidden + j] = o;
        const float c = cs[e];
        x1[at * hidden + j] = c;
        const float c2 = f * c + i * g;
        const float tc = tanhf(c2);
        x2[at * hidden + j] = tc;
        const float h = o * tc;
        cs[e] = c2;
        hs[e] = h;
        packed[((long long)b * rows_per_b + step) * hidden + j] = h;
    }
}

// GRU cell, step `step`: acts holds x·W_ihᵀ + b_ih, ghb `[B, 3H]` holds h·W_hhᵀ + b_hh.
// x1 = W_hn h + b_hn. `total` = B·H.
extern "C" __global__ void recurrent_gru_forward(float* __restrict__ acts,
                                                 const float* __restrict__ ghb,
                                                 float* __restrict__ hs, float* __restrict__ hprev,
                                                 float* __restrict__ x1, float* __restrict__ packed,
                                                 const float* __restrict__ lengths,
                                                 unsigned long long total, int seq_len, int hidden,
                                                 int rows_per_b, int step) {
    GRID_STRIDE(e, total) {
        const int b = (int)(e / hidden);
        const int j = (int)(e - (long long)b * hidden);
        const long long at = (long long)b * seq_len + step;
        const float hp = hs[e];
        hprev[at * hidden + j] = hp;
        if (step >= rnn_len(lengths, b, seq_len)) continue;
        float* a = acts + at * 3 * hidden;
        const float* gr = ghb + (long long)b * 3 * hidden;
        const float r = rnn_sigmoid(a[j] + gr[j]);
        const float z = rnn_sigmoid(a[hidden + j] + gr[hidden + j]);
        const float ghn = gr[2 * hidden + j];
        x1[at * hidden + j] = ghn;
        const float n = tanhf(a[2 * hidden + j] + r * ghn);
        a[j] = r;
        a[hidden + j] = z;
        a[2 * hidden + j] = n;
        const float h = (1.0f - z) * n + z * hp;
        hs[e] = h;
        packed[((long long)b * rows_per_b + step) * hidden + j] = h;
    }
}

// Tanh cell backward, step `step`: dgx = (dh + dy)·(1 − a²), then dh = 0 (the host adds
// dgx_step·W_hh next). `total` = B·H.
extern "C" __global__ void recurrent_tanh_backward(const float* __restrict__ acts,
                                                   const float* __restrict__ dpacked,
                                                   float* __restrict__ dh, float* __restrict__ dgx,
                                                   const float* __restrict__ lengths,
                                                   unsigned long long total, int seq_len,
                                                   int hidden, int rows_per_b, int step) {
    GRID_STRIDE(e, total) {
        const int b = (int)(e / hidden);
        const int j = (int)(e - (long long)b * hidden);
        if (step >= rnn_len(lengths, b, seq_len)) continue;
        const long long at = (long long)b * seq_len + step;
        const float dt = dh[e] + dpacked[((long long)b * rows_per_b + step) * hidden + j];
        const float a = acts[at * hidden + j];
        dgx[at * hidden + j] = dt * (1.0f - a * a);
        dh[e] = 0.0f;
    }
}

// LSTM cell backward, step `step`: the four pre-activation gradients, dc carried through f.
// `total` = B·H.
extern "C" __global__ void recurrent_lstm_backward(
    const float* __restrict__ acts, const float* __restrict__ x1, const float* __restrict__ x2,
    const float* __restrict__ dpacked, float* __restrict__ dh, float* __restrict__ dc,
    float* __restrict__ dgx, const float* __restrict__ lengths, unsigned long long total,
    int seq_len, int hidden, int rows_per_b, int step) {
    GRID_STRIDE(e, total) {
        const int b = (int)(e / hidden);
        const int j = (int)(e - (long long)b * hidden);
        if (step >= rnn_len(lengths, b, seq_len)) continue;
        const long long at = (long long)b * seq_len + step;
        const float* a = acts + at * 4 * hidden;
        const float i = a[j];
        const float f = a[hidden + j];
        const float g = a[2 * hidden + j];
        const float o = a[3 * hidden + j];
        const float cprev = x1[at * hidden + j];
        const float tc = x2[at * hidden + j];
        const float dt = dh[e] + dpacked[((long long)b * rows_per_b + step) * hidden + j];
        const float dcc = dc[e] + dt * o * (1.0f - tc * tc);
        float* d = dgx + at * 4 * hidden;
        d[j] = dcc * g * i * (1.0f - i);
        d[hidden + j] = dcc * cprev * f * (1.0f - f);
        d[2 * hidden + j] = dcc * i * (1.0f - g * g);
        d[3 * hidden + j] = dt * tc * o * (1.0f - o);
        dc[e] = dcc * f;
        dh[e] = 0.0f;
    }
}

// GRU cell backward, step `step`: dgx gets the input-side gradients (r, z, n), dgh the
// recurrent-side ones (the n gate scaled by r), dh becomes its pass-through part dt·z.
// `total` = B·H.
extern "C" __global__ void recurrent_gru_backward(
    const float* __restrict__ acts, const float* __restrict__ hprev, const float* __restrict__ x1,
    const float* __restrict__ dpacked, float* __restrict__ dh, float* __restrict__ dgx,
    float* __restrict__ dgh, const float* __restrict__ lengths, unsigned long long total,
    int seq_len, int hidden, int rows_per_b, int step) {
    GRID_STRIDE(e, total) {
        const int b = (int)(e / hidden);
        const int j = (int)(e - (long long)b * hidden);
        if (step >= rnn_len(lengths, b, seq_len)) continue;
        const long long at = (long long)b * seq_len + step;
        const float* a = acts + at * 3 * hidden;
        const float r = a[j];
        const float z = a[hidden + j];
        const float n = a[2 * hidden + j];
        const float ghn = x1[at * hidden + j];
        const float hp = hprev[at * hidden + j];
        const float dt = dh[e] + dpacked[((long long)b * rows_per_b + step) * hidden + j];
        const float dnp = dt * (1.0f - z) * (1.0f - n * n);
        const float dzp = dt * (hp - n) * z * (1.0f - z);
        const float drp = dnp * ghn * r * (1.0f - r);
        float* di = dgx + at * 3 * hidden;
        float* dr = dgh + at * 3 * hidden;
        di[j] = drp;
        di[hidden + j] = dzp;
        di[2 * hidden + j] = dnp;
        dr[j] = drp;
        dr[hidden + j] = dzp;
        dr[2 * hidden + j] = dnp * r;
        dh[e] = dt * z;
    }
}
