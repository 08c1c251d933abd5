// recurrent.cu on the host, driven exactly as `src/ops/recurrent.rs` drives it (bias fill,
// one input-projection GEMM, per step one GEMM + the fused cell, the states written last;
// backward in reverse with one GEMM per step and one GEMM per weight gradient). The forward
// result is compared with a direct step-by-step evaluation of PyTorch's equations, and every
// gradient with central finite differences of L = Σ r ⊙ packed, for the tanh cell, the LSTM
// and the GRU, both directions, with and without variable lengths.
#include "harness.h"
#define float double
#include "recurrent.cu"
#undef float

enum Cell { TANH, LSTM, GRU };

struct Spec {
    Cell cell;
    int b, t, i, h;
    bool reverse;
};

struct Operands {
    V x, w_ih, w_hh, b_ih, b_hh, h0, c0, lengths;
    bool has_lengths;
};

struct Grads {
    V dx, dw_ih, dw_hh, db_ih, db_hh, dh0, dc0;
};

static int gates(Cell c) {
    return c == TANH ? 1 : c == LSTM ? 4 : 3;
}
static int extra_blocks(Cell c) {
    return c == TANH ? 0 : c == LSTM ? 2 : 1;
}
static int states(Cell c) {
    return c == LSTM ? 2 : 1;
}

static void forward(const Spec& s, const Operands& o, V& packed, V& ws) {
    const int b = s.b, t = s.t, h = s.h, gh = gates(s.cell) * h, bt = b * t;
    const int rows_per_b = t + states(s.cell);
    ws.assign((size_t)bt * (gh + h * (1 + extra_blocks(s.cell))), NAN);
    packed.assign((size_t)b * rows_per_b * h, 0.0);
    V hs = o.h0, cs = o.c0, ghb((size_t)b * gh);
    const R* lengths = o.has_lengths ? o.lengths.data() : nullptr;
    R* acts = ws.data();
    R* hprev = acts + (size_t)bt * gh;
    R* x1 = hprev + (size_t)bt * h;
    R* x2 = x1 + (size_t)bt * h;
    const bool fused = s.cell != GRU;
    recurrent_fill_bias(acts, o.b_ih.data(), fused ? o.b_hh.data() : nullptr,
                        (unsigned long long)bt * gh, gh);
    gemm(bt, gh, s.i, false, true, 1, 1.0, o.x.data(), s.i, 0, o.w_ih.data(), s.i, 0, acts, gh, 0);
    for (int q = 0; q < t; ++q) {
        const int step = s.reverse ? t - 1 - q : q;
        if (fused) {
            gemm(b, gh, h, false, true, 1, 1.0, hs.data(), h, 0, o.w_hh.data(), h, 0,
                 acts + (size_t)step * gh, (size_t)t * gh, 0);
        } else {
            recurrent_fill_bias(ghb.data(), o.b_hh.data(), nullptr, ghb.size(), gh);
            gemm(b, gh, h, false, true, 1, 1.0, hs.data(), h, 0, o.w_hh.data(), h, 0, ghb.data(),
                 gh, 0);
        }
        const unsigned long long n = (unsigned long long)b * h;
        if (s.cell == TANH)
            recurrent_tanh_forward(acts, hs.data(), hprev, packed.data(), lengths, n, t, h,
                                   rows_per_b, step);
        if (s.cell == LSTM)
            recurrent_lstm_forward(acts, hs.data(), cs.data(), hprev, x1, x2, packed.data(),
                                   lengths, n, t, h, rows_per_b, step);
        if (s.cell == GRU)
            recurrent_gru_forward(acts, ghb.data(), hs.data(), hprev, x1, packed.data(), lengths, n,
                                  t, h, rows_per_b, step);
    }
    recurrent_write_states(hs.data(), s.cell == LSTM ? cs.data() : nullptr, packed.data(),
                           (unsigned long long)b * h, t, h, rows_per_b);
}

static Grads backward(const Spec& s, const Operands& o, const V& ws, const V& dpacked) {
    const int b = s.b, t = s.t, h = s.h, gh = gates(s.cell) * h, bt = b * t;
    const int rows_per_b = t + states(s.cell);
    const unsigned long long n = (unsigned long long)b * h;
    const R* lengths = o.has_lengths ? o.lengths.data() : nullptr;
    V dh(n), dc(n, 0.0);
    recurrent_read_state_grads(dpacked.data(), dh.data(), s.cell == LSTM ? dc.data() : nullptr, n,
                               t, h, rows_per_b);
    V dgx((size_t)bt * gh, 0.0), dgh(s.cell == GRU ? (size_t)bt * gh : 0, 0.0);
    const R* acts = ws.data();
    const R* hprev = acts + (size_t)bt * gh;
    const R* x1 = hprev + (size_t)bt * h;
    const R* x2 = x1 + (size_t)bt * h;
    const R* dg_rec = s.cell == GRU ? dgh.data() : dgx.data();
    for (int q = 0; q < t; ++q) {
        const int step = s.reverse ? q : t - 1 - q;
        if (s.cell == TANH)
            recurrent_tanh_backward(acts, dpacked.data(), dh.data(), dgx.data(), lengths, n, t, h,
                                    rows_per_b, step);
        if (s.cell == LSTM)
            recurrent_lstm_backward(acts, x1, x2, dpacked.data(), dh.data(), dc.data(), dgx.data(),
                                    lengths, n, t, h, rows_per_b, step);
        if (s.cell == GRU)
            recurrent_gru_backward(acts, hprev, x1, dpacked.data(), dh.data(), dgx.data(),
                                   dgh.data(), lengths, n, t, h, rows_per_b, step);
        gemm(b, h, gh, false, false, 1, 1.0, dg_rec + (size_t)step * gh, (size_t)t * gh, 0,
             o.w_hh.data(), h, 0, dh.data(), h, 0);
    }
    Grads g;
    g.dx.assign((size_t)bt * s.i, 0.0);
    gemm(bt, s.i, gh, false, false, 1, 0.0, dgx.data(), gh, 0, o.w_ih.data(), s.i, 0, g.dx.data(),
         s.i, 0);
    g.dw_ih.assign((size_t)gh * s.i, 0.0);
    gemm(gh, s.i, bt, true, false, 1, 0.0, dgx.data(), gh, 0, o.x.data(), s.i, 0, g.dw_ih.data(),
         s.i, 0);
    g.dw_hh.assign((size_t)gh * h, 0.0);
    gemm(gh, h, bt, true, false, 1, 0.0, dg_rec, gh, 0, hprev, h, 0, g.dw_hh.data(), h, 0);
    const V ones(bt, 1.0);
    g.db_ih.assign(gh, 0.0);
    gemm(1, gh, bt, false, false, 1, 0.0, ones.data(), bt, 0, dgx.data(), gh, 0, g.db_ih.data(), gh,
         0);
    g.db_hh.assign(gh, 0.0);
    gemm(1, gh, bt, false, false, 1, 0.0, ones.data(), bt, 0, dg_rec, gh, 0, g.db_hh.data(), gh, 0);
    g.dh0 = dh;
    g.dc0 = dc;
    return g;
}

static R sigmoid(R v) {
    return 1.0 / (1.0 + std::exp(-v));
}

// PyTorch's equations, one batch row and one step at a time.
static V reference(const Spec& s, const Operands& o) {
    const int t_len = s.t, h = s.h, ng = gates(s.cell), rows_per_b = t_len + states(s.cell);
    V packed((size_t)s.b * rows_per_b * h, 0.0);
    for (int b = 0; b < s.b; ++b) {
        const int len = o.has_lengths ? (int)o.lengths[b] : t_len;
        V hv(o.h0.begin() + b * h, o.h0.begin() + (b + 1) * h);
        V cv(o.c0.begin() + b * h, o.c0.begin() + (b + 1) * h);
        for (int q = 0; q < len; ++q) {
            const int t = s.reverse ? len - 1 - q : q;
            V gi(ng * h), gr(ng * h), next(h);
            for (int r = 0; r < ng * h; ++r) {
                gi[r] = o.b_ih[r];
                gr[r] = o.b_hh[r];
                for (int k = 0; k < s.i; ++k)
                    gi[r] += o.w_ih[r * s.i + k] * o.x[((size_t)b * t_len + t) * s.i + k];
                for (int k = 0; k < h; ++k) gr[r] += o.w_hh[r * h + k] * hv[k];
            }
            for (int j = 0; j < h; ++j) {
                if (s.cell == TANH) next[j] = std::tanh(gi[j] + gr[j]);
                if (s.cell == LSTM) {
                    const R i = sigmoid(gi[j] + gr[j]), f = sigmoid(gi[h + j] + gr[h + j]);
                    const R g = std::tanh(gi[2 * h + j] + gr[2 * h + j]);
                    const R out = sigmoid(gi[3 * h + j] + gr[3 * h + j]);
                    cv[j] = f * cv[j] + i * g;
                    next[j] = out * std::tanh(cv[j]);
                }
                if (s.cell == GRU) {
                    const R r = sigmoid(gi[j] + gr[j]), z = sigmoid(gi[h + j] + gr[h + j]);
                    const R nn = std::tanh(gi[2 * h + j] + r * gr[2 * h + j]);
                    next[j] = (1.0 - z) * nn + z * hv[j];
                }
            }
            hv = next;
            for (int j = 0; j < h; ++j) packed[((size_t)b * rows_per_b + t) * h + j] = hv[j];
        }
        for (int j = 0; j < h; ++j) {
            packed[((size_t)b * rows_per_b + t_len) * h + j] = hv[j];
            if (s.cell == LSTM) packed[((size_t)b * rows_per_b + t_len + 1) * h + j] = cv[j];
        }
    }
    return packed;
}

static void check(const Spec& s, bool with_lengths) {
    std::mt19937 rng(11);
    const int gh = gates(s.cell) * s.h;
    Operands o;
    o.x = random_values(rng, (size_t)s.b * s.t * s.i);
    o.w_ih = random_values(rng, (size_t)gh * s.i);
    o.w_hh = random_values(rng, (size_t)gh * s.h);
    o.b_ih = random_values(rng, gh);
    o.b_hh = random_values(rng, gh);
    o.h0 = random_values(rng, (size_t)s.b * s.h);
    o.c0 = random_values(rng, (size_t)s.b * s.h);
    o.has_lengths = with_lengths;
    o.lengths.resize(s.b);
    for (int b = 0; b < s.b; ++b) o.lengths[b] = with_lengths ? (b * 7 + 1) % (s.t + 1) : s.t;

    V packed, ws;
    forward(s, o, packed, ws);
    expect_close("rnn_forward", packed, reference(s, o), 1e-12);

    const V r = random_values(rng, packed.size());
    const Grads g = backward(s, o, ws, r);
    auto loss = [&](const Operands& p) {
        const V out = reference(s, p);
        R l = 0.0;
        for (size_t k = 0; k < out.size(); ++k) l += out[k] * r[k];
        return l;
    };
    auto numeric = [&](V Operands::* field, const V& analytic, const char* what) {
        Operands p = o;
        V num(analytic.size());
        const R eps = 1e-6;
        for (size_t k = 0; k < num.size(); ++k) {
            const R keep = (p.*field)[k];
            (p.*field)[k] = keep + eps;
            const R up = loss(p);
            (p.*field)[k] = keep - eps;
            const R down = loss(p);
            (p.*field)[k] = keep;
            num[k] = (up - down) / (2.0 * eps);
        }
        expect_close(what, analytic, num, 1e-6);
    };
    numeric(&Operands::x, g.dx, "rnn_backward dx");
    numeric(&Operands::w_ih, g.dw_ih, "rnn_backward dw_ih");
    numeric(&Operands::w_hh, g.dw_hh, "rnn_backward dw_hh");
    numeric(&Operands::b_ih, g.db_ih, "rnn_backward db_ih");
    numeric(&Operands::b_hh, g.db_hh, "rnn_backward db_hh");
    numeric(&Operands::h0, g.dh0, "rnn_backward dh0");
    if (s.cell == LSTM) numeric(&Operands::c0, g.dc0, "rnn_backward dc0");
}

int main() {
    const char* names[] = {"tanh", "lstm", "gru"};
    for (Cell cell : {TANH, LSTM, GRU})
        for (bool reverse : {false, true})
            for (bool lengths : {false, true}) {
                const int before = failures;
                check({cell, 3, 4, 2, 3, reverse}, lengths);
                if (failures != before)
                    std::printf("  (cell %s, reverse %d, lengths %d)\n", names[cell], reverse,
                                lengths);
            }
    check({LSTM, 1, 1, 1, 1, false}, false);
    check({GRU, 2, 5, 3, 2, true}, true);
    return finish("recurrent");
}
