//! Task instances and their grading: what a SWE-bench-style task is, and how a test log becomes
//! the SWE-bench report that says whether a patch resolved it.
//!
//! - [`instance`]: the task instance (SWE-bench I1 plus the SWE-smith and `srl` extensions) and
//!   loading it from JSONL, a JSON list or a JSON object keyed by instance id;
//! - [`log_parsers`]: one parser per test framework turning a raw test log into per-test statuses,
//!   and the log layouts (harness markers, `bash -x` traces, OpenHands evaluation logs) around it;
//! - [`grade`]: statuses against an instance's FAIL_TO_PASS / PASS_TO_PASS, giving the report;
//! - [`spec`]: the SWE-bench spec table (per repository and version: environment, test command,
//!   log parser, directive rule), embedded from `sandboxes/swe-specs.toml`.
//!
//! - [`taskdir`]: the tasks this project ships, one directory each;
//! - [`build`]: deriving FAIL_TO_PASS / PASS_TO_PASS and recording expert trajectories by running
//!   them in a sandbox;
//! - [`repos`]: finding an instance's repository and checking out its base commit;
//! - [`eval`]: evaluating predictions with SWE-bench's semantics;
//! - [`eval_script`]: the harness's eval script for an instance (test directives, test files,
//!   markers) and the test plan an evaluation runs (pure);
//! - [`setup_script`]: the environment and install steps of a spec as one script, with the
//!   offline substitutes for what tests download (pure);
//! - [`replay`]: re-executing recorded trajectories and comparing observations;
//! - [`images`]: the Docker image that holds an instance's environment (pure);
//! - [`env_build`]: building those images without a registry (`srl env build`).
//!
//! `instance`, `log_parsers`, `grade`, `spec`, `eval_script` and `setup_script` are pure (only `instance::load_instances` and
//! `spec::Specs::load` read a file);
//! `build`, `eval` and `replay` drive sandboxes.

pub mod build;
pub mod env_build;
pub mod eval;
pub mod eval_script;
pub mod grade;
pub mod images;
pub mod instance;
pub mod log_parsers;
pub mod mine;
pub mod replay;
pub mod repos;
pub mod setup_script;
pub mod spec;
pub mod taskdir;
