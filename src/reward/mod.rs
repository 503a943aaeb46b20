//! Rewards for a proposed action: placeholder.
pub mod difflib;
