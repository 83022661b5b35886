//! The progress bar on standard error: hosts done, a bar, elapsed time and an estimate of what
//! is left, redrawn at most ten times a second on one line.

use std::io::Write;
use std::time::{Duration, Instant};

/// Draws progress when enabled (a terminal, unless asked otherwise).
pub struct Progress {
    enabled: bool,
    start: Instant,
    last: Option<Instant>,
}

const WIDTH: usize = 30;

impl Progress {
    pub fn new(enabled: bool) -> Progress {
        Progress {
            enabled,
            start: Instant::now(),
            last: None,
        }
    }

    /// Records that `done` of `total` hosts are written.
    pub fn update(&mut self, done: usize, total: usize) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        let due = self
            .last
            .is_none_or(|t| now.duration_since(t) >= Duration::from_millis(100));
        if !due && done < total {
            return;
        }
        self.last = Some(now);
        let line = render(done, total, now.duration_since(self.start));
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{line}\x1b[K");
        if done >= total {
            let _ = writeln!(err);
        }
        let _ = err.flush();
    }
}

/// One progress line: `[#####.....] 1200/10000 hosts  12%  4 s, about 29 s left`.
pub fn render(done: usize, total: usize, elapsed: Duration) -> String {
    let total_nonzero = total.max(1);
    let filled = (done * WIDTH / total_nonzero).min(WIDTH);
    let bar = format!("{}{}", "#".repeat(filled), ".".repeat(WIDTH - filled));
    let secs = elapsed.as_secs_f64();
    let left = if done > 0 && done < total {
        let rest = secs / done as f64 * (total - done) as f64;
        format!(", about {:.0} s left", rest.ceil())
    } else {
        String::new()
    };
    format!(
        "[{bar}] {done}/{total} hosts {:>3}%  {:.0} s{left}",
        done * 100 / total_nonzero,
        secs.floor()
    )
}

#[cfg(test)]
mod tests {
    use super::render;
    use std::time::Duration;

    #[test]
    fn the_line_shows_share_and_estimate() {
        let line = render(250, 1000, Duration::from_secs(10));
        assert!(line.starts_with("[#######.......................] 250/1000 hosts  25%  10 s"));
        assert!(line.ends_with("about 30 s left"), "{line}");
        let done = render(1000, 1000, Duration::from_secs(40));
        assert!(!done.contains("left") && done.contains("100%"), "{done}");
    }
}
