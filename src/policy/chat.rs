//! Chat templates: chat messages → the exact prompt text a model was trained on.
//!
//! Templates are recognised from the model's own chat template (its Jinja source), not from
//! the model's name, and rendered by code written here: ChatML (SmolLM2 and many others) and
//! Qwen2/Qwen2.5 (ChatML with Qwen's default system prompt when a conversation has none).
//! Arbitrary Jinja is not executed; an unknown template is an error that names it.

use anyhow::{bail, Result};

/// A chat message, the same shape as the step instances' messages.
pub struct Turn<'a> {
    pub role: &'a str,
    pub content: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    ChatMl,
    Qwen,
}

const QWEN_DEFAULT_SYSTEM: &str = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";

impl Template {
    /// The template a model's Jinja chat template implements.
    pub fn detect(jinja: Option<&str>) -> Result<Template> {
        let Some(jinja) = jinja else { return Ok(Template::ChatMl) };
        if jinja.contains("<|im_start|>") {
            return Ok(if jinja.contains("You are Qwen") { Template::Qwen } else { Template::ChatMl });
        }
        let start: String = jinja.chars().take(80).collect();
        bail!("unsupported chat template (only ChatML and Qwen are rendered): {start:?}…")
    }

    /// The name written to run summaries and saved contracts.
    pub fn name(self) -> &'static str {
        match self {
            Template::ChatMl => "chatml",
            Template::Qwen => "qwen",
        }
    }

    /// The prompt for `turns`, ending where the assistant's reply begins.
    pub fn render(self, turns: &[Turn<'_>]) -> String {
        let mut out = String::new();
        if self == Template::Qwen && turns.first().is_none_or(|t| t.role != "system") {
            push_chatml(&mut out, "system", QWEN_DEFAULT_SYSTEM);
        }
        for turn in turns {
            push_chatml(&mut out, turn.role, turn.content);
        }
        out.push_str("<|im_start|>assistant\n");
        out
    }
}

fn push_chatml(out: &mut String, role: &str, content: &str) {
    out.push_str("<|im_start|>");
    out.push_str(role);
    out.push('\n');
    out.push_str(content);
    out.push_str("<|im_end|>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(template: Template, turns: &[(&str, &str)], expect: &str) {
        let turns: Vec<Turn> = turns.iter().map(|(role, content)| Turn { role, content }).collect();
        assert_eq!(template.render(&turns), expect);
    }

    #[test]
    fn chatml() {
        check(
            Template::ChatMl,
            &[("system", "S"), ("user", "Q")],
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n",
        );
    }

    #[test]
    fn qwen_adds_its_default_system_prompt_only_when_missing() {
        check(
            Template::Qwen,
            &[("user", "Q")],
            "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n",
        );
        check(Template::Qwen, &[("system", "S")], "<|im_start|>system\nS<|im_end|>\n<|im_start|>assistant\n");
    }

    #[test]
    fn detection() {
        assert_eq!(Template::detect(Some("{% for m in messages %}<|im_start|>{{m.role}}")).unwrap(), Template::ChatMl);
        assert_eq!(Template::detect(Some("<|im_start|>system\nYou are Qwen, created by")).unwrap(), Template::Qwen);
        assert!(Template::detect(Some("[INST] {{ m }} [/INST]")).is_err());
    }
}
