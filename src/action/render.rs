//! Canonical text of an action: the SWE-agent XML function-call syntax.
//!
//! Parameters come in a fixed order (`command`, then `path`, then the rest alphabetically),
//! and a value that contains a newline is written on its own lines, so that
//! `parse(render(a)) == a` for every action whose values do not contain a closing tag.

use super::Action;

/// Renders `action` as one `<function=…>` block.
pub fn render(action: &Action) -> String {
    let mut out = String::with_capacity(64);
    out.push_str("<function=");
    out.push_str(&action.tool);
    out.push_str(">\n");
    for key in ordered_keys(action) {
        let value = &action.args[key];
        out.push_str("<parameter=");
        out.push_str(key);
        out.push('>');
        if value.contains('\n') {
            out.push('\n');
            out.push_str(value);
            out.push('\n');
        } else {
            out.push_str(value);
        }
        out.push_str("</parameter>\n");
    }
    out.push_str("</function>");
    out
}

/// `command` and `path` lead because that is how every scaffold documents its tools and how a
/// reader scans an edit; everything else follows in alphabetical order.
fn ordered_keys(action: &Action) -> Vec<&str> {
    const LEADING: [&str; 2] = ["command", "path"];
    let mut keys: Vec<&str> = LEADING.iter().copied().filter(|k| action.args.contains_key(*k)).collect();
    keys.extend(action.args.keys().map(String::as_str).filter(|k| !LEADING.contains(k)));
    keys
}
