//! Training the student: GRPO's advantage and filtering arithmetic (`grpo`, pure), the clipped
//! policy loss (`loss`), optimisation steps (`update`, `optim`), SRL rollouts with step rewards
//! (`srl`) and execution rewards (`execution`), SFT targets (`sft`), greedy evaluation
//! (`evaluate`), checkpoints (`checkpoint`), the rollouts log (`rollouts`), the `srl train` driver (`run`, `config`) and its
//! plots (`report`); `student` is the model being trained (all weights, or LoRA adapters).

pub mod checkpoint;
pub mod config;
pub mod data;
pub mod evaluate;
pub mod execution;
pub mod grpo;
pub mod loss;
pub mod optim;
pub mod report;
pub mod rlvr;
pub mod rollouts;
pub mod run;
pub mod sft;
pub mod srl;
pub mod student;
pub mod update;
