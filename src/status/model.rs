use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::error::{Result, StatusError};

/// The nine lanes a work package moves through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lane {
    Planned,
    Claimed,
    InProgress,
    ForReview,
    InReview,
    Approved,
    Done,
    Blocked,
    Canceled,
}

/// All lanes, in canonical order.
pub const LANES: [Lane; 9] = [
    Lane::Planned,
    Lane::Claimed,
    Lane::InProgress,
    Lane::ForReview,
    Lane::InReview,
    Lane::Approved,
    Lane::Done,
    Lane::Blocked,
    Lane::Canceled,
];

impl Lane {
    pub fn as_str(self) -> &'static str {
        match self {
            Lane::Planned => "planned",
            Lane::Claimed => "claimed",
            Lane::InProgress => "in_progress",
            Lane::ForReview => "for_review",
            Lane::InReview => "in_review",
            Lane::Approved => "approved",
            Lane::Done => "done",
            Lane::Blocked => "blocked",
            Lane::Canceled => "canceled",
        }
    }

    /// Parse user input: trimmed, case-insensitive, `doing` means in_progress,
    /// `-` and spaces are accepted for `_`.
    pub fn parse(s: &str) -> Result<Lane> {
        let norm = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Ok(match norm.as_str() {
            "planned" => Lane::Planned,
            "claimed" => Lane::Claimed,
            "in_progress" | "doing" => Lane::InProgress,
            "for_review" => Lane::ForReview,
            "in_review" => Lane::InReview,
            "approved" => Lane::Approved,
            "done" => Lane::Done,
            "blocked" => Lane::Blocked,
            "canceled" | "cancelled" => Lane::Canceled,
            _ => {
                return Err(StatusError::UnknownLane {
                    input: s.to_string(),
                })
            }
        })
    }

    /// Terminal lanes: nothing moves out of them without `--force`.
    pub fn is_terminal(self) -> bool {
        matches!(self, Lane::Done | Lane::Canceled)
    }

    /// Weight of the lane in weighted progress (the reference's weights).
    pub fn progress_weight(self) -> f64 {
        match self {
            Lane::Planned => 0.0,
            Lane::Claimed => 0.05,
            Lane::InProgress => 0.3,
            Lane::ForReview => 0.6,
            Lane::InReview => 0.7,
            Lane::Approved => 0.8,
            Lane::Done => 1.0,
            Lane::Blocked | Lane::Canceled => 0.0,
        }
    }
}

impl fmt::Display for Lane {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of `status.events.jsonl`.
///
/// `Deserialize` is written by hand (below): the derived one, with a flattened
/// map for unknown keys, buffers every field of every line before converting it,
/// and reading a long log spent most of its time there.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusEvent {
    pub event_id: String,
    #[serde(default, alias = "feature_slug")]
    pub mission_slug: String,
    pub wp_id: String,
    pub from_lane: Lane,
    pub to_lane: Lane,
    pub at: String,
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub force: bool,
    #[serde(default = "default_execution_mode")]
    pub execution_mode: String,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub review_ref: Option<String>,
    #[serde(default)]
    pub evidence: Option<Value>,
    #[serde(default)]
    pub policy_metadata: Option<Value>,
    /// Keys we do not know, kept so a rewrite loses nothing.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl<'de> Deserialize<'de> for StatusEvent {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        RawEvent::deserialize(d).map(RawEvent::into_owned)
    }
}

/// One event as read from the log, its text borrowed from the file's bytes
/// wherever it has no escapes. Reading the board folds a long log through
/// these without allocating (and later freeing) seven strings per event.
/// It accepts and rejects exactly what [`StatusEvent`] does: that one is read
/// through this.
#[derive(Debug, Clone, PartialEq)]
pub struct RawEvent<'a> {
    pub event_id: Cow<'a, str>,
    pub mission_slug: Cow<'a, str>,
    pub wp_id: Cow<'a, str>,
    pub from_lane: Lane,
    pub to_lane: Lane,
    pub at: Cow<'a, str>,
    pub actor: Cow<'a, str>,
    pub force: bool,
    pub execution_mode: Cow<'a, str>,
    pub reason: Option<Cow<'a, str>>,
    pub review_ref: Option<Cow<'a, str>>,
    pub evidence: Option<Value>,
    pub policy_metadata: Option<Value>,
    pub extra: Map<String, Value>,
}

impl RawEvent<'_> {
    pub fn into_owned(self) -> StatusEvent {
        StatusEvent {
            event_id: self.event_id.into_owned(),
            mission_slug: self.mission_slug.into_owned(),
            wp_id: self.wp_id.into_owned(),
            from_lane: self.from_lane,
            to_lane: self.to_lane,
            at: self.at.into_owned(),
            actor: self.actor.into_owned(),
            force: self.force,
            execution_mode: self.execution_mode.into_owned(),
            reason: self.reason.map(Cow::into_owned),
            review_ref: self.review_ref.map(Cow::into_owned),
            evidence: self.evidence,
            policy_metadata: self.policy_metadata,
            extra: self.extra,
        }
    }
}

impl<'de> Deserialize<'de> for RawEvent<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_map(EventVisitor)
    }
}

/// The fields the fold needs, from an owned or a borrowed event.
pub trait EventFields {
    fn event_id(&self) -> &str;
    fn mission_slug(&self) -> &str;
    fn wp_id(&self) -> &str;
    fn at(&self) -> &str;
    fn actor(&self) -> &str;
    fn force(&self) -> bool;
    fn lane_before(&self) -> Lane;
    fn lane_after(&self) -> Lane;
    fn has_review_ref(&self) -> bool;
}

/// The event types store the same fields under the same names; only whether a
/// review reference is present is read differently (`$review`, given the event).
macro_rules! impl_event_fields {
    ($($t:ty => $review:expr),+ $(,)?) => {$(
        impl EventFields for $t {
            fn event_id(&self) -> &str {
                &self.event_id
            }
            fn mission_slug(&self) -> &str {
                &self.mission_slug
            }
            fn wp_id(&self) -> &str {
                &self.wp_id
            }
            fn at(&self) -> &str {
                &self.at
            }
            fn actor(&self) -> &str {
                &self.actor
            }
            fn force(&self) -> bool {
                self.force
            }
            fn lane_before(&self) -> Lane {
                self.from_lane
            }
            fn lane_after(&self) -> Lane {
                self.to_lane
            }
            fn has_review_ref(&self) -> bool {
                let review: fn(&Self) -> bool = $review;
                review(self)
            }
        }
    )+};
}

/// The fields of one event that the board's fold and its roles read, borrowed
/// like [`RawEvent`]'s. A line is read and checked as a whole [`RawEvent`]
/// (so it accepts and rejects the same lines), then only these are kept: a
/// long log held this way takes a third of the memory (and its page faults).
#[derive(Debug, Clone, PartialEq)]
pub struct FoldEvent<'a> {
    pub event_id: Cow<'a, str>,
    pub mission_slug: Cow<'a, str>,
    pub wp_id: Cow<'a, str>,
    pub at: Cow<'a, str>,
    pub actor: Cow<'a, str>,
    pub from_lane: Lane,
    pub to_lane: Lane,
    pub force: bool,
    /// The review reference and the note: the feedback of a review that sends
    /// the WP back (see [`super::work::changes_requested`]).
    pub review_ref: Option<Cow<'a, str>>,
    pub reason: Option<Cow<'a, str>>,
    /// The commits the guards read: `claim_commit` and `hand_in_commit`
    /// (extra keys), and the approved commit (`evidence.repos[].commit` of a
    /// move to approved or done). See [`crate::status::work`].
    pub commits: Option<Box<EventCommits>>,
}

/// The commits one event records (see [`FoldEvent::commits`]); None of them
/// on most events, so a fold event carries them boxed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventCommits {
    pub claim: Option<String>,
    pub hand_in: Option<String>,
    pub approved: Option<String>,
}

impl EventCommits {
    /// What `extra` and `evidence` of an event moving to `to` record.
    pub fn of(to: Lane, extra: &Map<String, Value>, evidence: Option<&Value>) -> Option<Box<Self>> {
        let key = |k: &str| extra.get(k).and_then(Value::as_str).map(str::to_string);
        let approved = matches!(to, Lane::Approved | Lane::Done)
            .then(|| {
                evidence?.get("repos")?.as_array()?.iter().find_map(|r| {
                    r.get("commit")?
                        .as_str()
                        .filter(|c| crate::git::Oid::from_str(c).is_ok())
                        .map(str::to_string)
                })
            })
            .flatten();
        let c = EventCommits {
            claim: key(super::work::CLAIM_COMMIT),
            hand_in: key(super::work::HAND_IN_COMMIT),
            approved,
        };
        (c != EventCommits::default()).then(|| Box::new(c))
    }
}

impl<'a> From<RawEvent<'a>> for FoldEvent<'a> {
    fn from(e: RawEvent<'a>) -> Self {
        FoldEvent {
            review_ref: e.review_ref,
            reason: e.reason,
            commits: EventCommits::of(e.to_lane, &e.extra, e.evidence.as_ref()),
            event_id: e.event_id,
            mission_slug: e.mission_slug,
            wp_id: e.wp_id,
            at: e.at,
            actor: e.actor,
            from_lane: e.from_lane,
            to_lane: e.to_lane,
            force: e.force,
        }
    }
}

/// The [`FoldEvent`] of an event `$e` borrowed from it: a [`RawEvent`] read
/// from a line or a [`StatusEvent`] being written, whose fields have the same
/// names and types as far as the fold reads them.
macro_rules! borrowed_fold_event {
    ($e:expr) => {{
        let e = $e;
        FoldEvent {
            event_id: Cow::Borrowed(&e.event_id),
            mission_slug: Cow::Borrowed(&e.mission_slug),
            wp_id: Cow::Borrowed(&e.wp_id),
            at: Cow::Borrowed(&e.at),
            actor: Cow::Borrowed(&e.actor),
            from_lane: e.from_lane,
            to_lane: e.to_lane,
            force: e.force,
            review_ref: e.review_ref.as_deref().map(Cow::Borrowed),
            reason: e.reason.as_deref().map(Cow::Borrowed),
            commits: EventCommits::of(e.to_lane, &e.extra, e.evidence.as_ref()),
        }
    }};
}

impl<'a> FoldEvent<'a> {
    /// The fold's fields of `e`, borrowed from it.
    pub fn view(e: &'a RawEvent<'_>) -> FoldEvent<'a> {
        borrowed_fold_event!(e)
    }
}

impl<'a> FoldEvent<'a> {
    /// The fold's fields of an event being written, borrowed from it: what
    /// reading its line back gives ([`StatusEvent::to_line`] loses nothing
    /// the fold reads).
    pub fn of_event(e: &'a StatusEvent) -> FoldEvent<'a> {
        borrowed_fold_event!(e)
    }
}

impl<'de> Deserialize<'de> for FoldEvent<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        RawEvent::deserialize(d).map(FoldEvent::from)
    }
}

impl_event_fields!(
    StatusEvent => |e| e.review_ref.is_some(),
    RawEvent<'_> => |e| e.review_ref.is_some(),
    FoldEvent<'_> => |e| e.review_ref.is_some(),
);

/// A JSON string, borrowed from the input when it has no escapes. Its error
/// messages are `String`'s ("expected a string").
struct LogStr<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for LogStr<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = LogStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> std::result::Result<LogStr<'de>, E> {
                Ok(LogStr(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<LogStr<'de>, E> {
                Ok(LogStr(Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> std::result::Result<LogStr<'de>, E> {
                Ok(LogStr(Cow::Owned(v)))
            }
        }
        d.deserialize_string(V)
    }
}

struct EventVisitor;

impl<'de> serde::de::Visitor<'de> for EventVisitor {
    type Value = RawEvent<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a status event object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<RawEvent<'de>, A::Error> {
        use serde::de::Error as _;
        fn once<T, E: serde::de::Error>(
            slot: &mut Option<T>,
            v: T,
            key: &'static str,
        ) -> Result<(), E> {
            if slot.is_some() {
                return Err(E::duplicate_field(key));
            }
            *slot = Some(v);
            Ok(())
        }
        let s = |v: LogStr<'de>| v.0;
        let opt = |v: Option<LogStr<'de>>| v.map(|v| v.0);
        let mut event_id = None;
        let mut mission_slug = None;
        let mut wp_id = None;
        let mut from_lane = None;
        let mut to_lane = None;
        let mut at = None;
        let mut actor = None;
        let mut force = None;
        let mut execution_mode = None;
        let mut reason = None;
        let mut review_ref = None;
        let mut evidence = None;
        let mut policy_metadata = None;
        let mut extra = Map::new();
        while let Some(LogStr(key)) = map.next_key::<LogStr<'de>>()? {
            match key.as_ref() {
                "event_id" => once(&mut event_id, s(map.next_value()?), "event_id")?,
                "mission_slug" | "feature_slug" => {
                    once(&mut mission_slug, s(map.next_value()?), "mission_slug")?
                }
                "wp_id" => once(&mut wp_id, s(map.next_value()?), "wp_id")?,
                "from_lane" => once(&mut from_lane, map.next_value::<Lane>()?, "from_lane")?,
                "to_lane" => once(&mut to_lane, map.next_value::<Lane>()?, "to_lane")?,
                "at" => once(&mut at, s(map.next_value()?), "at")?,
                "actor" => once(&mut actor, s(map.next_value()?), "actor")?,
                "force" => once(&mut force, map.next_value::<bool>()?, "force")?,
                "execution_mode" => {
                    once(&mut execution_mode, s(map.next_value()?), "execution_mode")?
                }
                "reason" => once(&mut reason, opt(map.next_value()?), "reason")?,
                "review_ref" => once(&mut review_ref, opt(map.next_value()?), "review_ref")?,
                "evidence" => once(
                    &mut evidence,
                    map.next_value::<Option<Value>>()?,
                    "evidence",
                )?,
                "policy_metadata" => once(
                    &mut policy_metadata,
                    map.next_value::<Option<Value>>()?,
                    "policy_metadata",
                )?,
                other => {
                    let v: Value = map.next_value()?;
                    extra.insert(other.to_string(), v);
                }
            }
        }
        Ok(RawEvent {
            event_id: event_id.ok_or_else(|| A::Error::missing_field("event_id"))?,
            mission_slug: mission_slug.unwrap_or_default(),
            wp_id: wp_id.ok_or_else(|| A::Error::missing_field("wp_id"))?,
            from_lane: from_lane.ok_or_else(|| A::Error::missing_field("from_lane"))?,
            to_lane: to_lane.ok_or_else(|| A::Error::missing_field("to_lane"))?,
            at: at.ok_or_else(|| A::Error::missing_field("at"))?,
            actor: actor.unwrap_or_default(),
            force: force.unwrap_or_default(),
            execution_mode: execution_mode.unwrap_or(Cow::Borrowed("worktree")),
            reason: reason.flatten(),
            review_ref: review_ref.flatten(),
            evidence: evidence.flatten(),
            policy_metadata: policy_metadata.flatten(),
            extra,
        })
    }
}

impl StatusEvent {
    /// The event as the reference writes it: sorted keys, Python separators, one line.
    pub fn to_line(&self) -> String {
        if !self.extra.is_empty() {
            return self.to_line_generic();
        }
        // No unknown keys: the known ones in their sorted order, written
        // directly (a `Value` tree built, sorted and copied per event was
        // most of the cost of appending a thousand bootstrap events).
        use crate::jsonfmt::{write_py_sorted, write_py_str};
        let mut out = String::with_capacity(400);
        let mut first = true;
        let mut key = |out: &mut String, k: &str| {
            out.push_str(if first { "{" } else { ", " });
            first = false;
            write_py_str(k, out);
            out.push_str(": ");
        };
        let opt_str = |out: &mut String, v: &Option<String>| match v {
            Some(s) => write_py_str(s, out),
            None => out.push_str("null"),
        };
        let opt_value = |out: &mut String, v: &Option<Value>| match v {
            Some(v) => write_py_sorted(v, out),
            None => out.push_str("null"),
        };
        key(&mut out, "actor");
        write_py_str(&self.actor, &mut out);
        key(&mut out, "at");
        write_py_str(&self.at, &mut out);
        key(&mut out, "event_id");
        write_py_str(&self.event_id, &mut out);
        key(&mut out, "evidence");
        opt_value(&mut out, &self.evidence);
        key(&mut out, "execution_mode");
        write_py_str(&self.execution_mode, &mut out);
        key(&mut out, "force");
        out.push_str(if self.force { "true" } else { "false" });
        key(&mut out, "from_lane");
        write_py_str(self.from_lane.as_str(), &mut out);
        key(&mut out, "mission_slug");
        write_py_str(&self.mission_slug, &mut out);
        key(&mut out, "policy_metadata");
        opt_value(&mut out, &self.policy_metadata);
        key(&mut out, "reason");
        opt_str(&mut out, &self.reason);
        key(&mut out, "review_ref");
        opt_str(&mut out, &self.review_ref);
        key(&mut out, "to_lane");
        write_py_str(self.to_lane.as_str(), &mut out);
        key(&mut out, "wp_id");
        write_py_str(&self.wp_id, &mut out);
        out.push('}');
        out
    }

    /// [`Self::to_line`] through a `serde_json` value, sorted: any keys.
    fn to_line_generic(&self) -> String {
        let v = serde_json::to_value(self).unwrap_or(Value::Null);
        crate::jsonfmt::py_line(&crate::jsonfmt::sorted(&v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_execution_mode() -> String {
        "worktree".to_string()
    }

    /// The derived reader this module used before: the hand-written one must
    /// accept and reject the same lines and read the same values.
    #[derive(Debug, Deserialize)]
    struct Derived {
        event_id: String,
        #[serde(default, alias = "feature_slug")]
        mission_slug: String,
        wp_id: String,
        from_lane: Lane,
        to_lane: Lane,
        at: String,
        #[serde(default)]
        actor: String,
        #[serde(default)]
        force: bool,
        #[serde(default = "default_execution_mode")]
        execution_mode: String,
        #[serde(default)]
        reason: Option<String>,
        #[serde(default)]
        review_ref: Option<String>,
        #[serde(default)]
        evidence: Option<Value>,
        #[serde(default)]
        policy_metadata: Option<Value>,
        #[serde(flatten)]
        extra: Map<String, Value>,
    }

    fn same(line: &str) -> bool {
        let new = serde_json::from_str::<StatusEvent>(line);
        // The borrowed reader reads the same event (or fails the same way).
        match (&new, serde_json::from_str::<RawEvent>(line)) {
            (Ok(n), Ok(r)) => assert_eq!(n, &r.into_owned(), "{line}"),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{line}"),
            (n, r) => panic!("{line}: owned {n:?}, borrowed {r:?}"),
        }
        let old = serde_json::from_str::<Derived>(line);
        match (new, old) {
            (Ok(n), Ok(o)) => {
                let o = StatusEvent {
                    event_id: o.event_id,
                    mission_slug: o.mission_slug,
                    wp_id: o.wp_id,
                    from_lane: o.from_lane,
                    to_lane: o.to_lane,
                    at: o.at,
                    actor: o.actor,
                    force: o.force,
                    execution_mode: o.execution_mode,
                    reason: o.reason,
                    review_ref: o.review_ref,
                    evidence: o.evidence,
                    policy_metadata: o.policy_metadata,
                    extra: o.extra,
                };
                assert_eq!(n, o, "{line}");
                true
            }
            (Err(_), Err(_)) => false,
            (n, o) => panic!("{line}: hand-written {n:?}, derived {o:?}"),
        }
    }

    /// The direct writer of a line writes what the sorted `serde_json` value
    /// writes, byte for byte: every lane, text that needs escapes (quotes,
    /// control characters, non-ASCII, astral), evidence and policy values of
    /// every kind (nested, unsorted, floats); unknown keys go the generic way.
    #[test]
    fn an_event_line_is_written_as_the_sorted_json_value_writes_it() {
        let mut next = crate::testutil::xorshift(0x0011_ae0f_e7e4_7001);
        let texts = [
            "",
            "finalize-tasks",
            "canonical bootstrap",
            "quote \" and \\ back",
            "line\nbreak\ttab\r\u{8}\u{c}\u{1}\u{7f}",
            "caf\u{e9} \u{1f600} \u{2028}",
            "2026-12-06T06:23:47.377744+00:00",
        ];
        let values = [
            serde_json::json!(null),
            serde_json::json!({"z": 1, "a": [2.5, 1e20, -0.0, {"y": true, "b": null}], "m": "\u{e9}"}),
            serde_json::json!([1, "two", 3.25]),
            serde_json::json!({"review": {"verdict": "approved", "reviewer": "r"}}),
        ];
        for _ in 0..2_000 {
            let mut pick = |n: usize| next(n as u64) as usize;
            let text = |k: usize| texts[k].to_string();
            let opt = |k: usize| (!k.is_multiple_of(3)).then(|| texts[k % texts.len()].to_string());
            let value = |k: usize| {
                k.is_multiple_of(2)
                    .then(|| values[k / 2 % values.len()].clone())
            };
            let mut e = StatusEvent {
                event_id: text(pick(texts.len())),
                mission_slug: text(pick(texts.len())),
                wp_id: text(pick(texts.len())),
                from_lane: LANES[pick(LANES.len())],
                to_lane: LANES[pick(LANES.len())],
                at: text(pick(texts.len())),
                actor: text(pick(texts.len())),
                force: pick(2) == 0,
                execution_mode: text(pick(texts.len())),
                reason: opt(pick(9)),
                review_ref: opt(pick(9)),
                evidence: value(pick(8)),
                policy_metadata: value(pick(8)),
                extra: Map::new(),
            };
            assert_eq!(e.to_line(), e.to_line_generic(), "{e:?}");
            if pick(4) == 0 {
                e.extra
                    .insert("zz_extra".into(), serde_json::json!({"k": [1]}));
                e.extra.insert("b_extra".into(), serde_json::json!("x"));
                assert_eq!(e.to_line(), e.to_line_generic(), "{e:?}");
                assert!(e.to_line().contains(r#""b_extra": "x", "event_id""#));
            }
        }
    }

    #[test]
    fn hand_written_reader_matches_the_derived_one() {
        let fields = [
            r#""event_id": "01J""#,
            r#""mission_slug": "001-x""#,
            r#""feature_slug": "001-y""#,
            r#""wp_id": "WP01""#,
            r#""from_lane": "planned""#,
            r#""to_lane": "claimed""#,
            r#""at": "2026-01-01T00:00:00+00:00""#,
            r#""actor": "a""#,
            r#""actor": null"#,
            r#""force": true"#,
            r#""force": null"#,
            r#""execution_mode": "direct_repo""#,
            r#""reason": null"#,
            r#""reason": "why""#,
            r#""review_ref": "r""#,
            r#""evidence": {"review": {"verdict": "approved"}}"#,
            r#""evidence": null"#,
            r#""policy_metadata": [1, 2]"#,
            r#""unknown": {"kept": true}"#,
            r#""to_lane": "sideways""#,
            r#""wp_id": 7"#,
        ];
        // Every subset of a rotating window of fields, in two orders.
        let n = fields.len();
        let mut read = 0;
        for start in 0..n {
            for mask in 0u32..(1 << 9) {
                let picked: Vec<&str> = (0..9)
                    .filter(|b| mask & (1 << b) != 0)
                    .map(|b| fields[(start + b) % n])
                    .collect();
                read += usize::from(same(&format!("{{{}}}", picked.join(", "))));
                let rev: Vec<&str> = picked.iter().rev().copied().collect();
                read += usize::from(same(&format!("{{{}}}", rev.join(", "))));
            }
        }
        // The required fields plus every subset of a window of the others.
        let required: Vec<&str> = [0, 3, 4, 5, 6].iter().map(|&i| fields[i]).collect();
        let optional: Vec<&str> = [1, 2]
            .into_iter()
            .chain(7..fields.len())
            .map(|i| fields[i])
            .collect();
        let m = optional.len();
        for start in 0..m {
            for mask in 0u32..(1 << 7) {
                let mut picked: Vec<&str> = (0..7)
                    .filter(|b| mask & (1 << b) != 0)
                    .map(|b| optional[(start + b) % m])
                    .collect();
                picked.extend_from_slice(&required);
                read += usize::from(same(&format!("{{{}}}", picked.join(", "))));
                let len = picked.len();
                picked.rotate_left(start % len);
                read += usize::from(same(&format!("{{{}}}", picked.join(", "))));
            }
        }
        assert!(read > 1000, "only {read} lines were readable");
        let full = r#""event_id": "E", "wp_id": "WP01", "from_lane": "planned", "to_lane": "done", "at": "t""#;
        assert!(same(&format!("{{{full}}}")));
        same(&format!("{{{full}, \"x\": 1, \"y\": [null]}}"));
        same(&format!("{{{full}, \"wp_id\": \"WP02\"}}"));
        same(&format!(
            "{{{full}, \"mission_slug\": \"a\", \"feature_slug\": \"b\"}}"
        ));
        same(&format!("{{{full}, \"unknown\": 1, \"unknown\": 2}}"));
        same(&format!("{{{full}, \"event\\u005fid\": \"escaped\"}}"));
        for bad in [
            "[]",
            "null",
            "\"s\"",
            "{",
            "{\"event_id\": }",
            "[\"E\", \"WP01\"]",
        ] {
            same(bad);
        }
    }
}
