//! This process's CPU time (Linux `/proc/self/stat`).

/// CPU seconds used so far by this process and by its children that have ended (user +
/// system; Linux `/proc/self/stat`), `None` elsewhere.
pub(crate) fn cpu_seconds() -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces; the fields after it start past its ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<f64> = rest
        .split_whitespace()
        .skip(11)
        .take(4)
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    // utime, stime, cutime, cstime, in clock ticks: USER_HZ, 100 on every Linux build.
    (f.len() == 4).then(|| ((f[0] + f[1]) / 100.0, (f[2] + f[3]) / 100.0))
}

/// Measures CPU time from [`CpuClock::start`] on (Linux; `None` elsewhere).
#[derive(Debug, Clone, Copy)]
pub(crate) struct CpuClock(Option<(f64, f64)>);

impl CpuClock {
    pub(crate) fn start() -> Self {
        Self(cpu_seconds())
    }

    /// CPU seconds since the start: this process's, and its children's that have ended.
    pub(crate) fn elapsed(&self) -> Option<(f64, f64)> {
        let (before, now) = (self.0?, cpu_seconds()?);
        Some((now.0 - before.0, now.1 - before.1))
    }
}

/// CPU milliseconds per unit from CPU `seconds` over `units`; `None` without either.
pub(crate) fn cpu_ms_per_unit(seconds: Option<f64>, units: u64) -> Option<f64> {
    seconds
        .filter(|_| units > 0)
        .map(|s| s * 1000.0 / units as f64)
}
