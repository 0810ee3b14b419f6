//! A derived memo of lanes.json as a command acting on the lanes reads it
//! ([`super::LanesManifest::for_mission_acting`]), kept between commands.
//!
//! At 5,000 work packages lanes.json is a megabyte of JSON (its
//! `collapse_report` about half), and every implement, review and move's
//! guard parsed all of it to learn a few lanes. The memo holds what that
//! read kept, and the identity of the lanes.json it was read from: device,
//! inode, size, modification and change times (ns). Its layout is postcard
//! (a compact binary layout) for the mission's names, and the lanes packed
//! (`acting::Packed`): a table of where each string of every lane ends and
//! how many each list has, then every string of every lane in one text, to
//! the end of the file. Reading it back checks every id in one pass over
//! that text, where it was read (nothing is copied); a lane's
//! [`super::ExecLane`] is built only when a command looks that lane up
//! ([`super::ActingLanes`]), so a claim at 5,000 work packages does not
//! allocate 10,000 strings to use a few.
//!
//! It lives in the repository's git directory,
//! `<git-common-dir>/spec-kitty/lanes-memo/<slug>-<tag>` (`tag`: a hash of the
//! mission directory's path from the repository's top, the git common
//! directory's parent, so that a copy or move of the whole project finds its
//! memos and the content check below vouches for them; of its real path when
//! it is not under that top), never tracked, never outside the project; a
//! project that is not a git repository keeps none.
//!
//! A lanes.json under [`MIN_BYTES`] keeps no memo: it is parsed as before.
//!
//! The memo also records the length and CRC-32 of the bytes it was parsed
//! from ([`Content`]). When the identity differs (a copy of the project, a
//! `git checkout` that wrote the same bytes again, a `touch`), lanes.json is
//! read and, when its length and CRC-32 are the memo's, the memo stands for
//! it (and is written again under the new identity) without a parse. A
//! different file of the same length whose CRC-32 matches by chance (one in
//! four billion) would be read as the memo's version: every id in it was
//! checked, and is checked again, as for any read.
//!
//! It is never trusted over the file. A memo is used only when lanes.json
//! has the identity it records and last changed (its change time, which
//! every write and `touch` moves) before the reader that wrote the memo
//! stat the file, by more than the clock's granularity, and before the memo
//! itself was written: a file changed in the same instant is "racily clean",
//! as git says, and parsed again. What a memo gives is checked as the file's
//! text is, before any of it is used (every id [`super::LanesManifest::validate`]
//! checks, by the same grammars; the caller checks the mission); a memo
//! that is missing, unreadable, of another format version ([`MAGIC`]),
//! truncated, padded, garbage, whose table does not describe its text
//! exactly, or that names an id its grammar refuses is no memo: lanes.json
//! is parsed, and refused with the file's own error when it is bad. A memo
//! is written only from a successful parse (atomically, not synced:
//! [`crate::fsutil::write_memo`]), so a lanes.json that does not parse is
//! parsed, and fails, every time.

use std::borrow::Cow;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::acting::{ActingLanes, Packed, Rest};
use super::model::LanesManifest;
use crate::ids::IdKind;

/// The first bytes of every memo: what the file is, and its layout's version
/// (a memo of another version is no memo).
pub const MAGIC: &[u8; 12] = b"sk-lanes\0\0\0\x03";

/// A lanes.json smaller than this is parsed, never memoized: parsing it
/// costs less than the file a memo is (about 26 instructions a byte against
/// a file's creation, read and checks; 64 KiB is some 250 work packages).
pub const MIN_BYTES: u64 = 64 * 1024;

/// A memo larger than this is not read (lanes.json itself is capped at
/// [`crate::bounds::MAX_JSON_BYTES`], and its memo is smaller).
const MAX_MEMO_BYTES: u64 = crate::bounds::MAX_JSON_BYTES as u64;

/// How far file times may lag the system clock on a filesystem that keeps
/// nanoseconds (the kernel stamps files with a coarse clock that ticks every
/// 1-10 ms), and on one that keeps whole seconds (FAT: two).
const SLACK_NS: u64 = 20_000_000;
const COARSE_SLACK_NS: u64 = 2_000_000_000;

/// What identifies one version of lanes.json between commands: device,
/// inode, size, modification and change times (ns since the epoch).
pub type Identity = [u64; 5];

/// The [`Identity`] of a file from its metadata; None where the platform
/// keeps no change time (no memo is kept there).
#[cfg(unix)]
pub fn identity(md: &fs::Metadata) -> Option<Identity> {
    use std::os::unix::fs::MetadataExt;
    let ns = |s: i64, n: i64| -> Option<u64> {
        u64::try_from(s)
            .ok()?
            .checked_mul(1_000_000_000)?
            .checked_add(u64::try_from(n).ok()?)
    };
    Some([
        md.dev(),
        md.ino(),
        md.size(),
        ns(md.mtime(), md.mtime_nsec())?,
        ns(md.ctime(), md.ctime_nsec())?,
    ])
}

#[cfg(not(unix))]
pub fn identity(_: &fs::Metadata) -> Option<Identity> {
    None
}

/// The system clock, ns since the epoch.
pub fn now_ns() -> Option<u64> {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    u64::try_from(d.as_nanos()).ok()
}

/// How far the times of the file with identity `id` may lag the clock.
fn slack_of(id: &Identity) -> u64 {
    if id[3].is_multiple_of(1_000_000_000) && id[4].is_multiple_of(1_000_000_000) {
        COARSE_SLACK_NS
    } else {
        SLACK_NS
    }
}

/// Where the memo of the lanes.json at `lanes_file` lives under the git
/// common directory `common`; None when the mission directory's name is not
/// a mission slug (such a lanes.json is refused by the mission check anyway)
/// or its real path cannot be told.
pub fn path_for(common: &Path, lanes_file: &Path) -> Option<PathBuf> {
    let dir = lanes_file.parent()?;
    let slug = dir.file_name()?.to_str()?;
    if !IdKind::MissionSlug.accepts(slug) {
        return None;
    }
    let real = fs::canonicalize(dir).ok()?;
    // Under the repository's top (the common directory's parent): named by
    // the path from there, so a copy or move of the whole project (its .git
    // with it) finds its memos, which the content check then vouches for.
    // Elsewhere (a worktree outside the project): by the real path.
    let top = common.parent().and_then(|t| fs::canonicalize(t).ok());
    let key = match top.as_deref().and_then(|t| real.strip_prefix(t).ok()) {
        Some(inside) => format!("in:{}", inside.to_string_lossy()),
        None => format!("at:{}", real.to_string_lossy()),
    };
    let digest = ring::digest::digest(&ring::digest::SHA256, key.as_bytes());
    let tag: String = digest
        .as_ref()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    Some(
        common
            .join("spec-kitty")
            .join("lanes-memo")
            .join(format!("{slug}-{tag}")),
    )
}

/// A memo's content after [`MAGIC`]: when and of which file it was read,
/// then the acting read: [`LanesManifest`]'s fields but its lanes, and how
/// long the lanes' table is. postcard writes every field, in order, with no
/// names. The lanes packed (`Packed`) follow: the table, then the text to
/// the end of the file (read where it lies, not copied).
#[derive(Serialize, Deserialize)]
struct Record<'a> {
    /// The identity of lanes.json, stat before it was read.
    file: Identity,
    /// The system clock (ns) just before that stat.
    taken: u64,
    /// How far file times may lag that clock.
    slack: u64,
    /// The length and CRC-32 of the bytes the memo was parsed from.
    content: Content,
    version: u32,
    mission_slug: &'a str,
    mission_id: &'a str,
    mission_branch: &'a str,
    target_branch: &'a str,
    computed_at: &'a str,
    computed_from: &'a str,
    #[serde(borrow)]
    planning_artifact_wps: Vec<&'a str>,
    /// The length in bytes of the lanes' table after the record.
    table: u64,
}

/// The length and CRC-32 of a lanes.json's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Content {
    len: u64,
    crc: u32,
}

impl Content {
    pub fn of(bytes: &[u8]) -> Content {
        Content {
            len: bytes.len() as u64,
            crc: crc32fast::hash(bytes),
        }
    }
}

/// The bytes of the memo of `manifest` (an acting read: its
/// `collapse_report` is not kept), parsed from bytes of `content`, read
/// from the lanes.json whose identity was `file` when stat at `taken` (ns).
pub fn encode(
    manifest: &LanesManifest,
    file: Identity,
    taken: u64,
    content: Content,
) -> Option<Vec<u8>> {
    encode_lanes(&ActingLanes::parsed(manifest.clone()), file, taken, content)
}

/// [`encode`] of an acting read (one read from a memo is written as it is,
/// no lane built).
fn encode_lanes(
    lanes: &ActingLanes,
    file: Identity,
    taken: u64,
    content: Content,
) -> Option<Vec<u8>> {
    let packed;
    let (text, table, rest) = match lanes.packed_lanes() {
        Some((p, rest)) => {
            let (text, table) = p.parts()?;
            (text, Cow::Borrowed(table), rest)
        }
        None => {
            let m = lanes.manifest();
            packed = (
                Packed::of(&m.lanes)?,
                Rest {
                    computed_at: m.computed_at.clone(),
                    computed_from: m.computed_from.clone(),
                    planning_artifact_wps: m.planning_artifact_wps.clone(),
                },
            );
            let table = packed.0 .1.iter().flat_map(|w| w.to_le_bytes()).collect();
            (packed.0 .0.as_str(), Cow::Owned(table), &packed.1)
        }
    };
    let record = Record {
        file,
        taken,
        slack: slack_of(&file),
        content,
        version: lanes.version,
        mission_slug: &lanes.mission_slug,
        mission_id: &lanes.mission_id,
        mission_branch: &lanes.mission_branch,
        target_branch: &lanes.target_branch,
        computed_at: &rest.computed_at,
        computed_from: &rest.computed_from,
        planning_artifact_wps: rest
            .planning_artifact_wps
            .iter()
            .map(String::as_str)
            .collect(),
        table: table.len() as u64,
    };
    let mut bytes = postcard::to_extend(&record, MAGIC.to_vec()).ok()?;
    bytes.extend_from_slice(&table);
    bytes.extend_from_slice(text.as_bytes());
    Some(bytes)
}

/// What a memo's bytes say: the identity of the file it was read from, when
/// (`taken`, ns) and with what slack, the content it was parsed from, and the
/// acting read. None for bytes that are not a whole memo of this version, or
/// that name an id its grammar refuses (every id is checked here, in one
/// pass over the lanes' text: `Packed::new`).
fn decode_lanes(bytes: Vec<u8>) -> Option<(Identity, u64, u64, Content, ActingLanes)> {
    let body = bytes.strip_prefix(MAGIC.as_slice())?;
    let (r, rest) = postcard::take_from_bytes::<Record>(body).ok()?;
    // The file's name is only for an error message, and this one is not shown.
    let here = Path::new("lanes.json");
    super::model::validate_names(here, r.mission_slug, r.mission_branch, r.target_branch).ok()?;
    if !r
        .planning_artifact_wps
        .iter()
        .all(|w| IdKind::Wp.accepts(w))
    {
        return None;
    }
    let header = [
        r.mission_slug,
        r.mission_id,
        r.mission_branch,
        r.target_branch,
    ]
    .map(str::to_string);
    let rest_of = Rest {
        computed_at: r.computed_at.to_string(),
        computed_from: r.computed_from.to_string(),
        planning_artifact_wps: r
            .planning_artifact_wps
            .iter()
            .map(|w| w.to_string())
            .collect(),
    };
    let (file, taken, slack, content, version) = (r.file, r.taken, r.slack, r.content, r.version);
    let table_at = bytes.len() - rest.len();
    let text_at = table_at.checked_add(usize::try_from(r.table).ok()?)?;
    let packed = Packed::new(bytes, table_at..text_at, text_at)?;
    let lanes = ActingLanes::packed(header, version, rest_of, packed);
    Some((file, taken, slack, content, lanes))
}

/// [`decode_lanes`] with every lane built: what a memo holds, as a
/// [`LanesManifest`] (for tests and tools; a command builds only the lanes
/// it looks up).
pub fn decode(bytes: &[u8]) -> Option<(Identity, u64, u64, Content, LanesManifest)> {
    let (file, taken, slack, content, lanes) = decode_lanes(bytes.to_vec())?;
    Some((file, taken, slack, content, lanes.manifest().clone()))
}

/// A memo read back, every id in it checked.
pub struct Loaded {
    /// The acting read it holds.
    pub lanes: ActingLanes,
    /// It vouches for lanes.json by identity (see the module docs): the file
    /// need not be read.
    pub current: bool,
    /// The content it was parsed from: when not `current`, it stands for a
    /// lanes.json whose bytes have this length and CRC-32.
    pub content: Content,
}

/// The acting read of the lanes.json whose identity is `now`, from the memo
/// at `memo`, when every id in it follows its grammar; None otherwise (the
/// caller parses the file). Whether it vouches for the file by identity, or
/// only for bytes of its [`Content`], is in [`Loaded`].
pub fn load(memo: &Path, now: &Identity) -> Option<Loaded> {
    let mut f = fs::File::open(memo).ok()?;
    let md = f.metadata().ok()?;
    if !md.is_file() || md.len() > MAX_MEMO_BYTES {
        return None;
    }
    let written = crate::fsutil::mtime_ns(&md);
    let mut bytes = Vec::with_capacity(usize::try_from(md.len()).ok()?);
    (&mut f)
        .take(MAX_MEMO_BYTES + 1)
        .read_to_end(&mut bytes)
        .ok()?;
    let (file, taken, slack, content, lanes) = decode_lanes(bytes)?;
    let current = file == *now && settled(now, taken, slack, written);
    Some(Loaded {
        lanes,
        current,
        content,
    })
}

/// The file with identity `id` last changed before the memo's reader stat
/// it (`taken`, less the clock's `slack`) and before the memo was
/// `written`: a later change would show in its identity.
fn settled(id: &Identity, taken: u64, slack: u64, written: u64) -> bool {
    let changed = id[4].max(id[3]);
    changed < taken.saturating_sub(slack.max(slack_of(id))) && changed < written
}

/// Write the memo of `manifest` (parsed from the lanes.json whose identity
/// was `file` at `taken`, and still is) at `memo`, when a reader could use
/// it (the file is not racily clean). A failure only costs the next command
/// a parse.
pub fn save(memo: &Path, lanes: &ActingLanes, file: Identity, taken: u64, content: Content) {
    if !settled(&file, taken, 0, u64::MAX) {
        return;
    }
    let Some(bytes) = encode_lanes(lanes, file, taken, content) else {
        return;
    };
    if let Some(dir) = memo.parent() {
        if crate::fsutil::create_dir_all(dir).is_err() {
            return;
        }
    }
    crate::env::pause_at(crate::env::PausePoint::LanesMemoBeforeWrite);
    let _ = crate::fsutil::write_memo(memo, &bytes);
}

/// Wait until the file at `path` last changed longer ago than the slack,
/// so a read of it now may leave a memo (the clock, not another process, is
/// waited for).
#[cfg(test)]
pub(crate) fn settle(path: &Path) {
    let id = identity(&fs::metadata(path).unwrap()).unwrap();
    while now_ns().unwrap() <= id[4].max(id[3]) + slack_of(&id) + 1_000_000 {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> LanesManifest {
        LanesManifest::parse(
            Path::new("lanes.json"),
            r#"{"version": 1, "mission_slug": "001-x", "mission_id": "01ABC", "mission_branch": "kitty/mission-001-x",
                "target_branch": "main", "computed_at": "2026-01-01T00:00:00+00:00", "computed_from": "abc",
                "lanes": [{"lane_id": "lane-a", "wp_ids": ["WP01", "WP02"], "write_scope": ["src/**"],
                           "predicted_surfaces": ["core"], "depends_on_lanes": [], "parallel_group": 0},
                          {"lane_id": "lane-b", "wp_ids": ["WP03"], "write_scope": [], "depends_on_lanes": ["lane-a"], "parallel_group": 1}],
                "planning_artifact_wps": ["WP04"]}"#,
        )
        .unwrap()
    }

    /// 2026-12-06 in ns; a file changed a second before.
    const TAKEN: u64 = 1_796_000_000_123_456_789;
    const FILE: Identity = [1, 2, 3, TAKEN - 2_000_000_000, TAKEN - 1_000_000_000];

    #[test]
    fn a_memo_reads_back_as_it_was_written() {
        let m = manifest();
        let content = Content::of(m.render().as_bytes());
        let bytes = encode(&m, FILE, TAKEN, content).unwrap();
        assert!(bytes.starts_with(MAGIC));
        let (file, taken, slack, back_content, back) = decode(&bytes).unwrap();
        assert_eq!((file, taken, slack), (FILE, TAKEN, SLACK_NS));
        assert_eq!(back_content, content);
        assert_eq!(back, m);
        // Far smaller than the JSON it stands for.
        assert!(bytes.len() < m.render().len() / 2, "{}", bytes.len());
    }

    /// Another version, any truncation, a byte more, garbage: no memo.
    #[test]
    fn only_a_whole_memo_of_this_version_decodes() {
        let bytes = encode(&manifest(), FILE, TAKEN, Content::of(b"{}")).unwrap();
        for n in 0..bytes.len() {
            assert!(decode(&bytes[..n]).is_none(), "cut at {n}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode(&longer).is_none());
        // The previous versions (lanes decoded whole; no content check) and
        // the next one.
        for v in [1, 2, 4] {
            let mut other = bytes.clone();
            other[MAGIC.len() - 1] = v;
            assert!(decode(&other).is_none(), "version {v}");
        }
        assert!(decode(b"{\"version\": 1}").is_none());
        // A length that claims more than there is allocates nothing big.
        let mut huge = MAGIC.to_vec();
        huge.extend([0xff; 40]);
        assert!(decode(&huge).is_none());
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..2000 {
            let mut g = MAGIC.to_vec();
            for _ in 0..(seed % 97) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                g.push(seed.to_le_bytes()[0]);
            }
            // Garbage may decode to something; whatever it is, nothing panics,
            // and `load` still checks every id.
            let _ = decode(&g);
        }
    }

    #[test]
    fn a_file_changed_near_or_after_the_read_is_racily_clean() {
        // Changed a second before the stat: settled.
        assert!(settled(&FILE, TAKEN, SLACK_NS, TAKEN));
        // Changed within the slack of the stat, or after it.
        let mut near = FILE;
        near[4] = TAKEN - SLACK_NS;
        assert!(!settled(&near, TAKEN, SLACK_NS, TAKEN + 1));
        near[4] = TAKEN + 5;
        assert!(!settled(&near, TAKEN, SLACK_NS, TAKEN + 10));
        // Not before the memo was written.
        assert!(!settled(&FILE, TAKEN, SLACK_NS, FILE[4]));
        // A modification time later than the change time counts (touch -d).
        let mut later = FILE;
        later[3] = TAKEN;
        assert!(!settled(&later, TAKEN, SLACK_NS, TAKEN + 1));
        // Whole seconds: two seconds of slack, whatever the memo says.
        let coarse: Identity = [1, 2, 3, TAKEN - 3_000_000_000, TAKEN - 1_000_000_000];
        let coarse = [
            coarse[0],
            coarse[1],
            coarse[2],
            coarse[3] / 1_000_000_000 * 1_000_000_000,
            coarse[4] / 1_000_000_000 * 1_000_000_000,
        ];
        assert!(!settled(&coarse, TAKEN, 0, u64::MAX));
        assert!(settled(&coarse, TAKEN + 3_000_000_000, 0, u64::MAX));
    }

    /// `load` uses a memo only for the file it names, and checks its ids as
    /// a parse of lanes.json does.
    #[test]
    fn load_checks_the_identity_the_clock_and_every_id() {
        let dir = tempfile::tempdir().unwrap();
        let lanes = dir.path().join("lanes.json");
        std::fs::write(&lanes, manifest().render()).unwrap();
        let memo = dir.path().join("memo");
        let id = identity(&fs::metadata(&lanes).unwrap()).unwrap();
        let taken = id[4] + SLACK_NS + 1;
        // The memo written a second after the file changed.
        let set_mtime = |ns: u64| {
            let at = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(ns);
            fs::File::options()
                .write(true)
                .open(&memo)
                .unwrap()
                .set_modified(at)
                .unwrap();
        };
        let put = |bytes: Vec<u8>| {
            std::fs::write(&memo, bytes).unwrap();
            set_mtime(id[4] + 1_000_000_000);
        };
        let content = Content::of(&fs::read(&lanes).unwrap());
        let current =
            |l: Option<Loaded>| l.filter(|l| l.current).map(|l| l.lanes.manifest().clone());
        put(encode(&manifest(), id, taken, content).unwrap());
        assert_eq!(current(load(&memo, &id)), Some(manifest()));
        // Another identity: not current, but it still stands for its content.
        let mut other = id;
        other[1] += 1;
        let by_content = load(&memo, &other).unwrap();
        assert!(!by_content.current);
        assert_eq!(by_content.content, content);
        assert_eq!(*by_content.lanes.manifest(), manifest());
        // Racy: the reader stat the file within the slack of its change.
        put(encode(&manifest(), id, id[4] + 1, content).unwrap());
        assert!(current(load(&memo, &id)).is_none());
        // Written (its own time) no later than the file changed.
        put(encode(&manifest(), id, taken, content).unwrap());
        set_mtime(id[4]);
        assert!(current(load(&memo, &id)).is_none());
        // A hostile id is refused as lanes.json's text would be.
        for (field, bad) in [
            ("lane", "../x"),
            ("wp", "WP01/../../x"),
            ("dep", "lane-a/.."),
            ("slug", "../001-x"),
            ("branch", "main..x"),
            ("planning", "WP04/.."),
        ] {
            let mut m = manifest();
            match field {
                "lane" => m.lanes[0].lane_id = bad.into(),
                "wp" => m.lanes[0].wp_ids[0] = bad.into(),
                "slug" => m.mission_slug = bad.into(),
                "branch" => m.target_branch = bad.into(),
                "planning" => m.planning_artifact_wps[0] = bad.into(),
                _ => m.lanes[1].depends_on_lanes[0] = bad.into(),
            }
            put(encode(&m, id, taken, content).unwrap());
            assert!(load(&memo, &id).is_none(), "{bad}");
            assert!(m.validate(&lanes).is_err());
        }
        assert!(load(&dir.path().join("none"), &id).is_none());
        assert!(load(dir.path(), &id).is_none());
    }

    #[test]
    fn the_memo_is_named_by_the_slug_and_its_place_in_the_project() {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("kitty-specs").join("001-x");
        fs::create_dir_all(&m).unwrap();
        let common = dir.path().join(".git");
        let p = path_for(&common, &m.join("lanes.json")).unwrap();
        assert!(p.starts_with(common.join("spec-kitty").join("lanes-memo")));
        let name = p.file_name().unwrap().to_str().unwrap();
        assert!(
            name.starts_with("001-x-") && name.len() == "001-x-".len() + 16,
            "{name}"
        );
        // Not a mission slug, or no such directory: no memo.
        let odd = dir.path().join("kitty-specs").join("..x");
        fs::create_dir_all(&odd).unwrap();
        assert!(path_for(&common, &odd.join("lanes.json")).is_none());
        assert!(path_for(&common, &dir.path().join("kitty-specs/002-y/lanes.json")).is_none());
        // A copy of the whole project names it the same; a lane worktree's
        // copy of the mission, or a project without that layout, otherwise.
        let copy = tempfile::tempdir().unwrap();
        let cm = copy.path().join("kitty-specs").join("001-x");
        fs::create_dir_all(&cm).unwrap();
        let cp = path_for(&copy.path().join(".git"), &cm.join("lanes.json")).unwrap();
        assert_eq!(cp.file_name(), p.file_name());
        let wt = dir.path().join(".worktrees/001-x-lane-a/kitty-specs/001-x");
        fs::create_dir_all(&wt).unwrap();
        let wp = path_for(&common, &wt.join("lanes.json")).unwrap();
        assert_ne!(wp.file_name(), p.file_name());
        let outside = path_for(&copy.path().join("elsewhere/.git"), &m.join("lanes.json")).unwrap();
        assert_ne!(outside.file_name(), p.file_name());
    }
}
