//! Memory and CPU of the processes under test, from `/proc`.
//!
//! `VmHWM` is the peak resident set since the process started, or since it was last reset by
//! writing `5` to `/proc/<pid>/clear_refs`. The run resets it when the load starts, so the
//! load's peak is not hidden by the setup's (sign-ups hash with Argon2 at about 19 MiB each).
//!
//! CPU time tells, on a small machine, which process the cores went to: the backend, the
//! database, the sidecar stand-in, or the load generator itself competing with them.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Memory {
    /// `VmHWM`: the peak resident set, in KiB.
    pub peak_kib: u64,
    /// `VmRSS`: the resident set now, in KiB.
    pub rss_kib: u64,
}

pub fn memory(pid: u32) -> std::io::Result<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    parse_status(&status).ok_or_else(|| std::io::Error::other(format!("no VmHWM/VmRSS for pid {pid}")))
}

/// Makes `VmHWM` start again from the current resident set. Needs the same user as the
/// process, or root.
pub fn reset_peak(pid: u32) -> std::io::Result<()> {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5")
}

fn parse_status(status: &str) -> Option<Memory> {
    let field = |name: &str| {
        status.lines().find_map(|line| {
            let rest = line.strip_prefix(name)?.strip_prefix(':')?;
            rest.trim().trim_end_matches("kB").trim().parse::<u64>().ok()
        })
    };
    Some(Memory { peak_kib: field("VmHWM")?, rss_kib: field("VmRSS")? })
}

/// `/proc/<pid>/stat` counts CPU time in `USER_HZ` ticks, which Linux fixes at 100 per second
/// for user space on every architecture it supports.
const TICKS_PER_SECOND: f64 = 100.0;

/// User plus system CPU seconds of `pid`, and with `children` of its direct children too
/// (PostgreSQL runs each connection as a child of the postmaster).
pub fn cpu_seconds(pid: u32, children: bool) -> std::io::Result<f64> {
    let own = parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat"))?)
        .ok_or_else(|| std::io::Error::other(format!("unreadable /proc/{pid}/stat")))?;
    let mut ticks = own.ticks;
    if children {
        for entry in std::fs::read_dir("/proc")?.flatten() {
            let is_pid = entry.file_name().to_str().is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()));
            // A process may exit between listing and reading: skip it.
            let Some(stat) = is_pid
                .then(|| std::fs::read_to_string(entry.path().join("stat")).ok())
                .flatten()
                .and_then(|s| parse_stat(&s))
            else {
                continue;
            };
            if stat.ppid == pid {
                ticks += stat.ticks;
            }
        }
    }
    Ok(ticks as f64 / TICKS_PER_SECOND)
}

/// CPU seconds of a PostgreSQL process, with whom it works for.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerProcess {
    pub pid: u32,
    pub name: String,
    pub cpu_seconds: f64,
}

/// Reads the CPU time of each `(pid, name)`, leaving out processes that have exited.
pub fn server_processes(listed: Vec<(u32, String)>) -> Vec<ServerProcess> {
    listed
        .into_iter()
        .filter_map(|(pid, name)| {
            Some(ServerProcess { pid, name, cpu_seconds: cpu_seconds(pid, false).ok()? })
        })
        .collect()
}

/// Cores busy per name between two readings `elapsed` seconds apart, busiest first, with how
/// many processes had the name. A process that started in between counts from zero; one that
/// exited in between is lost, which is why the services keep their connections open.
pub fn split_by_name(
    from: &[ServerProcess],
    to: &[ServerProcess],
    elapsed: f64,
) -> Vec<(String, usize, f64)> {
    let mut by_name: Vec<(String, usize, f64)> = Vec::new();
    for end in to {
        let start = from.iter().find(|p| p.pid == end.pid).map_or(0.0, |p| p.cpu_seconds);
        let busy = (end.cpu_seconds - start).max(0.0) / elapsed;
        match by_name.iter_mut().find(|(name, _, _)| *name == end.name) {
            Some((_, processes, cores)) => {
                *processes += 1;
                *cores += busy;
            }
            None => by_name.push((end.name.clone(), 1, busy)),
        }
    }
    by_name.sort_by(|a, b| b.2.total_cmp(&a.2));
    by_name
}

/// Busy and total CPU seconds of the whole machine since boot, from `/proc/stat`. Busy is all
/// but idle and I/O wait, so a window's busy share shows load from outside the benchmark too.
pub fn machine_cpu_seconds() -> std::io::Result<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/stat")?;
    parse_machine_stat(&stat).ok_or_else(|| std::io::Error::other("unreadable /proc/stat"))
}

fn parse_machine_stat(stat: &str) -> Option<(f64, f64)> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    // user nice system idle iowait irq softirq steal; guest time is already inside user.
    let ticks: Vec<u64> =
        line.split_whitespace().skip(1).take(8).map(|t| t.parse().ok()).collect::<Option<_>>()?;
    let total: u64 = ticks.iter().sum();
    let idle = ticks.get(3)? + ticks.get(4)?;
    Some(((total - idle) as f64 / TICKS_PER_SECOND, total as f64 / TICKS_PER_SECOND))
}

#[derive(Debug, PartialEq, Eq)]
struct Stat {
    ppid: u32,
    /// utime + stime.
    ticks: u64,
}

/// The command name (field 2) may hold spaces and parentheses, so fields are counted from
/// the last `)`: after it come state (3), ppid (4), ... utime (14), stime (15).
fn parse_stat(stat: &str) -> Option<Stat> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let number = |field: usize| fields.get(field - 3)?.parse::<u64>().ok();
    Some(Stat { ppid: u32::try_from(number(4)?).ok()?, ticks: number(14)? + number(15)? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_and_current_come_from_their_lines() {
        let status = "Name:\tbackend\nVmPeak:\t  900000 kB\nVmHWM:\t   81234 kB\nVmRSS:\t   70000 kB\n";
        assert_eq!(parse_status(status), Some(Memory { peak_kib: 81_234, rss_kib: 70_000 }));
        assert_eq!(parse_status("Name:\tx\n"), None);
    }

    #[test]
    fn server_cpu_is_split_by_name_over_the_window() {
        let at = |pid, name: &str, cpu_seconds| ServerProcess { pid, name: name.to_owned(), cpu_seconds };
        let from = [at(1, "todo-backend", 10.0), at(2, "todo-backend", 4.0), at(3, "walwriter", 1.0)];
        let to = [
            at(1, "todo-backend", 16.0),
            at(2, "todo-backend", 7.0),
            at(3, "walwriter", 1.5),
            // Connected during the window.
            at(4, "todo-ai-agent", 2.0),
        ];
        assert_eq!(
            split_by_name(&from, &to, 4.0),
            [
                ("todo-backend".to_owned(), 2, 2.25),
                ("todo-ai-agent".to_owned(), 1, 0.5),
                ("walwriter".to_owned(), 1, 0.125)
            ]
        );
    }

    #[test]
    fn cpu_ticks_are_counted_after_the_command_name() {
        let stat = "4242 (post gres: (idle)) S 17 4242 4242 0 -1 4194560 500 0 0 0 250 125 0 0 20 0 1 0 99";
        assert_eq!(parse_stat(stat), Some(Stat { ppid: 17, ticks: 375 }));
        assert_eq!(parse_stat("1 (init) S"), None);
    }

    #[test]
    fn machine_busy_time_leaves_out_idle_and_io_wait() {
        let stat = "cpu  600 0 100 250 50 0 0 0 0 0\ncpu0 300 0 50 125 25 0 0 0 0 0\n";
        assert_eq!(parse_machine_stat(stat), Some((7.0, 10.0)));
    }

    #[test]
    fn this_process_has_a_resident_set_and_cpu_time() {
        let me = memory(std::process::id()).unwrap();
        assert!(me.rss_kib > 0 && me.peak_kib >= me.rss_kib);
        assert!(cpu_seconds(std::process::id(), false).unwrap() >= 0.0);
    }
}
