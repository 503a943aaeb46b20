//! srl: a harness for Supervised Reinforcement Learning of software-engineering agents.
//!
//! Modules in pipeline order:
//! - [`trajectory`]: expert trajectories in the normalized `srl.trajectory/1` format and the
//!   importers that read every scaffold's files into it;
//! - [`action`]: the action grammar (parse and canonically render tool calls);
//! - [`steps`]: one SRL training instance per expert step (prompt context + target action);
//! - [`reward`]: difflib-exact similarity, the format check and the step reward;
//! - [`agent`]: the student acting in a sandbox on task instances (`srl agent`);
//! - [`view`]: the read-only web page over trajectories, evaluations and runs (`srl view`);
//! - [`cli`]: the `srl` command line.
//!
//! [`jsonl`] and [`atomic`] are the file helpers shared by several stages.

pub mod action;
pub mod agent;
pub mod atomic;
pub mod cli;
pub mod jsonl;
pub mod policy;
pub mod reward;
pub mod sandbox;
pub mod steps;
pub mod task;
pub mod train;
pub mod trajectory;
pub mod view;
