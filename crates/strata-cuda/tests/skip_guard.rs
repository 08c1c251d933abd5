//! The skip guard end to end: this test binary runs its own `probe` test in a child process,
//! once without `REQUIRE_GPU` and once with `REQUIRE_GPU=1`, and checks what each printed and
//! how each ended. Without a GPU the first must print one skip line and pass, the second must
//! fail naming the reason; with a GPU both must pass without a skip line.

use std::process::{Command, Output};

use strata_cuda::CudaBackend;
use strata_cuda::testing::{REQUIRE_GPU_VAR, cuda_or_skip};

/// Not run on its own: the child process of `skip_guard_prints_one_line_or_fails_when_required`.
#[test]
#[ignore = "run as a child process by skip_guard_prints_one_line_or_fails_when_required"]
fn probe() {
    if let Some(gpu) = cuda_or_skip() {
        assert_eq!(gpu.ordinal(), 0);
        println!("PROBE: found a GPU");
    }
}

fn run_probe(require: Option<&str>) -> Output {
    let exe = std::env::current_exe().expect("the test binary's own path");
    let mut cmd = Command::new(exe);
    cmd.args([
        "probe",
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    cmd.env_remove(REQUIRE_GPU_VAR);
    if let Some(value) = require {
        cmd.env(REQUIRE_GPU_VAR, value);
    }
    cmd.output().expect("running the probe")
}

fn skip_lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        // The harness may print `test probe ... ` on the same line, before the guard's output.
        .filter_map(|l| {
            l.find("SKIP: no CUDA device (")
                .map(|at| l[at..].to_string())
        })
        .collect()
}

#[test]
fn skip_guard_prints_one_line_or_fails_when_required() {
    let gpu = CudaBackend::shared(0);
    let optional = run_probe(None);
    let required = run_probe(Some("1"));
    let explain = |out: &Output| {
        format!(
            "status {:?}\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };
    match gpu {
        Ok(_) => {
            assert!(optional.status.success(), "{}", explain(&optional));
            assert!(required.status.success(), "{}", explain(&required));
            assert!(skip_lines(&optional).is_empty(), "{}", explain(&optional));
        }
        Err(reason) => {
            assert!(optional.status.success(), "{}", explain(&optional));
            assert_eq!(
                skip_lines(&optional),
                vec![format!("SKIP: no CUDA device ({reason})")],
                "{}",
                explain(&optional)
            );
            assert!(!required.status.success(), "{}", explain(&required));
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&required.stdout),
                String::from_utf8_lossy(&required.stderr)
            );
            assert!(all.contains("REQUIRE_GPU=1"), "{}", explain(&required));
            assert!(skip_lines(&required).is_empty(), "{}", explain(&required));
        }
    }
}
