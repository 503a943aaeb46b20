//! The words the student reads: the system prompt (tool documentation and the output
//! contract) and the user message that carries the problem statement.
//!
//! The contract is the one the reward checks (`reward::format`): an inner monologue inside one
//! `<think>…</think>` block, then exactly one action as an XML function call. The system prompt
//! documents only the tools the expert trajectory uses plus `bash` and `submit`, so prompts do
//! not grow with tools that can never be the target.

use std::collections::BTreeSet;

/// Documentation of one tool, in the `<function=…>` syntax the student must write.
fn tool_doc(tool: &str) -> Option<&'static str> {
    Some(match tool {
        "bash" => {
            "bash: run a shell command in the repository.\n  <function=bash>\n  <parameter=command>COMMAND</parameter>\n  </function>"
        }
        "str_replace_editor" => {
            "str_replace_editor: view, create and edit files.\n  parameters: command (view | create | str_replace | insert | undo_edit), path,\n  file_text (create), old_str and new_str (str_replace), insert_line and new_str (insert),\n  view_range (view, e.g. [1, 40]).\n  <function=str_replace_editor>\n  <parameter=command>str_replace</parameter>\n  <parameter=path>/repo/file.py</parameter>\n  <parameter=old_str>\n  OLD LINES\n  </parameter>\n  <parameter=new_str>\n  NEW LINES\n  </parameter>\n  </function>"
        }
        "submit" => "submit: finish the task; the current changes to the repository are the solution.\n  <function=submit>\n  </function>",
        "finish" => "finish: declare the task done.\n  <function=finish>\n  </function>",
        "ipython" => "ipython: run Python code in a persistent interpreter.\n  <function=ipython>\n  <parameter=code>CODE</parameter>\n  </function>",
        _ => return None,
    })
}

const CONTRACT: &str = "You are a software engineer fixing an issue in a code repository. You act one step at a time: \
each of your replies proposes the single next action, and you will see what it produced.

Reply in exactly this form:
<think>
Your inner monologue: what you know so far, what you need next, and why. Be as long as you need.
</think>
<function=TOOL>
<parameter=NAME>VALUE</parameter>
</function>

Write exactly one function call, after the closing </think>. Do not solve the whole task at once.";

/// The system prompt for a trajectory whose expert used `tools`.
pub fn system_prompt<'a>(tools: impl IntoIterator<Item = &'a str>) -> String {
    let mut names: BTreeSet<&str> = tools.into_iter().collect();
    names.insert("bash");
    names.insert("submit");
    let mut out = String::from(CONTRACT);
    out.push_str("\n\nTools:\n");
    for name in &names {
        match tool_doc(name) {
            Some(doc) => out.push_str(doc),
            None => out.push_str(&format!("{name}: a tool of the original agent; write its arguments as parameters.")),
        }
        out.push_str("\n\n");
    }
    out.truncate(out.trim_end().len());
    out
}

/// The first user message: the problem, and how many earlier steps the context leaves out.
pub fn task_message(problem_statement: &str, omitted_rounds: usize) -> String {
    let mut out = format!("<problem_statement>\n{}\n</problem_statement>", problem_statement.trim());
    if omitted_rounds > 0 {
        let s = if omitted_rounds == 1 { "" } else { "s" };
        out.push_str(&format!("\n\n({omitted_rounds} earlier step{s} taken on this task are not shown.)"));
    }
    out
}

/// An observation as the user turn that follows an action.
pub fn observation_message(observation: &str) -> String {
    if observation.is_empty() {
        "OBSERVATION:\n(no output)".to_string()
    } else {
        format!("OBSERVATION:\n{observation}")
    }
}
