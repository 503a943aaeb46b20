//! Progress on a terminal: an indicatif bar with count, rate and ETA (a spinner when the total
//! is unknown) drawn on stderr, with lines printed above it. When stderr is not a terminal
//! (CI, a pipe, a log file) there is no bar and the lines are printed as they are.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

pub struct Progress {
    bar: Option<ProgressBar>,
    unit: String,
}

fn style(total_known: bool, unit: &str) -> Option<ProgressStyle> {
    let template = if total_known {
        format!("[{{elapsed_precise}}] {{wide_bar}} {{pos}}/{{len}} {unit} ({{per_sec}}, ETA {{eta}}) {{msg}}")
    } else {
        format!("{{spinner}} [{{elapsed_precise}}] {{pos}} {unit} ({{per_sec}}) {{msg}}")
    };
    ProgressStyle::with_template(&template).ok()
}

impl Progress {
    /// `total` items (`None`: unknown), counted in `unit`s (`episodes`, `steps`…).
    pub fn new(total: Option<u64>, unit: &str) -> Progress {
        let unit = unit.to_string();
        if !std::io::stderr().is_terminal() {
            return Progress { bar: None, unit };
        }
        let bar = match total {
            Some(total) => ProgressBar::new(total),
            None => ProgressBar::new_spinner(),
        };
        if let Some(style) = style(total.is_some(), &unit) {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(250));
        Progress { bar: Some(bar), unit }
    }

    /// The total once it is known, with `done` items already behind (a resumed run).
    pub fn set_total(&self, total: u64, done: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(total);
            bar.set_position(done);
            if let Some(style) = style(true, &self.unit) {
                bar.set_style(style);
            }
        }
    }

    pub fn inc(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }

    /// A short status after the counts (`resolved 3, errors 0`).
    pub fn message(&self, text: String) {
        if let Some(bar) = &self.bar {
            bar.set_message(text);
        }
    }

    /// A line on stderr, above the bar.
    pub fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    /// Runs `f` (which prints to stdout) with the bar cleared, so their lines do not mix.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(bar) => bar.suspend(f),
            None => f(),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
