//! Reading the `next` run log in time proportional to what was appended to
//! it since the last call, not to every call ever made.
//!
//! [`super::record`] needs two things from the log before it appends: the
//! asking agent's last decision (a `--result` is about that step) and every
//! unreadable line (reported, never dropped). Both are folds over the lines,
//! so a derived memo beside the log (`<slug>.memo.json`) keeps where they
//! are: the byte offset of each agent's last decision line and the line
//! number and offset of each unreadable line, with a description of the log
//! prefix it folded ([`crate::logprefix::Prefix`], as the saved status fold
//! describes its log). A call checks the description against the
//! file, folds only the lines after the prefix, and reads the few lines the
//! memo points at.
//!
//! The memo holds positions, never content: the decision a result is
//! recorded against and the reason each unreadable line is given are read
//! from the log itself, and a memo whose positions do not hold what it says
//! (a line that is not that agent's decision, or that parses, or an offset
//! that is not the start of a line inside the prefix) is dropped and the log
//! folded from its first line. So is a memo that is not of this version,
//! not JSON, or describes another file, a shorter one, one rewritten in
//! place at the same size, or other bytes at either end of its prefix (a
//! log appended to by another process, or by an older binary that does not
//! know the memo, is simply a longer log: its new lines are folded). It is
//! read and written under the run log's lock, written with
//! [`crate::fsutil::write_derived`] (atomically, not synced: a lost memo is a
//! full fold), and only once the log has grown [`SAVE_AFTER`] bytes past it.
//!
//! What a memo whose description matches can still get wrong without a full
//! read is limited to the log's own lines: it could name an earlier genuine
//! decision of the agent, leave an unreadable line out, or number lines
//! wrongly; writing such a memo takes write access to the git directory,
//! which is write access to the log itself.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io;
use std::path::Path;

use crate::fsutil::read_at;
use crate::logprefix::Prefix as Cursor;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Version of the memo's layout: another one is ignored (a full fold).
const MEMO_VERSION: u32 = 1;
/// The memo is written again once the log has grown this many bytes past
/// the prefix it describes (about fifty calls): below that, folding the new
/// lines costs less than writing the memo each call.
pub const SAVE_AFTER: u64 = 8 << 10;
/// Bytes read per step of a fold.
const CHUNK: u64 = 1 << 20;

/// What the folded lines of a log prefix leave: positions only.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Fold {
    /// The byte offset of each agent's last decision line.
    last: BTreeMap<String, u64>,
    /// `(line number, byte offset)` of each unreadable line, in file order.
    bad: Vec<(usize, u64)>,
}

#[derive(Serialize, Deserialize)]
struct MemoFile {
    version: u32,
    log: Cursor,
    fold: Fold,
}

/// The run log as [`super::record`] needs it before appending.
#[derive(Debug)]
pub struct Reading {
    /// The asking agent's last decision line, parsed.
    pub previous: Option<Value>,
    /// `(line number, why, torn)` of each unreadable line, in file order
    /// (torn: the last line, without its newline).
    pub bad: Vec<(usize, String, bool)>,
    /// The log ends in a line without a newline: an append closes it first.
    pub needs_newline: bool,
    /// The open log, the fold of its complete lines and where they end, to
    /// bring the memo up to date after the append ([`remember`]).
    file: Option<File>,
    fold: Fold,
    end: u64,
    lines: usize,
    /// The bytes read (`end` plus the unterminated last line).
    total: u64,
    /// The length of the prefix the memo described, when it was used.
    from: Option<u64>,
    /// A memo file was there (used or not): a rejected one is replaced.
    had_memo: bool,
}

/// Where the memo of the run log at `log` lives: beside it.
pub fn memo_path(log: &Path) -> std::path::PathBuf {
    crate::mission::run_log_memo_path(log)
}

/// Read the run log at `log` for `agent`: from its memo and the lines after
/// the prefix it describes, or (no memo, or one that does not hold) from the
/// first line. The caller holds the run log's lock.
pub fn read(log: &Path, agent: &str) -> io::Result<Reading> {
    let memo = memo_path(log);
    let file = match File::open(log) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Ok(Reading {
                previous: None,
                bad: Vec::new(),
                needs_newline: false,
                file: None,
                fold: Fold::default(),
                end: 0,
                lines: 0,
                total: 0,
                from: None,
                had_memo: false,
            })
        }
        Err(e) => return Err(e),
    };
    let (saved, had_memo) = load(&memo);
    let mut reading = None;
    if let Some((fold, cursor)) = saved {
        if cursor.holds(&file, &file.metadata()?)? {
            reading = fold_from(&file, fold, &cursor, agent)?;
        }
    }
    let mut r = match reading {
        Some(r) => r,
        None => fold_lines(&file, Fold::default(), (0, 0), agent, None, Vec::new())?,
    };
    r.had_memo = had_memo;
    r.file = Some(file);
    Ok(r)
}

/// After `appended` bytes were appended to the log `r` was read from: fold
/// them (and the line they closed) and save the memo when it is worth it.
/// Best effort: the memo is derived, so any failure only means the next
/// call folds more.
pub fn remember(r: Reading, log: &Path, appended: u64) {
    let Some(file) = r.file else {
        // A new log: the next call reads it whole (it is one or two lines).
        return;
    };
    let Ok(md) = file.metadata() else { return };
    // Another writer's bytes (or a rewrite) since the read: leave the memo.
    if md.len() != r.total + appended {
        return;
    }
    let mut fold = r.fold;
    let Ok(scan) = scan(&file, r.end, r.lines, |off, n, raw| {
        let _ = add_line(&mut fold, off, n, raw);
    }) else {
        return;
    };
    if !scan.fragment.is_empty() || scan.end != md.len() {
        return;
    }
    let grown = scan.end.saturating_sub(r.from.unwrap_or(0));
    let worth = grown >= SAVE_AFTER || (r.from.is_none() && r.had_memo);
    if !worth {
        return;
    }
    let Ok(log_prefix) = Cursor::of(&file, &md, scan.end, scan.lines) else {
        return;
    };
    let memo = MemoFile {
        version: MEMO_VERSION,
        log: log_prefix,
        fold,
    };
    if let Ok(text) = serde_json::to_vec(&memo) {
        let _ = crate::fsutil::write_derived(&memo_path(log), &text);
    }
}

/// The memo at `path` if it is a regular file of this version whose fold is
/// well formed for its cursor; and whether a file was there at all.
fn load(path: &Path) -> (Option<(Fold, Cursor)>, bool) {
    // A link, a FIFO or a directory planted there is not read (a FIFO would
    // block the open); it is replaced by the next save.
    match fs::symlink_metadata(path) {
        Ok(md) if md.is_file() => {}
        Ok(_) => return (None, true),
        Err(_) => return (None, false),
    }
    let Some(text) = crate::fsutil::read_capped(path, crate::bounds::MAX_TEXT_BYTES)
        .ok()
        .flatten()
    else {
        return (None, true);
    };
    let Ok(memo) = crate::bounds::json::<MemoFile>(&text) else {
        return (None, true);
    };
    let c = &memo.log;
    let f = &memo.fold;
    let in_prefix = |off: u64| off < c.bytes();
    let sound = memo.version == MEMO_VERSION
        && c.lines() as u64 <= c.bytes()
        && f.last.values().all(|&o| in_prefix(o))
        && f.bad
            .iter()
            .all(|&(n, o)| in_prefix(o) && n >= 1 && n <= c.lines())
        && f.bad.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 < w[1].1);
    (sound.then_some((memo.fold, memo.log)), true)
}

/// The memo's fold continued over the lines after its prefix, with the
/// positions it holds read back from the log; None when one of them does
/// not hold what the memo says.
fn fold_from(file: &File, fold: Fold, cursor: &Cursor, agent: &str) -> io::Result<Option<Reading>> {
    let mut bad = Vec::new();
    for &(n, off) in &fold.bad {
        let Some(raw) = line_at(file, off, cursor.bytes())? else {
            return Ok(None);
        };
        match parse(&raw) {
            Err(why) if !raw.is_empty() => bad.push((n, why, false)),
            _ => return Ok(None),
        }
    }
    let mut previous = None;
    if let Some(&off) = fold.last.get(agent) {
        let Some(raw) = line_at(file, off, cursor.bytes())? else {
            return Ok(None);
        };
        match parse(&raw) {
            Ok(v) if is_decision_of(&v, agent) => previous = Some(v),
            _ => return Ok(None),
        }
    }
    let mut r = fold_lines(
        file,
        fold,
        (cursor.bytes(), cursor.lines()),
        agent,
        previous,
        bad,
    )?;
    r.from = Some(cursor.bytes());
    Ok(Some(r))
}

/// Fold the lines of `file` from `start` (an offset just after a newline
/// and the newlines before it) onto `fold`, `previous` and `bad`.
fn fold_lines(
    file: &File,
    mut fold: Fold,
    start: (u64, usize),
    agent: &str,
    mut previous: Option<Value>,
    mut bad: Vec<(usize, String, bool)>,
) -> io::Result<Reading> {
    let end = scan(file, start.0, start.1, |off, n, raw| {
        match add_line(&mut fold, off, n, raw) {
            Ok(v) if is_decision_of(&v, agent) => previous = Some(v),
            Ok(_) => {}
            Err(why) => bad.push((n, why, false)),
        }
    })?;
    // The last line without its newline: read as it stands, reported as
    // torn, and left out of the fold (the next append closes it).
    if !end.fragment.is_empty() {
        match parse(&end.fragment) {
            Ok(v) if is_decision_of(&v, agent) => previous = Some(v),
            Ok(_) => {}
            Err(why) => bad.push((end.lines + 1, why, true)),
        }
    }
    Ok(Reading {
        previous,
        bad,
        needs_newline: !end.fragment.is_empty(),
        file: None,
        fold,
        end: end.end,
        lines: end.lines,
        total: end.end + end.fragment.len() as u64,
        from: None,
        had_memo: false,
    })
}

/// Fold one complete line (`n`: its number, `off`: where it starts) and
/// hand back what it parsed to.
fn add_line(fold: &mut Fold, off: u64, n: usize, raw: &[u8]) -> Result<Value, String> {
    let v = parse(raw);
    match &v {
        Ok(v) if v["event"] == "decision" => {
            if let Some(a) = v["agent"].as_str() {
                match fold.last.get_mut(a) {
                    Some(o) => *o = off,
                    None => {
                        fold.last.insert(a.to_string(), off);
                    }
                }
            }
        }
        Ok(_) => {}
        Err(_) => fold.bad.push((n, off)),
    }
    v
}

fn is_decision_of(v: &Value, agent: &str) -> bool {
    v["event"] == "decision" && v["agent"] == agent
}

/// One line of the log (without its newline) as JSON, or why it is unreadable.
fn parse(raw: &[u8]) -> Result<Value, String> {
    std::str::from_utf8(raw)
        .map_err(|e| format!("not valid UTF-8 (byte {})", e.valid_up_to()))
        // bounds: one line of the append-only run log (serde_json's depth limit).
        .and_then(|t| serde_json::from_str::<Value>(t).map_err(|e| e.to_string()))
}

/// Where a [`scan`] ended.
struct ScanEnd {
    /// Just after the last newline.
    end: u64,
    /// Newlines up to there.
    lines: usize,
    /// The bytes after the last newline.
    fragment: Vec<u8>,
}

/// Hand each non-empty complete line of `file` from `start` (just after a
/// newline, `lines` newlines before it) to `each(offset, number, bytes)`,
/// reading a chunk at a time. Memory: one chunk and one line.
fn scan(
    file: &File,
    start: u64,
    lines: usize,
    mut each: impl FnMut(u64, usize, &[u8]),
) -> io::Result<ScanEnd> {
    let size = file.metadata()?.len();
    let mut buf: Vec<u8> = Vec::new();
    // The file offset of buf[0], and of the next read.
    let mut base = start;
    let mut pos = start;
    let mut lines = lines;
    loop {
        let have = buf.len();
        let want = size.saturating_sub(pos).clamp(4096, CHUNK);
        buf.resize(have + usize::try_from(want).unwrap_or(4096), 0);
        let got = read_at(file, pos, &mut buf[have..])?;
        buf.truncate(have + got);
        if got == 0 {
            break;
        }
        pos += got as u64;
        let mut from = 0;
        let mut at = have;
        while let Some(i) = memchr::memchr(b'\n', &buf[at..]) {
            let nl = at + i;
            lines += 1;
            if nl > from {
                each(base + from as u64, lines, &buf[from..nl]);
            }
            from = nl + 1;
            at = from;
        }
        buf.drain(..from);
        base += from as u64;
    }
    Ok(ScanEnd {
        end: base,
        lines,
        fragment: buf,
    })
}

/// The line starting at `off` (without its newline) when `off` is the start
/// of a line that ends inside the first `len` bytes; None otherwise.
fn line_at(file: &File, off: u64, len: u64) -> io::Result<Option<Vec<u8>>> {
    if off >= len {
        return Ok(None);
    }
    // Read from the byte before the line: it must end the line before.
    let skip = usize::from(off > 0);
    let mut buf: Vec<u8> = Vec::new();
    let mut pos = off - skip as u64;
    while pos < len {
        let have = buf.len();
        let want = usize::try_from((len - pos).min(4096)).unwrap_or(4096);
        buf.resize(have + want, 0);
        let got = read_at(file, pos, &mut buf[have..])?;
        buf.truncate(have + got);
        if got == 0 {
            break;
        }
        pos += got as u64;
        if have == 0 && skip == 1 && buf.first() != Some(&b'\n') {
            return Ok(None);
        }
        let from = have.max(skip);
        if let Some(i) = memchr::memchr(b'\n', &buf[from..]) {
            buf.truncate(from + i);
            buf.drain(..skip);
            return Ok(Some(buf));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A log of decisions and results of three agents, unreadable lines
    /// and empty ones, over [`SAVE_AFTER`] bytes.
    fn lines() -> Vec<String> {
        let mut out = Vec::new();
        for i in 0..300 {
            let agent = ["a", "b", "c"][i % 3];
            out.push(match i % 11 {
                3 => "{\"event\": \"deci".to_string(),
                5 => String::new(),
                7 => "\u{fffd}[1, 2]".to_string(),
                8 => "[1, 2]".to_string(),
                9 => format!("{{\"event\": \"result\", \"agent\": \"{agent}\", \"n\": {i}}}"),
                _ => format!(
                    "{{\"event\": \"decision\", \"agent\": \"{agent}\", \"wp_id\": \"WP{i:02}\", \"pad\": \"{}\"}}",
                    "x".repeat(60)
                ),
            });
        }
        out
    }

    fn summary(r: &Reading) -> (Option<Value>, Vec<(usize, String, bool)>, bool) {
        (r.previous.clone(), r.bad.clone(), r.needs_newline)
    }

    /// Whatever prefix the memo describes, a read from it and the lines
    /// after it answers as a read of the whole log does, torn last line
    /// included.
    #[test]
    fn a_read_from_the_memo_answers_as_a_full_read() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("001-x.jsonl");
        let all = lines();
        let whole: String = all.iter().map(|l| format!("{l}\n")).collect();
        let torn = format!("{whole}{{\"event\": \"decision\", \"agent\": \"a\"}}");
        let torn_bad = format!("{whole}{{\"event\": \"deci");
        let mut cut = 0;
        let mut saved = 0;
        for (i, l) in all.iter().enumerate() {
            cut += l.len() + 1;
            if i % 7 != 0 || cut < SAVE_AFTER as usize {
                continue;
            }
            for end in [&whole, &torn, &torn_bad] {
                // The memo of the first `cut` bytes, then the rest appended.
                fs::write(&log, &whole.as_bytes()[..cut]).unwrap();
                let _ = fs::remove_file(memo_path(&log));
                remember(read(&log, "a").unwrap(), &log, 0);
                assert!(memo_path(&log).exists());
                saved += 1;
                let mut f = fs::OpenOptions::new().append(true).open(&log).unwrap();
                std::io::Write::write_all(&mut f, &end.as_bytes()[cut..]).unwrap();
                drop(f);
                for agent in ["a", "b", "c", "d"] {
                    let from_memo = read(&log, agent).unwrap();
                    assert_eq!(from_memo.from, Some(cut as u64));
                    let memo = fs::read(memo_path(&log)).unwrap();
                    fs::remove_file(memo_path(&log)).unwrap();
                    let full = read(&log, agent).unwrap();
                    assert_eq!(full.from, None);
                    fs::write(memo_path(&log), memo).unwrap();
                    assert_eq!(summary(&from_memo), summary(&full), "cut {cut}, {agent}");
                }
            }
        }
        assert!(saved > 10, "{saved}");
    }
}
