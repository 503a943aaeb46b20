//! The data of a training run: step instances read from JSONL, the held-out split by
//! trajectory, prompts encoded for the student, and the seeded shuffle of the training order.

use std::path::Path;

use anyhow::{bail, Context, Result};

use super::srl::Prompt;
use crate::policy::chat::{Template, Turn};
use crate::policy::tokenizer::TextTokenizer;
use crate::steps::StepInstance;

pub fn read_instances(path: &Path) -> Result<Vec<StepInstance>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read the step instances {}", path.display()))?;
    let mut instances = Vec::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let instance: StepInstance = serde_json::from_str(line)
            .with_context(|| format!("{}: line {}: not a srl.step/1 instance", path.display(), n + 1))?;
        instances.push(instance);
    }
    if instances.is_empty() {
        bail!("{}: no step instances", path.display());
    }
    Ok(instances)
}

/// A seeded Fisher–Yates shuffle (SplitMix64), so each seed sees the data in its own order.
pub fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed ^ 0x5eed_5eed_5eed_5eed;
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    for i in (1..items.len()).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

/// Training and held-out instances: the last `holdout` trajectories by id are held out.
pub fn split(instances: &[StepInstance], holdout: usize) -> (Vec<StepInstance>, Vec<StepInstance>) {
    let mut ids: Vec<&str> = instances.iter().map(|i| i.trajectory_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let held: Vec<&str> = ids[ids.len().saturating_sub(holdout)..].to_vec();
    instances.iter().cloned().partition(|i| !held.contains(&i.trajectory_id.as_str()))
}

/// Each instance's chat prompt plus the response prefix, as token ids, keeping those that fit.
pub fn encode_prompts<'a>(
    tokenizer: &TextTokenizer,
    template: Template,
    instances: &'a [StepInstance],
    response_prefix: &str,
    max_tokens: usize,
) -> Result<Vec<Prompt<'a>>> {
    let mut out = Vec::new();
    for instance in instances {
        let turns: Vec<Turn> = instance.messages.iter().map(|m| Turn { role: &m.role, content: &m.content }).collect();
        let ids = tokenizer.encode(&format!("{}{response_prefix}", template.render(&turns)))?;
        if ids.len() <= max_tokens {
            out.push(Prompt { ids, instance });
        } else {
            tracing::debug!("{}: prompt of {} tokens skipped (limit {max_tokens})", instance.id, ids.len());
        }
    }
    Ok(out)
}
