//! The floor under finalize-tasks' first run: what writing N small files costs
//! on this disk, with nothing else around it, each file old-or-new at every
//! instant (a temp file beside it, renamed over it).
//!
//!   cargo run --release --locked --example write_floor -- DIR [N] [RUNS]
//!
//! DIR must be on the disk to measure (it is created, and emptied between
//! runs); N defaults to 1,000 files of 300 bytes, RUNS to 5. Each run writes
//! into a directory made (and filled with the old files) one run earlier, so
//! no run pays for inodes freed just before it. Three ways, each printed as the
//! median wall and CPU (user+sys of this process, all threads) of RUNS runs:
//!
//! - `fsync each`: temp file, fsync it, rename, one directory fsync at the
//!   end; the fsyncs on 8 threads (what `fsutil::atomic_write_all` does);
//! - `syncfs once`: every temp file written, ONE `syncfs` of the filesystem,
//!   every rename, one directory fsync;
//! - `no sync`: temp files and renames only (durable whenever the kernel
//!   flushes; the bare cost of the files).
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn cpu_us() -> u64 {
    // SAFETY: getrusage fills the zeroed struct it is given; RUSAGE_SELF is valid.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
        ru
    };
    let us = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    us(ru.ru_utime) + us(ru.ru_stime)
}

fn fill(dir: &Path, n: usize) {
    fs::create_dir_all(dir).unwrap();
    for i in 0..n {
        fs::write(dir.join(format!("WP{i:04}.md")), old_text(i)).unwrap();
    }
}

fn old_text(i: usize) -> String {
    format!("---\nwork_package_id: WP{i:04}\ntitle: Part {i}\n---\n\n# Part {i}\n")
}

fn new_text(i: usize) -> String {
    let mut s = format!("---\nwork_package_id: WP{i:04}\ntitle: Part {i}\ndependencies: []\n");
    while s.len() < 280 {
        s.push_str("planning_base_branch: main\n");
    }
    s.push_str("---\n\n# Part\n");
    s
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    FsyncEach,
    SyncfsOnce,
    NoSync,
}

fn write_all(dir: &Path, n: usize, mode: Mode) {
    let write_temp = |i: usize| -> PathBuf {
        let tmp = dir.join(format!(".WP{i:04}.md.tmp"));
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .unwrap();
        f.write_all(new_text(i).as_bytes()).unwrap();
        if mode == Mode::FsyncEach {
            f.sync_all().unwrap();
        }
        tmp
    };
    let temps: Vec<PathBuf> = if mode == Mode::FsyncEach {
        let ids: Vec<usize> = (0..n).collect();
        std::thread::scope(|s| {
            let hs: Vec<_> = ids
                .chunks(n.div_ceil(8))
                .map(|c| s.spawn(move || c.iter().map(|&i| write_temp(i)).collect::<Vec<_>>()))
                .collect();
            hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
        })
    } else {
        (0..n).map(write_temp).collect()
    };
    let d = fs::File::open(dir).unwrap();
    if mode == Mode::SyncfsOnce {
        // SAFETY: syncfs takes any open descriptor on the filesystem.
        assert_eq!(unsafe { libc::syncfs(d.as_raw_fd()) }, 0);
    }
    for (i, t) in temps.iter().enumerate() {
        fs::rename(t, dir.join(format!("WP{i:04}.md"))).unwrap();
    }
    if mode != Mode::NoSync {
        d.sync_all().unwrap();
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let root = PathBuf::from(args.get(1).expect("usage: write_floor DIR [N] [RUNS]"));
    let n: usize = args.get(2).map_or(1000, |s| s.parse().unwrap());
    let runs: usize = args.get(3).map_or(5, |s| s.parse().unwrap());
    let modes = [
        ("fsync each (8 threads)", Mode::FsyncEach),
        ("syncfs once", Mode::SyncfsOnce),
        ("no sync", Mode::NoSync),
    ];
    // Every directory filled in advance: runs * modes, plus one spare.
    let dirs: Vec<PathBuf> = (0..runs * modes.len())
        .map(|k| root.join(format!("run{k}")))
        .collect();
    for d in &dirs {
        fill(d, n);
    }
    println!("{n} files of ~300 bytes, median of {runs} runs, ms");
    println!("| way | wall | CPU |");
    println!("|---|---|---|");
    let mut k = 0;
    for (label, mode) in modes {
        let (mut walls, mut cpus) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let (t0, c0) = (Instant::now(), cpu_us());
            write_all(&dirs[k], n, mode);
            walls.push(t0.elapsed().as_secs_f64() * 1e3);
            cpus.push((cpu_us() - c0) as f64 / 1e3);
            k += 1;
        }
        println!("| {label} | {:.1} | {:.1} |", median(walls), median(cpus));
    }
    for d in &dirs {
        let _ = fs::remove_dir_all(d);
    }
}
