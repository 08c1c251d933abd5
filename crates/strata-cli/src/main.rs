//! The `strata` command: train, evaluate, predict, tune and summarize models described in
//! TOML. All logic lives in the `strata_cli` library.

fn main() {
    std::process::exit(strata_cli::main());
}
