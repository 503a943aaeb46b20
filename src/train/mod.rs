//! Training the student with GRPO: the advantage and filtering arithmetic (`grpo`, pure), the
//! clipped policy loss (`loss`) and one optimisation step (`update`).
//!
//! What is here is the core of an SRL update; the `srl train` driver (configuration, rollouts
//! with step rewards and execution rewards, checkpoints, metrics) builds on it.

pub mod execution;
pub mod grpo;
pub mod loss;
pub mod srl;
pub mod update;
