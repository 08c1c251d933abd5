//! The `strata` command: train, evaluate, predict, tune and summarize models described in
//! TOML. All logic lives in `strata::cli`.

fn main() {
    std::process::exit(strata::cli::main());
}
