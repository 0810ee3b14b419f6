//! lanes.json as a command acting on the lanes reads it
//! ([`super::LanesManifest::for_mission_acting`]): the mission's names, and
//! a lane found by one of its work packages or by its id.
//!
//! Parsed from the file, an [`ActingLanes`] holds the parsed
//! [`LanesManifest`]. Read from the memo ([`super::memo`]), it holds the
//! lanes packed as the memo keeps them (`Packed`: every string of every
//! lane in one text, their ends in one table), each id checked once, and
//! builds a lane's [`ExecLane`] only when a caller asks for that lane: a
//! claim at 5,000 work packages looks at a few of 500 lanes.
//!
//! A work package is looked up by a scan in file order until the scans have
//! read a few times as many ids as there are; then an index sorted by id
//! (ties in file order: the same first lane) answers the rest (`next` looks
//! up every work package; a claim, a few).

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use super::model::{ExecLane, LanesManifest};

/// What a lane lookup asks of lanes.json, whichever way it was read.
pub trait LaneMap {
    /// The first lane (in file order) that holds `wp_id`.
    fn lane_for_wp(&self, wp_id: &str) -> Option<&ExecLane>;
    /// `target_branch`: the branch lanes.json was computed on ("" when the
    /// file does not say).
    fn target(&self) -> &str;
}

impl LaneMap for LanesManifest {
    fn lane_for_wp(&self, wp_id: &str) -> Option<&ExecLane> {
        LanesManifest::lane_for_wp(self, wp_id)
    }
    fn target(&self) -> &str {
        &self.target_branch
    }
}

impl LaneMap for ActingLanes {
    fn lane_for_wp(&self, wp_id: &str) -> Option<&ExecLane> {
        ActingLanes::lane_for_wp(self, wp_id)
    }
    fn target(&self) -> &str {
        &self.target_branch
    }
}

/// The acting read of lanes.json: [`LanesManifest`]'s names, and its lanes
/// looked up one at a time (see the module docs).
#[derive(Debug)]
pub struct ActingLanes {
    pub version: u32,
    pub mission_slug: String,
    pub mission_id: String,
    pub mission_branch: String,
    pub target_branch: String,
    body: Body,
    /// How many ids the scans for a work package have read so far.
    scanned: AtomicUsize,
    /// Every (lane, position) of a work package id, sorted by the id, ties
    /// in file order: built once the scans have read enough.
    index: OnceLock<Vec<(usize, usize)>>,
}

/// The scans may read this many times as many ids as there are before the
/// index is built (sorting them costs some dozen full scans).
const SCANS_BEFORE_INDEX: usize = 4;

#[derive(Debug)]
enum Body {
    /// Parsed from the file: every lane at hand.
    Parsed(LanesManifest),
    /// From the memo: the rest of the manifest, and each lane built from
    /// `packed` on first use.
    Packed {
        rest: Rest,
        packed: Packed,
        built: Box<[OnceLock<ExecLane>]>,
        whole: OnceLock<LanesManifest>,
    },
}

/// The fields of an acting read that no lookup reads, kept so that
/// [`ActingLanes::manifest`] is the read whole.
#[derive(Debug, Clone, Default)]
pub(crate) struct Rest {
    pub computed_at: String,
    pub computed_from: String,
    pub planning_artifact_wps: Vec<String>,
}

impl ActingLanes {
    fn with(version: u32, header: [String; 4], body: Body) -> ActingLanes {
        let [mission_slug, mission_id, mission_branch, target_branch] = header;
        ActingLanes {
            version,
            mission_slug,
            mission_id,
            mission_branch,
            target_branch,
            body,
            scanned: AtomicUsize::new(0),
            index: OnceLock::new(),
        }
    }

    /// The read of a parsed lanes.json.
    pub fn parsed(manifest: LanesManifest) -> ActingLanes {
        let header = [
            manifest.mission_slug.clone(),
            manifest.mission_id.clone(),
            manifest.mission_branch.clone(),
            manifest.target_branch.clone(),
        ];
        Self::with(manifest.version, header, Body::Parsed(manifest))
    }

    /// The read of a memo: its header (every id in it checked by the
    /// caller), the rest, and its checked lanes.
    pub(crate) fn packed(header: [String; 4], version: u32, rest: Rest, packed: Packed) -> Self {
        let built = (0..packed.len()).map(|_| OnceLock::new()).collect();
        let body = Body::Packed {
            rest,
            packed,
            built,
            whole: OnceLock::new(),
        };
        Self::with(version, header, body)
    }

    /// The lanes packed, when read from a memo.
    pub(crate) fn packed_lanes(&self) -> Option<(&Packed, &Rest)> {
        match &self.body {
            Body::Parsed(_) => None,
            Body::Packed { packed, rest, .. } => Some((packed, rest)),
        }
    }

    /// Lane `i`, built once.
    fn built(&self, i: usize) -> Option<&ExecLane> {
        match &self.body {
            Body::Parsed(m) => m.lanes.get(i),
            Body::Packed { packed, built, .. } => {
                let cell = built.get(i)?;
                Some(cell.get_or_init(|| packed.lane(i)))
            }
        }
    }

    fn lane_count(&self) -> usize {
        match &self.body {
            Body::Parsed(m) => m.lanes.len(),
            Body::Packed { packed, .. } => packed.len(),
        }
    }

    /// How many work packages lane `i` holds.
    fn wp_count(&self, i: usize) -> usize {
        match &self.body {
            Body::Parsed(m) => m.lanes.get(i).map_or(0, |l| l.wp_ids.len()),
            Body::Packed { packed, .. } => packed.wp_count(i),
        }
    }

    /// The `j`th work package id of lane `i`.
    fn wp(&self, i: usize, j: usize) -> &[u8] {
        match &self.body {
            Body::Parsed(m) => m
                .lanes
                .get(i)
                .and_then(|l| l.wp_ids.get(j))
                .map_or(&[], |w| w.as_bytes()),
            Body::Packed { packed, .. } => packed.string(i, j + 1),
        }
    }

    /// The first lane (in file order) that holds `wp_id`.
    pub fn lane_for_wp(&self, wp_id: &str) -> Option<&ExecLane> {
        let wp = wp_id.as_bytes();
        if let Some(index) = self.index.get() {
            let k = index.partition_point(|&(i, j)| self.wp(i, j) < wp);
            let &(i, _) = index.get(k).filter(|&&(i, j)| self.wp(i, j) == wp)?;
            return self.built(i);
        }
        let (mut read, mut found) = (0, None);
        for i in 0..self.lane_count() {
            let n = self.wp_count(i);
            if let Some(j) = (0..n).find(|&j| self.wp(i, j) == wp) {
                read += j + 1;
                found = Some(i);
                break;
            }
            read += n;
        }
        let total = self.scanned.fetch_add(read, Ordering::Relaxed) + read;
        if total > SCANS_BEFORE_INDEX * self.wp_total() {
            self.index.get_or_init(|| self.sorted());
        }
        self.built(found?)
    }

    fn wp_total(&self) -> usize {
        (0..self.lane_count()).map(|i| self.wp_count(i)).sum()
    }

    /// Every (lane, position) of a work package id, sorted by the id; a
    /// stable sort keeps equal ids in file order.
    fn sorted(&self) -> Vec<(usize, usize)> {
        let mut all: Vec<(usize, usize)> = (0..self.lane_count())
            .flat_map(|i| (0..self.wp_count(i)).map(move |j| (i, j)))
            .collect();
        all.sort_by(|&(a, b), &(c, d)| self.wp(a, b).cmp(self.wp(c, d)));
        all
    }

    /// The first lane (in file order) whose id is `lane_id`.
    pub fn lane(&self, lane_id: &str) -> Option<&ExecLane> {
        match &self.body {
            Body::Parsed(m) => m.lanes.iter().find(|l| l.lane_id == lane_id),
            Body::Packed { packed, .. } => self.built(packed.find_lane(lane_id)?),
        }
    }

    /// Every lane's id, in file order.
    pub fn lane_ids(&self) -> Box<dyn Iterator<Item = &str> + '_> {
        match &self.body {
            Body::Parsed(m) => Box::new(m.lanes.iter().map(|l| l.lane_id.as_str())),
            Body::Packed { packed, .. } => Box::new((0..packed.len()).map(|i| packed.lane_id(i))),
        }
    }

    /// The whole read as a [`LanesManifest`] (a read from the memo builds
    /// every lane, once): for a command that walks every lane (merge).
    pub fn manifest(&self) -> &LanesManifest {
        match &self.body {
            Body::Parsed(m) => m,
            Body::Packed {
                rest,
                packed,
                whole,
                ..
            } => whole.get_or_init(|| LanesManifest {
                version: self.version,
                mission_slug: self.mission_slug.clone(),
                mission_id: self.mission_id.clone(),
                mission_branch: self.mission_branch.clone(),
                target_branch: self.target_branch.clone(),
                lanes: (0..packed.len())
                    .filter_map(|i| self.built(i).cloned())
                    .collect(),
                computed_at: rest.computed_at.clone(),
                computed_from: rest.computed_from.clone(),
                planning_artifact_wps: rest.planning_artifact_wps.clone(),
                collapse_report: None,
            }),
        }
    }

    /// `<root>/.worktrees/<mission_slug>-<lane_id>`: where a code lane's worktree lives.
    pub fn worktree_path(&self, root: &Path, lane_id: &str) -> PathBuf {
        super::model::worktree_path(root, &self.mission_slug, lane_id)
    }

    /// `kitty/mission-<slug>-<lane_id>`.
    pub fn lane_branch(&self, lane_id: &str) -> String {
        super::model::lane_branch(&self.mission_slug, lane_id)
    }
}

/// The lanes of an acting read as the memo keeps them, in one buffer (the
/// memo's bytes as read): a table of words (u32, little-endian), per lane
/// `parallel_group`, the number of its `wp_ids`, `write_scope`,
/// `predicted_surfaces` and `depends_on_lanes`, then where each of its
/// strings ends in the text (its `lane_id`, then those lists in that
/// order); and the text, every string of every lane one after another.
/// Built only by [`Packed::new`], which checks all of it.
#[derive(Debug)]
pub(crate) struct Packed {
    buf: Vec<u8>,
    /// Where the table and the text are in `buf`.
    table: Range<usize>,
    text: Range<usize>,
    /// The table's words.
    words: Vec<u32>,
    /// Per lane: where its words start, and where its first string starts
    /// in the text.
    at: Vec<(usize, usize)>,
}

/// Words before a lane's string ends.
const HEAD: usize = 5;

/// [`crate::ids::is_lane_id`] of bytes (`lane-` and lowercase letters; ASCII,
/// so on character boundaries).
fn is_lane_id(b: &[u8]) -> bool {
    b.strip_prefix(b"lane-")
        .is_some_and(|r| !r.is_empty() && r.iter().all(u8::is_ascii_lowercase))
}

/// [`crate::ids::is_wp_id`] of bytes (`WP` and digits; ASCII, so on
/// character boundaries).
fn is_wp_id(b: &[u8]) -> bool {
    b.strip_prefix(b"WP")
        .is_some_and(|r| !r.is_empty() && r.iter().all(u8::is_ascii_digit))
}

/// The next string of a lane: from `pos` to the next end the table gives.
fn next<'t>(
    ends: &mut impl Iterator<Item = u32>,
    text: &'t [u8],
    pos: &mut usize,
) -> Option<&'t [u8]> {
    let end = usize::try_from(ends.next()?).ok()?;
    let s = text.get(*pos..end)?;
    *pos = end;
    Some(s)
}

impl Packed {
    /// The lanes in `buf`, its table at `table` and its text from `text` to
    /// the end, when they are whole (the text UTF-8, every string on
    /// character boundaries, in order, the table and the text used up) and
    /// every id follows its grammar: lane ids, work package ids, and the lanes
    /// depended on. None otherwise.
    pub fn new(buf: Vec<u8>, table: Range<usize>, text: usize) -> Option<Packed> {
        let text = text..buf.len();
        let bytes = buf.get(table.clone())?;
        let all = buf.get(text.clone())?;
        // Once for the whole text; a string is then whole when it ends on a
        // character boundary (every id is ASCII).
        let utf8 = std::str::from_utf8(all).ok()?;
        let chunks = bytes.chunks_exact(4);
        if !chunks.remainder().is_empty() {
            return None;
        }
        let mut words = Vec::with_capacity(bytes.len() / 4);
        words.extend(chunks.map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])));
        let mut it = words.iter().copied();
        let mut at = Vec::new();
        let (mut w, mut pos) = (0usize, 0usize);
        let count = |n: Option<u32>| n.and_then(|n| usize::try_from(n).ok());
        while let Some(_group) = it.next() {
            let wps = count(it.next())?;
            let plain = count(it.next())?.checked_add(count(it.next())?)?;
            let deps = count(it.next())?;
            at.push((w, pos));
            if !is_lane_id(next(&mut it, all, &mut pos)?) {
                return None;
            }
            for _ in 0..wps {
                if !is_wp_id(next(&mut it, all, &mut pos)?) {
                    return None;
                }
            }
            for _ in 0..plain {
                next(&mut it, all, &mut pos)?;
                if !utf8.is_char_boundary(pos) {
                    return None;
                }
            }
            for _ in 0..deps {
                if !is_lane_id(next(&mut it, all, &mut pos)?) {
                    return None;
                }
            }
            // Every word counted was read: no overflow.
            w += HEAD + 1 + wps + plain + deps;
        }
        (pos == all.len()).then_some(Packed {
            buf,
            table,
            text,
            words,
            at,
        })
    }

    /// `lanes` packed: the text and the table's words; None when the text
    /// would outgrow a word.
    pub fn of(lanes: &[ExecLane]) -> Option<(String, Vec<u32>)> {
        let mut text = String::new();
        let mut words = Vec::new();
        let count = |v: &Vec<String>| u32::try_from(v.len()).ok();
        for l in lanes {
            words.extend([
                l.parallel_group,
                count(&l.wp_ids)?,
                count(&l.write_scope)?,
                count(&l.predicted_surfaces)?,
                count(&l.depends_on_lanes)?,
            ]);
            let strings = std::iter::once(&l.lane_id)
                .chain(&l.wp_ids)
                .chain(&l.write_scope)
                .chain(&l.predicted_surfaces)
                .chain(&l.depends_on_lanes);
            for s in strings {
                text.push_str(s);
                words.push(u32::try_from(text.len()).ok()?);
            }
        }
        Some((text, words))
    }

    /// [`Packed::new`] of the text and words [`Packed::of`] made.
    #[cfg(test)]
    pub fn from_parts(text: &str, words: &[u32]) -> Option<Packed> {
        let mut buf: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        let table = 0..buf.len();
        buf.extend_from_slice(text.as_bytes());
        Packed::new(buf, table.clone(), table.end)
    }

    /// The text and the table (as bytes), as [`Packed::of`] made them.
    pub fn parts(&self) -> Option<(&str, &[u8])> {
        let text = std::str::from_utf8(self.buf.get(self.text.clone())?).ok()?;
        Some((text, self.buf.get(self.table.clone())?))
    }

    pub fn len(&self) -> usize {
        self.at.len()
    }

    /// Word `k` of the table.
    fn word(&self, k: usize) -> usize {
        self.words.get(k).map_or(0, |&n| n as usize)
    }

    /// Lane `i`'s `k`th head word (0: the group, 1-4: the counts).
    fn head(&self, i: usize, k: usize) -> usize {
        self.at.get(i).map_or(0, |&(w, _)| self.word(w + k))
    }

    fn wp_count(&self, i: usize) -> usize {
        self.head(i, 1)
    }

    /// Lane `i`'s `k`th string (0: its id, then its lists in order), as
    /// bytes (on character boundaries: [`Packed::new`]).
    fn string(&self, i: usize, k: usize) -> &[u8] {
        let Some(&(w, pos)) = self.at.get(i) else {
            return &[];
        };
        let start = match k {
            0 => pos,
            _ => self.word(w + HEAD + k - 1),
        };
        let end = self.word(w + HEAD + k);
        let text = self.buf.get(self.text.clone()).unwrap_or_default();
        text.get(start..end).unwrap_or_default()
    }

    /// A string of the text as `str` (every string is one: [`Packed::new`]).
    fn str(b: &[u8]) -> &str {
        std::str::from_utf8(b).unwrap_or_default()
    }

    fn lane_id(&self, i: usize) -> &str {
        Self::str(self.string(i, 0))
    }

    /// The first lane whose id is `lane_id`.
    fn find_lane(&self, lane_id: &str) -> Option<usize> {
        (0..self.len()).find(|&i| self.string(i, 0) == lane_id.as_bytes())
    }

    /// Lane `i`, built.
    fn lane(&self, i: usize) -> ExecLane {
        let mut k = 0;
        let mut take = |n: usize| {
            let out: Vec<String> = (k..k + n)
                .map(|k| Self::str(self.string(i, k)).to_string())
                .collect();
            k += n;
            out
        };
        let lane_id = take(1).pop().unwrap_or_default();
        ExecLane {
            lane_id,
            wp_ids: take(self.head(i, 1)),
            write_scope: take(self.head(i, 2)),
            predicted_surfaces: take(self.head(i, 3)),
            depends_on_lanes: take(self.head(i, 4)),
            parallel_group: u32::try_from(self.head(i, 0)).unwrap_or(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::IdKind;

    fn lane(id: &str, wps: &[&str], scope: &[&str], deps: &[&str], group: u32) -> ExecLane {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect();
        ExecLane {
            lane_id: id.into(),
            wp_ids: v(wps),
            write_scope: v(scope),
            predicted_surfaces: if scope.is_empty() {
                Vec::new()
            } else {
                vec!["core".into()]
            },
            depends_on_lanes: v(deps),
            parallel_group: group,
        }
    }

    /// Lanes with what a hand-edited file may hold: a WP in two lanes, a
    /// lane id twice, empty lanes, a scope that is not ASCII.
    fn manifest() -> LanesManifest {
        LanesManifest {
            version: 1,
            mission_slug: "001-x".into(),
            mission_id: "01ABC".into(),
            mission_branch: "kitty/mission-001-x".into(),
            target_branch: "main".into(),
            lanes: vec![
                lane(
                    "lane-a",
                    &["WP01", "WP02"],
                    &["src/**", "docs/é/**"],
                    &[],
                    0,
                ),
                lane("lane-b", &["WP03", "WP02"], &[], &["lane-a"], 1),
                lane("lane-planning", &["WP04"], &[], &[], 0),
                lane("lane-c", &[], &["ü"], &["lane-a", "lane-b"], 7),
                lane("lane-a", &["WP05"], &[], &[], 2),
            ],
            computed_at: "2026-01-01T00:00:00+00:00".into(),
            computed_from: "abc".into(),
            planning_artifact_wps: vec!["WP04".into()],
            collapse_report: None,
        }
    }

    fn packed(m: &LanesManifest) -> ActingLanes {
        let (text, words) = Packed::of(&m.lanes).unwrap();
        let rest = Rest {
            computed_at: m.computed_at.clone(),
            computed_from: m.computed_from.clone(),
            planning_artifact_wps: m.planning_artifact_wps.clone(),
        };
        let header = [
            m.mission_slug.clone(),
            m.mission_id.clone(),
            m.mission_branch.clone(),
            m.target_branch.clone(),
        ];
        ActingLanes::packed(
            header,
            m.version,
            rest,
            Packed::from_parts(&text, &words).unwrap(),
        )
    }

    /// A packed read answers every lookup as the parsed one does.
    #[test]
    fn packed_and_parsed_reads_give_the_same_answers() {
        let m = manifest();
        let (p, q) = (ActingLanes::parsed(m.clone()), packed(&m));
        for wp in ["WP01", "WP02", "WP03", "WP04", "WP05", "WP06", "", "WP0"] {
            assert_eq!(p.lane_for_wp(wp), q.lane_for_wp(wp), "{wp}");
            assert_eq!(p.lane_for_wp(wp), m.lane_for_wp(wp), "{wp}");
        }
        assert_eq!(q.lane_for_wp("WP02").unwrap().lane_id, "lane-a");
        for id in ["lane-a", "lane-b", "lane-c", "lane-planning", "lane-z"] {
            assert_eq!(p.lane(id), q.lane(id), "{id}");
        }
        assert_eq!(q.lane("lane-a").unwrap().wp_ids, ["WP01", "WP02"]);
        assert_eq!(
            p.lane_ids().collect::<Vec<_>>(),
            q.lane_ids().collect::<Vec<_>>()
        );
        assert_eq!(q.lane("lane-c").unwrap(), &m.lanes[3]);
        assert_eq!(p.manifest(), &m);
        assert_eq!(q.manifest(), &m);
        assert_eq!(LaneMap::target(&q), "main");
        assert_eq!(q.lane_branch("lane-a"), m.lane_branch("lane-a"));
        // No lanes at all.
        let empty = LanesManifest {
            lanes: Vec::new(),
            ..manifest()
        };
        assert_eq!(packed(&empty).manifest(), &empty);
        assert_eq!(packed(&empty).lane_for_wp("WP01"), None);
    }

    /// Past a few scans the index answers, with the same lanes (the first
    /// in file order for a WP in two lanes), read from the memo or parsed.
    #[test]
    fn the_index_answers_as_the_scans_do() {
        let m = manifest();
        let ids = [
            "WP05", "WP02", "WP01", "WP04", "WP03", "WP06", "WP", "", "lane-a",
        ];
        for read in [ActingLanes::parsed(m.clone()), packed(&m)] {
            assert!(read.index.get().is_none());
            for round in 0..20 {
                for wp in ids {
                    assert_eq!(read.lane_for_wp(wp), m.lane_for_wp(wp), "{round} {wp}");
                }
            }
            assert!(read.index.get().is_some());
        }
        // A few lookups of early WPs (a claim's) build no index.
        let read = packed(&m);
        for _ in 0..3 {
            read.lane_for_wp("WP01");
        }
        assert!(read.index.get().is_none());
    }

    /// The id checks of a packed read are the grammars of [`crate::ids`].
    #[test]
    fn the_byte_checks_are_the_id_grammars() {
        for s in [
            "WP01",
            "WP",
            "WP0",
            "wp01",
            "WP01a",
            "WP-1",
            "WP١",
            "WPé",
            "",
            "lane-a",
            "lane-",
            "lane-ab",
            "lane-aB",
            "lane-a1",
            "lane-é",
            "lane-planning",
            "lane",
            "xlane-a",
            "WP01\n",
        ] {
            assert_eq!(is_wp_id(s.as_bytes()), crate::ids::is_wp_id(s), "{s:?}");
            assert_eq!(is_lane_id(s.as_bytes()), crate::ids::is_lane_id(s), "{s:?}");
        }
    }

    /// An id its grammar refuses, wherever it stands, or a table that does
    /// not describe the text exactly: no packed lanes (and no panic).
    #[test]
    fn packed_lanes_are_checked_whole() {
        let m = manifest();
        for (i, bad) in ["../x", "WP01/../../x", "lane-a/..", "", "lane-A"]
            .into_iter()
            .enumerate()
        {
            for at in 0..3 {
                let mut m = m.clone();
                match at {
                    0 => m.lanes[1].lane_id = bad.into(),
                    1 => m.lanes[1].wp_ids[0] = bad.into(),
                    _ => m.lanes[1].depends_on_lanes[0] = bad.into(),
                }
                let (text, words) = Packed::of(&m.lanes).unwrap();
                assert!(Packed::from_parts(&text, &words).is_none(), "{i} {at}");
            }
        }
        // Scopes and surfaces are not ids: anything goes.
        let mut free = m.clone();
        free.lanes[0].write_scope = vec!["../../**".into(), String::new()];
        let (text, words) = Packed::of(&free.lanes).unwrap();
        assert!(Packed::from_parts(&text, &words).is_some());

        let (text, words) = Packed::of(&m.lanes).unwrap();
        assert!(Packed::from_parts(&text, &words).is_some());
        // Cut anywhere, or a word more.
        for n in 0..words.len() {
            let cut = words[..n].to_vec();
            assert!(Packed::from_parts(&text, &cut).is_none(), "cut at {n}");
        }
        let mut more = words.clone();
        more.push(0);
        assert!(Packed::from_parts(&text, &more).is_none());
        // Text left over, or missing.
        assert!(Packed::from_parts(&format!("{text}x"), &words).is_none());
        let short = text.strip_suffix('5').unwrap().to_string();
        assert!(Packed::from_parts(&short, &words).is_none());
        // Every word changed in turn (an end out of order, inside a
        // character or past the text; a count that claims too much).
        for i in 0..words.len() {
            for v in [
                0,
                1,
                3,
                u32::MAX,
                words[i].wrapping_add(1),
                words[i].wrapping_sub(1),
            ] {
                let mut w = words.clone();
                w[i] = v;
                if let Some(p) = Packed::from_parts(&text, &w) {
                    // What still reads is whole: every lane builds, every
                    // lookup answers.
                    for k in 0..p.len() {
                        let l = p.lane(k);
                        assert!(IdKind::Lane.accepts(&l.lane_id));
                        assert!(l.wp_ids.iter().all(|w| IdKind::Wp.accepts(w)));
                    }
                }
            }
        }
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..2000 {
            let mut w = Vec::new();
            for _ in 0..(seed % 23) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                w.push((seed % 40) as u32);
            }
            let _ = Packed::from_parts(&text, &w);
        }
    }
}
