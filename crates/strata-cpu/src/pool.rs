//! The CPU backend's one thread pool: `threads − 1` persistent workers that run the parts of
//! a split op (GEMM blocks, loop parts) while the calling thread runs the first part.
//!
//! Workers spin for a short while after each job before parking, so the next part of a
//! training step (usually microseconds away) starts without a wake-up; after
//! [`SPIN`] without work they sleep on a condition variable and cost nothing. OpenBLAS itself
//! runs single-threaded (see `threads.rs`): a second pool of its own would spin beside this
//! one on the same cores.
//!
//! [`run_parts`] is scoped: it returns only after every part has finished, so parts may borrow
//! from the caller. One caller at a time owns the workers; a second concurrent caller (another
//! user thread, or a part that splits again) runs its parts itself, serially. A panic in a part
//! is re-raised on the calling thread after all parts have finished.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long an idle worker spins for new work before parking.
const SPIN: Duration = Duration::from_micros(200);

/// A part handed to a worker, its lifetime erased (see the safety argument in `run_parts`).
type Job = Box<dyn FnOnce() + Send + 'static>;

/// One worker's mailbox.
struct Slot {
    job: Mutex<Option<Job>>,
    ready: AtomicBool,
    wake: Condvar,
}

/// What the workers of one `run_parts` call report back.
struct Done {
    remaining: AtomicUsize,
    panic: Mutex<Option<Box<dyn Any + Send>>>,
}

struct Pool {
    slots: Vec<Arc<Slot>>,
}

/// The workers, grown on demand; the mutex is held by the one caller using them.
fn pool() -> &'static Mutex<Pool> {
    static POOL: OnceLock<Mutex<Pool>> = OnceLock::new();
    POOL.get_or_init(|| Mutex::new(Pool { slots: Vec::new() }))
}

fn worker(slot: Arc<Slot>) {
    loop {
        let start = Instant::now();
        let mut spins = 0u32;
        while !slot.ready.load(Ordering::Acquire) {
            spins = spins.wrapping_add(1);
            if spins.is_multiple_of(64) && start.elapsed() > SPIN {
                let mut guard = slot.job.lock().unwrap_or_else(|e| e.into_inner());
                while !slot.ready.load(Ordering::Acquire) {
                    guard = slot.wake.wait(guard).unwrap_or_else(|e| e.into_inner());
                }
                break;
            }
            std::hint::spin_loop();
        }
        let job = slot.job.lock().unwrap_or_else(|e| e.into_inner()).take();
        slot.ready.store(false, Ordering::Release);
        if let Some(job) = job {
            job();
        }
    }
}

impl Pool {
    /// Makes sure at least `n` workers exist.
    fn grow(&mut self, n: usize) {
        while self.slots.len() < n {
            let slot = Arc::new(Slot {
                job: Mutex::new(None),
                ready: AtomicBool::new(false),
                wake: Condvar::new(),
            });
            let for_worker = Arc::clone(&slot);
            let spawned = std::thread::Builder::new()
                .name(format!("strata-cpu-{}", self.slots.len() + 1))
                .spawn(move || worker(for_worker));
            if spawned.is_err() {
                // No more threads: run with the workers there are.
                return;
            }
            self.slots.push(slot);
        }
    }
}

/// Runs `f(part)` for every part, the first on the calling thread and the others on pool
/// workers, and returns when all have finished. With one part, or when the pool is in use
/// by another caller, every part runs on the calling thread.
pub(crate) fn run_parts<T: Send>(parts: Vec<T>, f: &(dyn Fn(T) + Sync)) {
    let extra = parts.len().saturating_sub(1);
    let guard = if extra > 0 {
        pool().try_lock().ok()
    } else {
        None
    };
    let Some(mut guard) = guard else {
        parts.into_iter().for_each(f);
        return;
    };
    guard.grow(extra);
    let workers = guard.slots.len().min(extra);
    let mut parts = parts.into_iter();
    let first = parts.next();
    // Parts beyond the worker count (only when threads could not be started) run here.
    let mut rest: Vec<T> = Vec::new();
    let done = Arc::new(Done {
        remaining: AtomicUsize::new(0),
        panic: Mutex::new(None),
    });
    for (i, part) in parts.enumerate() {
        if i >= workers {
            rest.push(part);
            continue;
        }
        done.remaining.fetch_add(1, Ordering::AcqRel);
        let report = Arc::clone(&done);
        let job: Box<dyn FnOnce() + Send + '_> = Box::new(move || {
            if let Err(p) = catch_unwind(AssertUnwindSafe(|| f(part))) {
                *report.panic.lock().unwrap_or_else(|e| e.into_inner()) = Some(p);
            }
            report.remaining.fetch_sub(1, Ordering::AcqRel);
        });
        // SAFETY: the job borrows `f` and owns `part`; this function does not return (nor
        // unwind: the caller's own parts run under `catch_unwind`) before `remaining` is
        // back to zero, i.e. before every job has run to completion and dropped its borrows.
        let job: Job = unsafe { std::mem::transmute::<Box<dyn FnOnce() + Send + '_>, Job>(job) };
        let slot = &guard.slots[i];
        {
            let mut mailbox = slot.job.lock().unwrap_or_else(|e| e.into_inner());
            *mailbox = Some(job);
            // Set under the lock, so a worker about to park sees it (no lost wake-up).
            slot.ready.store(true, Ordering::Release);
        }
        slot.wake.notify_one();
    }
    let mine = catch_unwind(AssertUnwindSafe(|| {
        if let Some(part) = first {
            f(part);
        }
        rest.into_iter().for_each(f);
    }));
    let mut spins = 0u32;
    while done.remaining.load(Ordering::Acquire) > 0 {
        spins = spins.wrapping_add(1);
        if spins > 1 << 12 {
            std::thread::yield_now();
        } else {
            std::hint::spin_loop();
        }
    }
    drop(guard);
    if let Err(p) = mine {
        resume_unwind(p);
    }
    if let Some(p) = done.panic.lock().unwrap_or_else(|e| e.into_inner()).take() {
        resume_unwind(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_runs_once_and_may_borrow_from_the_caller() {
        let hits: Vec<AtomicUsize> = (0..5).map(|_| AtomicUsize::new(0)).collect();
        for _ in 0..100 {
            run_parts((0..5).collect(), &|i: usize| {
                hits[i].fetch_add(1, Ordering::Relaxed);
            });
        }
        assert!(hits.iter().all(|h| h.load(Ordering::Relaxed) == 100));
    }

    #[test]
    fn a_panicking_part_panics_the_caller_and_the_pool_keeps_working() {
        let finished = AtomicUsize::new(0);
        let result = catch_unwind(AssertUnwindSafe(|| {
            run_parts(vec![0, 1, 2], &|i: usize| {
                if i == 1 {
                    panic!("part 1 fails");
                }
                finished.fetch_add(1, Ordering::Relaxed);
            })
        }));
        assert!(result.is_err());
        // Part 0 always ran; part 2 ran unless the pool was busy with another test (then the
        // parts run serially and the panic stops them).
        assert!(finished.load(Ordering::Relaxed) >= 1);
        // The pool still works afterwards.
        let sum = AtomicUsize::new(0);
        run_parts(vec![1, 2, 3], &|i: usize| {
            sum.fetch_add(i, Ordering::Relaxed);
        });
        assert_eq!(sum.load(Ordering::Relaxed), 6);
    }
}
