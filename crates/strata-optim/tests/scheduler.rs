//! The `Scheduler` drives an optimizer's learning rate along a schedule and resumes from a
//! saved step.

use strata_optim::{Optimizer, Schedule, Scheduler, Sgd};

#[test]
fn attach_sets_the_rate_of_step_zero_and_step_advances() {
    let mut opt = Sgd::new(1.0);
    let mut sched =
        Scheduler::attach(Schedule::step_lr(2, 0.5).with_warmup(2, 0.5), &mut opt).unwrap();
    assert_eq!(sched.base_lr(), 1.0);
    // warmup 0.5, 0.75; then StepLr 1, 1, 0.5
    let mut seen = vec![opt.learning_rate()];
    for _ in 0..4 {
        sched.step(&mut opt);
        seen.push(opt.learning_rate());
    }
    assert_eq!(seen, vec![0.5, 0.75, 1.0, 1.0, 0.5]);
    assert_eq!(sched.current_step(), 4);
}

#[test]
fn set_current_step_and_apply_resume_a_run() {
    let mut opt = Sgd::new(0.0);
    let mut sched = Scheduler::new(Schedule::exponential(0.5), 8.0).unwrap();
    sched.set_current_step(3);
    sched.apply(&mut opt);
    assert_eq!(opt.learning_rate(), 1.0);
}

#[test]
fn scheduler_serializes_with_its_step() {
    let mut sched = Scheduler::new(Schedule::cosine_annealing(10, 0.0), 0.1).unwrap();
    sched.set_current_step(7);
    let json = serde_json::to_string(&sched).unwrap();
    let back: Scheduler = serde_json::from_str(&json).unwrap();
    assert_eq!(back, sched);
    assert_eq!(back.current_step(), 7);
}

#[test]
fn an_invalid_schedule_or_base_rate_is_refused() {
    assert!(Scheduler::new(Schedule::step_lr(0, 0.1), 0.1).is_err());
    assert!(Scheduler::new(Schedule::constant(), -0.1).is_err());
}
