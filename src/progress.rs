//! Progress on stderr for long runs: a bar on a terminal, nothing otherwise (never with --json).

use crate::index::update::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::time::Duration;

pub struct Bar {
    bar: ProgressBar,
}

impl Bar {
    pub fn new() -> Bar {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        Bar { bar }
    }
}

impl Default for Bar {
    fn default() -> Bar {
        Bar::new()
    }
}

impl Progress for Bar {
    fn phase(&self, name: &str) {
        self.bar.set_message(name.to_string());
    }

    fn set_total(&self, n: u64) {
        self.bar.set_length(n);
        self.bar.set_position(0);
        self.bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} {eta} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
    }

    fn tick(&self, path: &str) {
        self.bar.inc(1);
        let name = std::path::Path::new(path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.bar.set_message(name);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
