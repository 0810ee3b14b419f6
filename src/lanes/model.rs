//! `lanes.json`, in the reference's schema and key order.

use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::acting::ActingLanes;
use super::{LanesError, Result};
use crate::fsutil;
use crate::ids::{self, IdKind};
use crate::mission::Mission;
use crate::project::Project;

/// The lane that holds planning-artifact work packages (runs in the main checkout).
pub const PLANNING_LANE: &str = "lane-planning";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LanesManifest {
    #[serde(default = "one")]
    pub version: u32,
    pub mission_slug: String,
    #[serde(default)]
    pub mission_id: String,
    #[serde(default)]
    pub mission_branch: String,
    #[serde(default)]
    pub target_branch: String,
    pub lanes: Vec<ExecLane>,
    #[serde(default)]
    pub computed_at: String,
    #[serde(default)]
    pub computed_from: String,
    #[serde(default)]
    pub planning_artifact_wps: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collapse_report: Option<CollapseReport>,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecLane {
    pub lane_id: String,
    pub wp_ids: Vec<String>,
    #[serde(default)]
    pub write_scope: Vec<String>,
    #[serde(default)]
    pub predicted_surfaces: Vec<String>,
    #[serde(default)]
    pub depends_on_lanes: Vec<String>,
    #[serde(default)]
    pub parallel_group: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollapseReport {
    pub events: Vec<CollapseEvent>,
    pub total_merges: u32,
    pub independent_wps_collapsed: u32,
    pub by_rule: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollapseEvent {
    pub wp_a: String,
    pub wp_b: String,
    pub rule: String,
    pub evidence: String,
}

impl LanesManifest {
    /// Read `lanes.json`; None when the file does not exist.
    pub fn read(path: &Path) -> Result<Option<LanesManifest>> {
        Ok(Self::read_shared(path, Reading::Whole, None)?.map(|m| m.manifest().clone()))
    }

    /// [`LanesManifest::read`] as an [`ActingLanes`], shared with this
    /// process's memo of the file (no copy of every lane; a whole read is
    /// always a parsed one): `Reading::Acting` leaves `collapse_report`
    /// out (its shape still checked, as a whole read checks it), and, given
    /// the git common directory `common`, uses and keeps the derived memo of
    /// that read between commands ([`super::memo`]).
    fn read_shared(
        path: &Path,
        reading: Reading,
        common: Option<&Path>,
    ) -> Result<Option<Arc<ActingLanes>>> {
        // The clock before the stat: a change after it is racy (see memo).
        let kept = match (reading, common) {
            (Reading::Acting, Some(common)) => super::memo::now_ns().zip(Some(common)),
            _ => None,
        };
        let Ok(md) = std::fs::metadata(path) else {
            return Ok(None);
        };
        // A command reads lanes.json several times (the pick, the
        // workspace, the claim's re-check): the same file is parsed once.
        let stamp = fsutil::file_stamp(&md);
        if let Some(known) = remembered(path, stamp, reading) {
            return Ok(Some(known));
        }
        let memo = kept.and_then(|(taken, common)| {
            if md.len() < super::memo::MIN_BYTES {
                return None;
            }
            let file = super::memo::identity(&md)?;
            Some((super::memo::path_for(common, path)?, file, taken))
        });
        let mut by_content = None;
        if let Some((at, file, _)) = &memo {
            match super::memo::load(at, file) {
                Some(m) if m.current => {
                    let lanes = Arc::new(m.lanes);
                    remember(path, stamp, reading, &lanes);
                    return Ok(Some(lanes));
                }
                other => by_content = other,
            }
        }
        let text = fsutil::read_to_string(path)?;
        // Only where a memo is kept: the content it stands for.
        let content = memo
            .as_ref()
            .map(|_| super::memo::Content::of(text.as_bytes()));
        let manifest = Arc::new(match by_content {
            // The same bytes the memo was parsed from (a copy, a rewrite).
            Some(m) if Some(m.content) == content => m.lanes,
            _ => ActingLanes::parsed(match reading {
                Reading::Whole => Self::parse(path, &text)?,
                Reading::Acting => Self::parse_acting(path, &text)?,
            }),
        });
        let after = std::fs::metadata(path).ok();
        if after
            .as_ref()
            .is_some_and(|m| fsutil::file_stamp(m) == stamp)
        {
            remember(path, stamp, reading, &manifest);
        }
        if let (Some((at, file, taken)), Some(content)) = (memo, content) {
            if after.as_ref().and_then(super::memo::identity) == Some(file) {
                super::memo::save(&at, &manifest, file, taken, content);
            }
        }
        Ok(Some(manifest))
    }

    /// [`LanesManifest::parse`] without keeping `collapse_report`: finalize's
    /// account of how it grouped the work packages (about half of the file
    /// at 5,000 WPs), which no command acting on the lanes reads. The report
    /// is still checked for its shape, so a file one of them refuses is
    /// refused by both, with the same message.
    fn parse_acting(path: &Path, text: &str) -> Result<LanesManifest> {
        let acting: shape::Acting =
            crate::bounds::json(text).map_err(|source| LanesError::ManifestJson {
                path: path.to_path_buf(),
                line: source.line().unwrap_or(1),
                source,
            })?;
        let manifest = acting.into_manifest();
        manifest.validate(path)?;
        Ok(manifest)
    }

    /// Parse and check the text of `lanes.json` read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<LanesManifest> {
        let manifest: LanesManifest =
            crate::bounds::json(text).map_err(|source| LanesError::ManifestJson {
                path: path.to_path_buf(),
                line: source.line().unwrap_or(1),
                source,
            })?;
        manifest.validate(path)?;
        Ok(manifest)
    }

    /// Read the mission's `lanes.json` and check that it is this mission's: its
    /// `mission_slug` is the directory's name and its `mission_id` (when both
    /// sides have one) is meta.json's. A manifest copied from another mission,
    /// or left behind by a renumbered directory, is refused, never acted on.
    pub fn for_mission(mission: &Mission) -> Result<Option<LanesManifest>> {
        let path = mission.lanes_file();
        let Some(manifest) = Self::read(&path)? else {
            return Ok(None);
        };
        manifest.check_belongs_to(mission, &path)?;
        Ok(Some(manifest))
    }

    /// [`LanesManifest::for_mission`] for a command that acts on the lanes
    /// (implement, a move's guards): the same checks and errors, without
    /// `collapse_report`, its lanes looked up one at a time
    /// ([`ActingLanes`]; [`ActingLanes::manifest`] is the read whole), shared
    /// with this process's memo of the file rather than copied, and kept
    /// between commands in a derived memo under `project`'s git directory
    /// ([`super::memo`]), never trusted over the file.
    pub fn for_mission_acting(
        project: &Project,
        mission: &Mission,
    ) -> Result<Option<Arc<ActingLanes>>> {
        let path = mission.lanes_file();
        let common = project.git_common_dir.as_deref();
        let Some(lanes) = Self::read_shared(&path, Reading::Acting, common)? else {
            return Ok(None);
        };
        check_belongs_to(&lanes.mission_slug, &lanes.mission_id, mission, &path)?;
        Ok(Some(lanes))
    }

    /// The lane id of `wp_id` in the lanes.json at `path` as it is now (read
    /// as [`LanesManifest::for_mission_acting`] reads it, without the
    /// mission check); None when the file does not exist or no lane holds it.
    pub fn lane_id_at(project: &Project, path: &Path, wp_id: &str) -> Result<Option<String>> {
        let common = project.git_common_dir.as_deref();
        Ok(Self::read_shared(path, Reading::Acting, common)?
            .and_then(|m| m.lane_for_wp(wp_id).map(|l| l.lane_id.clone())))
    }

    /// Every id in the manifest follows its grammar ([`crate::ids`]): the
    /// mission slug, lane ids, WP ids and branch names build paths and refs.
    pub fn validate(&self, path: &Path) -> Result<()> {
        // A field's name is spelled out only for an id it refuses (5,000
        // WP ids each formatting its own name cost more than the checks).
        let check = |kind: IdKind, value: &str, field: &dyn Fn() -> String| {
            if kind.accepts(value) {
                Ok(())
            } else {
                ids::check(kind, value, path, &field())
            }
        };
        validate_names(
            path,
            &self.mission_slug,
            &self.mission_branch,
            &self.target_branch,
        )?;
        for (i, lane) in self.lanes.iter().enumerate() {
            check(IdKind::Lane, &lane.lane_id, &|| {
                format!("lanes[{i}].lane_id")
            })?;
            for (j, wp) in lane.wp_ids.iter().enumerate() {
                check(IdKind::Wp, wp, &|| format!("lanes[{i}].wp_ids[{j}]"))?;
            }
            for (j, dep) in lane.depends_on_lanes.iter().enumerate() {
                check(IdKind::Lane, dep, &|| {
                    format!("lanes[{i}].depends_on_lanes[{j}]")
                })?;
            }
        }
        for (i, wp) in self.planning_artifact_wps.iter().enumerate() {
            check(IdKind::Wp, wp, &|| format!("planning_artifact_wps[{i}]"))?;
        }
        Ok(())
    }

    /// The manifest names `mission` (slug and, when both have one, mission_id).
    pub fn check_belongs_to(&self, mission: &Mission, path: &Path) -> Result<()> {
        check_belongs_to(&self.mission_slug, &self.mission_id, mission, path)
    }

    /// Write atomically with indent 2 and a trailing newline.
    pub fn write(&self, path: &Path) -> Result<()> {
        Ok(fsutil::atomic_write(path, self.render().as_bytes())?)
    }

    /// The file's text: indent 2 and a trailing newline.
    pub fn render(&self) -> String {
        crate::jsonfmt::pretty(self)
    }

    pub fn lane_for_wp(&self, wp_id: &str) -> Option<&ExecLane> {
        self.lanes
            .iter()
            .find(|l| l.wp_ids.iter().any(|w| w == wp_id))
    }

    /// `<root>/.worktrees/<mission_slug>-<lane_id>`: where a code lane's worktree lives.
    pub fn worktree_path(&self, root: &Path, lane_id: &str) -> std::path::PathBuf {
        worktree_path(root, &self.mission_slug, lane_id)
    }

    /// `kitty/mission-<slug>-<lane_id>`.
    pub fn lane_branch(&self, lane_id: &str) -> String {
        format!("kitty/mission-{}-{lane_id}", self.mission_slug)
    }
}

/// A lanes.json (at `path`) with this `mission_slug` and `mission_id` names
/// `mission` ([`LanesManifest::check_belongs_to`]).
fn check_belongs_to(
    mission_slug: &str,
    mission_id: &str,
    mission: &Mission,
    path: &Path,
) -> Result<()> {
    if mission_slug != mission.slug {
        return Err(LanesError::OtherMissionSlug {
            path: path.to_path_buf(),
            found: mission_slug.to_string(),
            slug: mission.slug.clone(),
        });
    }
    if let Some(id) = mission.mission_id() {
        if !mission_id.is_empty() && mission_id != id {
            return Err(LanesError::OtherMissionId {
                path: path.to_path_buf(),
                found: mission_id.to_string(),
                slug: mission.slug.clone(),
                id: id.to_string(),
            });
        }
    }
    Ok(())
}

/// The mission slug and the branch names of a lanes.json (read from `path`)
/// follow their grammars ([`LanesManifest::validate`] checks the rest).
pub(crate) fn validate_names(
    path: &Path,
    mission_slug: &str,
    mission_branch: &str,
    target_branch: &str,
) -> Result<()> {
    ids::check(IdKind::MissionSlug, mission_slug, path, "mission_slug")?;
    for (field, value) in [
        ("mission_branch", mission_branch),
        ("target_branch", target_branch),
    ] {
        if !value.is_empty() {
            ids::check(IdKind::Branch, value, path, field)?;
        }
    }
    Ok(())
}

/// `<root>/.worktrees/<mission_slug>-<lane_id>`.
pub fn worktree_path(root: &Path, mission_slug: &str, lane_id: &str) -> std::path::PathBuf {
    root.join(".worktrees")
        .join(format!("{mission_slug}-{lane_id}"))
}

/// `kitty/mission-<mission_slug>-<lane_id>`.
pub fn lane_branch(mission_slug: &str, lane_id: &str) -> String {
    format!("kitty/mission-{mission_slug}-{lane_id}")
}

/// How much of lanes.json a command keeps (see [`LanesManifest::parse_acting`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    Whole,
    Acting,
}

/// The lanes.json this process last read and validated, with the stamp of
/// its file ([`fsutil::file_stamp`]) and how it was read; a file with
/// another stamp is read again. A whole read serves both kinds.
type Memo = (
    std::path::PathBuf,
    fsutil::FileStamp,
    Reading,
    Arc<ActingLanes>,
);
static READ: std::sync::Mutex<Option<Memo>> = std::sync::Mutex::new(None);

fn remember(path: &Path, stamp: fsutil::FileStamp, reading: Reading, manifest: &Arc<ActingLanes>) {
    if let Ok(mut m) = READ.lock() {
        *m = Some((path.to_path_buf(), stamp, reading, manifest.clone()));
    }
}

fn remembered(path: &Path, stamp: fsutil::FileStamp, reading: Reading) -> Option<Arc<ActingLanes>> {
    let m = READ.lock().ok()?;
    m.as_ref()
        .filter(|(p, st, kept, _)| {
            p == path && *st == stamp && (*kept == Reading::Whole || reading == Reading::Acting)
        })
        .map(|(_, _, _, manifest)| manifest.clone())
}

/// lanes.json as a command acting on the lanes reads it: every field of
/// [`LanesManifest`] with the same types, defaults and order (so the same
/// errors), but `collapse_report` only checked against the shape of
/// [`CollapseReport`], its strings never copied out of the text.
mod shape {
    use std::fmt;

    use serde::de::{self, Deserializer, SeqAccess, Visitor};
    use serde::Deserialize;

    use super::{one, ExecLane, LanesManifest};

    #[derive(Deserialize)]
    pub(super) struct Acting {
        #[serde(default = "one")]
        version: u32,
        mission_slug: String,
        #[serde(default)]
        mission_id: String,
        #[serde(default)]
        mission_branch: String,
        #[serde(default)]
        target_branch: String,
        lanes: Vec<ExecLane>,
        #[serde(default)]
        computed_at: String,
        #[serde(default)]
        computed_from: String,
        #[serde(default)]
        planning_artifact_wps: Vec<String>,
        #[serde(default)]
        #[allow(dead_code)] // read for its shape only
        collapse_report: Option<CollapseReport>,
    }

    impl Acting {
        pub(super) fn into_manifest(self) -> LanesManifest {
            LanesManifest {
                version: self.version,
                mission_slug: self.mission_slug,
                mission_id: self.mission_id,
                mission_branch: self.mission_branch,
                target_branch: self.target_branch,
                lanes: self.lanes,
                computed_at: self.computed_at,
                computed_from: self.computed_from,
                planning_artifact_wps: self.planning_artifact_wps,
                collapse_report: None,
            }
        }
    }

    // The names are [`super::CollapseReport`]'s: serde names a struct in its
    // "expected struct ..." message.
    #[derive(Deserialize)]
    #[allow(dead_code)] // read for their shape only
    struct CollapseReport {
        events: Events,
        total_merges: u32,
        independent_wps_collapsed: u32,
        // Small (one entry a rule): read as the whole read reads it.
        by_rule: serde_json::Map<String, serde_json::Value>,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct CollapseEvent {
        wp_a: Text,
        wp_b: Text,
        rule: Text,
        evidence: Text,
    }

    /// A JSON string, checked and dropped (`String`'s "a string").
    struct Text;

    impl<'de> Deserialize<'de> for Text {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
            struct V;
            impl Visitor<'_> for V {
                type Value = Text;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("a string")
                }
                fn visit_str<E: de::Error>(self, _: &str) -> Result<Text, E> {
                    Ok(Text)
                }
            }
            d.deserialize_str(V)
        }
    }

    /// A sequence of [`CollapseEvent`], each checked and dropped (`Vec`'s "a sequence").
    struct Events;

    impl<'de> Deserialize<'de> for Events {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Events, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Events;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("a sequence")
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Events, A::Error> {
                    while seq.next_element::<CollapseEvent>()?.is_some() {}
                    Ok(Events)
                }
            }
            d.deserialize_seq(V)
        }
    }
}

#[cfg(test)]
mod acting_tests {
    use super::*;

    const BASE: &str = r#"{"version": 1, "mission_slug": "001-x", "mission_id": "01ABC", "target_branch": "main",
        "lanes": [{"lane_id": "lane-a", "wp_ids": ["WP01", "WP02"], "write_scope": ["src/**"], "depends_on_lanes": []}],
        "planning_artifact_wps": ["WP03"]"#;

    fn doc(report: &str) -> String {
        format!("{BASE},\n\"collapse_report\": {report}}}")
    }

    /// The acting read keeps everything but the report, and refuses exactly
    /// what the whole read refuses, with the same message.
    #[test]
    fn the_acting_read_is_the_whole_read_without_the_report() {
        let p = Path::new("lanes.json");
        let good = r#"{"events": [{"wp_a": "WP02", "wp_b": "WP01", "rule": "dependency", "evidence": "WP02 depends on \"WP01\""}],
            "total_merges": 1, "independent_wps_collapsed": 0, "by_rule": {"dependency": 1}}"#;
        for report in [good, "null"] {
            let whole = LanesManifest::parse(p, &doc(report)).unwrap();
            let acting = LanesManifest::parse_acting(p, &doc(report)).unwrap();
            assert_eq!(whole.collapse_report.is_some(), report != "null");
            assert_eq!(
                LanesManifest {
                    collapse_report: None,
                    ..whole
                },
                acting
            );
        }
        let no_report = format!("{BASE}}}");
        assert_eq!(
            LanesManifest::parse(p, &no_report).unwrap(),
            LanesManifest::parse_acting(p, &no_report).unwrap()
        );
        for bad in [
            "5",
            "\"x\"",
            "[]",
            "{}",
            r#"{"events": {}, "total_merges": 1, "independent_wps_collapsed": 0, "by_rule": {}}"#,
            r#"{"events": [5], "total_merges": 1, "independent_wps_collapsed": 0, "by_rule": {}}"#,
            r#"{"events": [{"wp_a": 1, "wp_b": "a", "rule": "r", "evidence": "e"}], "total_merges": 1, "independent_wps_collapsed": 0, "by_rule": {}}"#,
            r#"{"events": [{"wp_a": "a", "rule": "r", "evidence": "e"}], "total_merges": 1, "independent_wps_collapsed": 0, "by_rule": {}}"#,
            r#"{"events": [{"wp_a": "a\q", "wp_b": "a", "rule": "r", "evidence": "e"}], "total_merges": 1, "independent_wps_collapsed": 0, "by_rule": {}}"#,
            r#"{"events": [], "events": [], "total_merges": 1, "independent_wps_collapsed": 0, "by_rule": {}}"#,
            r#"{"events": [], "total_merges": -1, "independent_wps_collapsed": 0, "by_rule": {}}"#,
            r#"{"events": [], "total_merges": 1, "independent_wps_collapsed": 0, "by_rule": []}"#,
            r#"{"events": [], "total_merges": 1, "independent_wps_collapsed": 0, "by_rule": {"a": 1e999}}"#,
            r#"{"events": [], "total_merges": 1, "independent_wps_collapsed": 0}"#,
            r#"{"events": [], "total_merges": 1, "independent_wps_collapsed": 0, "by_rule": {}"#,
        ] {
            let whole = LanesManifest::parse(p, &doc(bad)).unwrap_err().to_string();
            let acting = LanesManifest::parse_acting(p, &doc(bad))
                .unwrap_err()
                .to_string();
            assert_eq!(whole, acting, "{bad}");
        }
        // The ids are checked as in the whole read.
        let hostile = doc("null").replace("lane-a", "../a");
        assert_eq!(
            LanesManifest::parse(p, &hostile).unwrap_err().to_string(),
            LanesManifest::parse_acting(p, &hostile)
                .unwrap_err()
                .to_string()
        );
    }

    /// A whole read in the memo serves an acting read; an acting one never
    /// serves a whole read (its report is gone); another stamp is read again.
    #[test]
    fn the_memo_serves_only_what_it_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("lanes.json");
        let project = Project {
            root: dir.path().to_path_buf(),
            worktree: None,
            git_common_dir: None,
        };
        let report =
            r#"{"events": [], "total_merges": 0, "independent_wps_collapsed": 0, "by_rule": {}}"#;
        std::fs::write(&p, doc(report)).unwrap();
        let acting = LanesManifest::read_shared(&p, Reading::Acting, None)
            .unwrap()
            .unwrap();
        assert!(acting.manifest().collapse_report.is_none());
        let whole = LanesManifest::read(&p).unwrap().unwrap();
        assert!(whole.collapse_report.is_some());
        let again = LanesManifest::read_shared(&p, Reading::Acting, None)
            .unwrap()
            .unwrap();
        assert_eq!(again.manifest().lanes, whole.lanes);
        assert_eq!(
            LanesManifest::lane_id_at(&project, &p, "WP02")
                .unwrap()
                .as_deref(),
            Some("lane-a")
        );
        assert_eq!(
            LanesManifest::lane_id_at(&project, &p, "WP09").unwrap(),
            None
        );
        // Rewritten (another size): read again.
        std::fs::write(&p, doc(report).replace("lane-a", "lane-bb")).unwrap();
        assert_eq!(
            LanesManifest::lane_id_at(&project, &p, "WP02")
                .unwrap()
                .as_deref(),
            Some("lane-bb")
        );
        assert_eq!(
            LanesManifest::lane_id_at(&project, &dir.path().join("none.json"), "WP02").unwrap(),
            None
        );
    }

    /// A lanes.json that does not parse, or names a bad id, fails with the
    /// same error on every read, memo or not: a memo is written only from a
    /// successful parse. A good one leaves a memo that reads back as the
    /// acting read.
    #[test]
    fn only_a_successful_parse_leaves_a_memo() {
        let dir = tempfile::tempdir().unwrap();
        let mission = dir.path().join("kitty-specs").join("001-x");
        std::fs::create_dir_all(&mission).unwrap();
        let p = mission.join("lanes.json");
        let common = dir.path().join(".git");
        let memo = super::super::memo::path_for(&common, &p).unwrap();
        // A report big enough for the file to keep a memo.
        let event = r#"{"wp_a": "WP02", "wp_b": "WP01", "rule": "dependency", "evidence": "padding the report"}"#;
        let events = vec![event; 1000].join(", ");
        let report = format!(
            r#"{{"events": [{events}], "total_merges": 0, "independent_wps_collapsed": 0, "by_rule": {{}}}}"#
        );
        let report = report.as_str();
        for bad in [
            "{".to_string(),
            doc("null").replace("lane-a", "../a"),
            doc(r#"{"events": 5}"#),
            doc(report).replace("\"version\": 1", "\"version\": -1"),
        ] {
            std::fs::write(&p, &bad).unwrap();
            super::super::memo::settle(&p);
            let want = LanesManifest::parse_acting(&p, &bad)
                .unwrap_err()
                .to_string();
            for _ in 0..2 {
                let got = LanesManifest::read_shared(&p, Reading::Acting, Some(&common))
                    .unwrap_err()
                    .to_string();
                assert_eq!(got, want);
                assert!(!memo.exists(), "{bad}");
            }
        }
        // Small: parsed, no memo.
        std::fs::write(&p, doc("null")).unwrap();
        super::super::memo::settle(&p);
        LanesManifest::read_shared(&p, Reading::Acting, Some(&common)).unwrap();
        assert!(!memo.exists());
        std::fs::write(&p, doc(report)).unwrap();
        assert!(std::fs::metadata(&p).unwrap().len() >= super::super::memo::MIN_BYTES);
        super::super::memo::settle(&p);
        let read = LanesManifest::read_shared(&p, Reading::Acting, Some(&common))
            .unwrap()
            .unwrap();
        let id = super::super::memo::identity(&std::fs::metadata(&p).unwrap()).unwrap();
        let loaded = super::super::memo::load(&memo, &id).unwrap();
        assert!(loaded.current);
        assert_eq!(loaded.lanes.manifest(), read.manifest());
        assert_eq!(read.manifest().collapse_report, None);
        // The memo's lanes are packed, and answer as the parse does.
        assert!(loaded.lanes.packed_lanes().is_some() && read.packed_lanes().is_none());
        for wp in ["WP01", "WP02", "WP03", "WP09"] {
            assert_eq!(loaded.lanes.lane_for_wp(wp), read.lane_for_wp(wp), "{wp}");
        }
        assert_eq!(loaded.lanes.lane("lane-a"), read.lane("lane-a"));
        assert_eq!(loaded.lanes.target_branch, "main");
    }
}
