//! Supervised fine-tuning targets: the expert's response for each step instance, written in the
//! output contract the reward checks (`reward::format::write_response`) (`<think>` monologue `</think>` then the canonical action),
//! tokenized after the same prompt the SRL rollouts see. SFT is the paper's baseline and the
//! warm-up that teaches a small student the format before SRL.

use anyhow::{bail, Result};

use super::srl::Prompt;
use crate::policy::tokenizer::TextTokenizer;
use crate::reward::format::write_response;
use crate::steps::StepInstance;

/// The expert's full response for `instance`: `<think>` + thought (cut to `max_thought_chars`) +
/// `</think>` + the canonical action. An expert step without a thought gets a one-line
/// monologue, so every target keeps the contract's shape.
pub fn expert_response(instance: &StepInstance, include_thought: bool, max_thought_chars: usize) -> String {
    let thought = instance.target_thought.trim();
    let thought: String = if include_thought && !thought.is_empty() {
        thought.chars().take(max_thought_chars).collect::<String>().trim_end().to_string()
    } else {
        format!("Next I call {}.", instance.target_action.tool)
    };
    write_response(&thought, &instance.target)
}

/// The completion ids to train on: the expert response minus the response prefix (already part
/// of the prompt), then the end-of-turn token.
pub fn target_ids(
    tokenizer: &TextTokenizer,
    instance: &StepInstance,
    response_prefix: &str,
    include_thought: bool,
    max_thought_chars: usize,
) -> Result<Vec<u32>> {
    let response = expert_response(instance, include_thought, max_thought_chars);
    let Some(rest) = response.strip_prefix(response_prefix) else {
        bail!("response_prefix {response_prefix:?} does not start the expert's response {:?}…", head(&response));
    };
    let mut ids = tokenizer.encode(rest)?;
    let Some(end) = tokenizer.end_of_turn_id() else {
        bail!("the tokenizer has no end-of-turn or EOS token to end SFT targets with");
    };
    ids.push(end);
    Ok(ids)
}

fn head(text: &str) -> String {
    text.chars().take(40).collect()
}

/// The prompts and targets of SFT step `step`: `batch_size` examples from `cursor` on.
pub fn sft_batch(
    prompts: &[Prompt<'_>],
    targets: &[Vec<u32>],
    cursor: &mut usize,
    batch_size: usize,
) -> (Vec<Vec<u32>>, Vec<Vec<u32>>) {
    let (mut p, mut t) = (Vec::new(), Vec::new());
    for _ in 0..batch_size.min(prompts.len()) {
        p.push(prompts[*cursor].ids.clone());
        t.push(targets[*cursor].clone());
        *cursor = (*cursor + 1) % prompts.len();
    }
    (p, t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Action;

    fn instance(thought: &str) -> StepInstance {
        StepInstance {
            schema: crate::steps::SCHEMA.into(),
            id: "t/0".into(),
            trajectory_id: "t".into(),
            instance_id: None,
            step_index: 0,
            n_steps: 1,
            messages: vec![],
            target: crate::action::render(&Action::bash("ls")),
            target_action: Action::bash("ls"),
            target_thought: thought.into(),
        }
    }

    #[test]
    fn responses_follow_the_contract_and_pass_the_format_check() {
        for (thought, include) in [("Let me look around.", true), ("", true), ("secret", false)] {
            let response = expert_response(&instance(thought), include, 600);
            let reward = crate::reward::step_reward(
                &instance(thought).target,
                &response,
                &crate::reward::RewardConfig { autojunk: false },
            );
            assert!(reward.format_ok, "{response:?}: {:?}", reward.format_error);
            assert_eq!(reward.reward, 1.0);
            assert!(!response.contains("secret"));
        }
        assert!(expert_response(&instance("abcdef"), true, 3).starts_with("<think>\nabc\n</think>"));
    }
}
