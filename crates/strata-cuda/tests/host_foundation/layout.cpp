// layout.cu on the host: the strided copy as permute, slice_axis, broadcast_to and concat use it
// (walks built as src/ops/layout.rs builds them, unmerged), and the row gather / scatter-add
// with repeated indices.
#include "shim.h"
#include "layout.cu"

int main() {
    // x [2, 3, 4] = 0..24.
    V x(24);
    for (int i = 0; i < 24; ++i) x[i] = (float)i;

    // permute axes (2, 0, 1): out [4, 2, 3], out[a, b, c] = x[b, c, a].
    {
        V out(24, -7.0f);
        std::vector<double> want(24);
        for (int a = 0; a < 4; ++a)
            for (int b = 0; b < 2; ++b)
                for (int c = 0; c < 3; ++c) want[(a * 2 + b) * 3 + c] = x[b * 12 + c * 4 + a];
        layout_copy(out.data(), x.data(), 24, 0, 0, walk({4, 2, 3}, {1, 12, 4}, {6, 3, 1}));
        expect_close("permute", out, want, 0.0);
    }
    // slice axis 1, start 1, len 2: out [2, 2, 4].
    {
        V out(16, -7.0f);
        std::vector<double> want(16);
        for (int a = 0; a < 2; ++a)
            for (int b = 0; b < 2; ++b)
                for (int c = 0; c < 4; ++c) want[(a * 2 + b) * 4 + c] = x[a * 12 + (b + 1) * 4 + c];
        layout_copy(out.data(), x.data(), 16, 0, 1 * 4, walk({2, 2, 4}, {12, 4, 1}, {8, 4, 1}));
        expect_close("slice_axis", out, want, 0.0);
    }
    // broadcast [3, 1] -> [2, 3, 4] (right-aligned, lower rank).
    {
        const V col = {5, 6, 7};
        V out(24, -7.0f);
        std::vector<double> want(24);
        for (int i = 0; i < 24; ++i) want[i] = col[(i / 4) % 3];
        layout_copy(out.data(), col.data(), 24, 0, 0, walk({2, 3, 4}, {0, 1, 0}, {12, 4, 1}));
        expect_close("broadcast_to", out, want, 0.0);
    }
    // concat [2, 3, 4] and [2, 1, 4] along axis 1: out [2, 4, 4].
    {
        const V y = {100, 101, 102, 103, 200, 201, 202, 203};
        V out(32, -7.0f);
        std::vector<double> want(32);
        for (int a = 0; a < 2; ++a)
            for (int b = 0; b < 4; ++b)
                for (int c = 0; c < 4; ++c)
                    want[(a * 4 + b) * 4 + c] = b < 3 ? x[a * 12 + b * 4 + c] : y[a * 4 + c];
        layout_copy(out.data(), x.data(), 24, 0, 0, walk({2, 3, 4}, {12, 4, 1}, {16, 4, 1}));
        layout_copy(out.data(), y.data(), 8, 3 * 4, 0, walk({2, 1, 4}, {4, 4, 1}, {16, 4, 1}));
        expect_close("concat", out, want, 0.0);
    }
    // gather rows (2, 0, 2) of x as [6, 4]; scatter-add them back into [6, 4].
    {
        const V idx = {2, 0, 2};
        V out(12, -7.0f);
        std::vector<double> want(12);
        for (int i = 0; i < 3; ++i)
            for (int c = 0; c < 4; ++c) want[i * 4 + c] = x[(int)idx[i] * 4 + c];
        layout_index_select_rows(out.data(), x.data(), idx.data(), 3, 6, 4);
        expect_close("index_select_rows", out, want, 0.0);
        V acc(24, 0.0f);
        std::vector<double> want_acc(24, 0.0);
        for (int i = 0; i < 3; ++i)
            for (int c = 0; c < 4; ++c) want_acc[(int)idx[i] * 4 + c] += out[i * 4 + c];
        layout_index_add_rows(acc.data(), out.data(), idx.data(), 3, 6, 4);
        expect_close("index_add_rows", acc, want_acc, 0.0);
    }
    // The 32-bit and 64-bit index paths of strided_offsets agree.
    {
        const Strided s = walk({3, 5, 7, 2}, {70, 1, 5, 35}, {0, 14, 2, 1});
        for (u64 i = 0; i < 210; ++i) {
            u64 a32, b32, a64, b64;
            strided_offsets_in<unsigned int>(s, (unsigned int)i, &a32, &b32);
            strided_offsets_in<u64>(s, i, &a64, &b64);
            if (a32 != a64 || b32 != b64) {
                std::printf("FAIL strided_offsets: element %llu differs between index widths\n",
                            (unsigned long long)i);
                ++failures;
                break;
            }
        }
    }
    return finish("layout");
}
