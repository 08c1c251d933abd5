// random.cu on the host: prints the port's hashes, uniform and normal draws and dropout masks
// for a few seeds, one per line, for `tests/host_foundation.rs` to compare with the Rust
// generator of `strata_backend::random` (bit for bit, normal draws within rounding).
//   hash SEED I HEX
//   uniform SEED I BITS
//   normal SEED I VALUE
//   dropout SEED I P BITS_OF_MASK BITS_OF_Y
#include "shim.h"
#include "random.cu"

int main() {
    const u64 seeds[] = {0ull, 1ull, 42ull, 0xFFFFFFFFFFFFFFFFull, 0x123456789ABCDEFull};
    const u64 n = 300;
    for (u64 seed : seeds) {
        std::vector<unsigned int> words(2 * n);
        random_hash(words.data(), n, seed);
        for (u64 i = 0; i < n; ++i) {
            const u64 h = (u64)words[2 * i] | ((u64)words[2 * i + 1] << 32);
            std::printf("hash %llu %llu %016llx\n", seed, i, h);
        }
        V u(n), z(n), y(n), mask(n), x(n);
        for (u64 i = 0; i < n; ++i) x[i] = 0.25f + (float)i;
        random_uniform(u.data(), n, 0.0f, 1.0f, seed);
        random_normal(z.data(), n, 0.0f, 1.0f, seed);
        const float p = 0.3f, keep = 1.0f / (1.0f - p);
        random_dropout(y.data(), mask.data(), x.data(), n, p, keep, seed);
        for (u64 i = 0; i < n; ++i) {
            unsigned int ub, mb, yb;
            std::memcpy(&ub, &u[i], 4);
            std::memcpy(&mb, &mask[i], 4);
            std::memcpy(&yb, &y[i], 4);
            std::printf("uniform %llu %llu %08x\n", seed, i, ub);
            std::printf("normal %llu %llu %.9g\n", seed, i, z[i]);
            std::printf("dropout %llu %llu %.9g %08x %08x\n", seed, i, p, mb, yb);
        }
    }
    return 0;
}
