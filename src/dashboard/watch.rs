//! Keeping the view fresh: a file watcher for speed, a periodic re-stat for
//! certainty.
//!
//! Why both. A watcher (inotify, FSEvents, ReadDirectoryChangesW through the
//! `notify` crate) reports a `move-task` within milliseconds and costs nothing
//! while nothing changes; polling fast enough for the 300 ms promise would stat
//! every file of every mission several times a second. But watchers can miss
//! things: the inotify queue overflows, the watch limit is reached, a network
//! file system sends nothing, a directory is replaced. So every
//! [`RECONCILE`] the whole project is re-stat'ed anyway (a few thousand
//! `stat` calls on a large project, no reads), and only missions whose
//! [`super::model::Fingerprint`] changed are re-read. Without a watcher the
//! same re-stat runs every [`POLL`]. Either way the page cannot stay stale for
//! longer than one re-stat interval, however long the dashboard runs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode, EventKind};
use notify::{RecursiveMode, Watcher};
use tokio::sync::watch;

use super::model::{Loader, ProjectView};

/// Full re-stat interval while a watcher runs.
pub const RECONCILE: Duration = Duration::from_secs(2);
/// Re-stat interval when no watcher could be started.
pub const POLL: Duration = Duration::from_millis(150);
/// How long to wait for a burst of events (one atomic write is several) to end.
const QUIET: Duration = Duration::from_millis(15);
const BURST_MAX: Duration = Duration::from_millis(60);

/// How changes are noticed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Watcher,
    Polling,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Watcher => "watcher",
            Mode::Polling => "polling",
        }
    }
}

enum Msg {
    Paths(Vec<PathBuf>),
    Rescan,
}

/// Start the thread that builds the first view into `tx`, then keeps it up
/// to date until `stop` is set.
pub fn spawn(
    mut loader: Loader,
    tx: watch::Sender<Arc<ProjectView>>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<Mode> {
    let (etx, erx) = mpsc::channel::<Msg>();
    let root = loader.project.root.clone();
    let specs = loader.project.specs_dir();
    let kittify = loader.project.kittify_dir();
    let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Some(msg) = message(res) {
            let _ = etx.send(msg);
        }
    })
    .ok()
    .and_then(|mut w| {
        // The root (non-recursive) sees kitty-specs/ appear; kitty-specs/ and
        // .kittify/charter/ are watched whole, by the thread (a watch of
        // hundreds of missions walks every file of them).
        w.watch(&root, RecursiveMode::NonRecursive).ok()?;
        let _ = w.watch(&kittify, RecursiveMode::NonRecursive);
        Some(w)
    });
    let mode = if watcher.is_some() {
        Mode::Watcher
    } else {
        Mode::Polling
    };
    std::thread::Builder::new()
        .name("dashboard-watch".into())
        .spawn(move || {
            let mut watcher = watcher;
            // The first view (the server answers `/api/health` meanwhile;
            // its pages wait for this one), published once the watches are
            // set (the walk of every mission file, and the events of it, are
            // over before a page is served). What changes meanwhile the next
            // re-stat sees.
            let first = loader.refresh(None, true);
            let mut specs_watched = false;
            // kitty-specs/ was there and could not be watched whole (the
            // watch limit): its missions are re-stat'ed as often as when no
            // watcher runs, and the walk is not tried again on every event.
            let mut specs_failed = false;
            if let Some(w) = watcher.as_mut() {
                if specs.is_dir() {
                    specs_watched = w.watch(&specs, RecursiveMode::Recursive).is_ok();
                    specs_failed = !specs_watched;
                }
                let charter = kittify.join("charter");
                if charter.is_dir() {
                    let _ = w.watch(&charter, RecursiveMode::Recursive);
                }
            }
            publish(&tx, first);
            let interval = if watcher.is_some() && !specs_failed {
                RECONCILE
            } else {
                POLL
            };
            while !stop.load(Ordering::Relaxed) && !tx.is_closed() {
                let first = match erx.recv_timeout(interval) {
                    Ok(m) => m,
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        publish(&tx, loader.refresh(None, false));
                        continue;
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => {
                        // The watcher is gone: keep going by polling.
                        watcher = None;
                        std::thread::sleep(POLL);
                        publish(&tx, loader.refresh(None, false));
                        continue;
                    }
                };
                // Gather the rest of the burst.
                let mut msgs = vec![first];
                let start = Instant::now();
                while start.elapsed() < BURST_MAX {
                    match erx.recv_timeout(QUIET) {
                        Ok(m) => msgs.push(m),
                        Err(_) => break,
                    }
                }
                let mut missions = BTreeSet::new();
                let mut rescan = false;
                let mut force = false;
                for m in msgs {
                    match m {
                        Msg::Rescan => rescan = true,
                        Msg::Paths(paths) => {
                            for p in paths {
                                match classify(&p, &specs, &kittify) {
                                    Some(Touched::Mission(dir)) => {
                                        missions.insert(dir);
                                    }
                                    Some(Touched::Specs) => rescan = true,
                                    Some(Touched::Project) => force = true,
                                    None => {}
                                }
                            }
                        }
                    }
                }
                if !specs_watched && !specs_failed && specs.is_dir() {
                    if let Some(w) = watcher.as_mut() {
                        specs_watched = w.watch(&specs, RecursiveMode::Recursive).is_ok();
                    }
                    rescan = true;
                }
                let only = if rescan { None } else { Some(&missions) };
                if rescan || force || !missions.is_empty() {
                    publish(&tx, loader.refresh(only, force));
                }
            }
        })?;
    Ok(mode)
}

/// What a watcher's event asks of the loader; None for an event that
/// changed nothing. A file or directory opened (or closed unwritten)
/// changed nothing: the loader's own reads and re-stats are such events,
/// and taking them for changes re-read the project without end (an idle
/// dashboard of 437 missions used a third of a core).
fn message(res: notify::Result<notify::Event>) -> Option<Msg> {
    Some(match res {
        Ok(ev) if ev.need_rescan() => Msg::Rescan,
        Ok(ev) if !changes_something(&ev.kind) => return None,
        Ok(ev) => Msg::Paths(ev.paths),
        Err(_) => Msg::Rescan,
    })
}

/// Whether an event of this kind can change what the pages show: anything
/// but an access (inotify reports every open, including the dashboard's own
/// reads), except a file closed after writing.
fn changes_something(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

/// Publish a new view, its index page rendered first: the first `GET /`
/// after a view is out is served from memory like every later one (on a
/// project of hundreds of missions the render is most of that request),
/// and it is this view's page, never an older one's.
fn publish(tx: &watch::Sender<Arc<ProjectView>>, view: Option<ProjectView>) {
    if let Some(v) = view {
        super::server::index_page(&v);
        tx.send_replace(Arc::new(v));
    }
}

enum Touched {
    /// Something inside one mission directory.
    Mission(PathBuf),
    /// kitty-specs/ itself (a mission added, removed or renamed).
    Specs,
    /// Something the pages show outside the missions (the charter).
    Project,
}

fn classify(p: &Path, specs: &Path, kittify: &Path) -> Option<Touched> {
    if let Ok(rest) = p.strip_prefix(specs) {
        let mut parts = rest.components();
        return match (parts.next(), parts.next()) {
            (Some(first), Some(_)) => Some(Touched::Mission(specs.join(first))),
            _ => Some(Touched::Specs),
        };
    }
    if p == specs {
        return Some(Touched::Specs);
    }
    if p.starts_with(kittify.join("charter")) {
        return Some(Touched::Project);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changes_are_messages() {
        use notify::event::{CreateKind, ModifyKind};
        let ev =
            |kind| Ok(notify::Event::new(kind).add_path("/p/kitty-specs/001-a/meta.json".into()));
        let is_paths = |m: Option<Msg>| matches!(m, Some(Msg::Paths(p)) if p.len() == 1);
        assert!(message(ev(EventKind::Access(AccessKind::Open(AccessMode::Any)))).is_none());
        assert!(message(ev(EventKind::Access(AccessKind::Close(AccessMode::Read)))).is_none());
        assert!(message(ev(EventKind::Access(AccessKind::Read))).is_none());
        assert!(is_paths(message(ev(EventKind::Access(AccessKind::Close(
            AccessMode::Write
        ))))));
        assert!(is_paths(message(ev(EventKind::Modify(ModifyKind::Any)))));
        assert!(is_paths(message(ev(EventKind::Create(CreateKind::File)))));
        assert!(is_paths(message(ev(EventKind::Any))));
        assert!(matches!(
            message(Err(notify::Error::generic("lost"))),
            Some(Msg::Rescan)
        ));
    }

    /// With a real watcher: reading files and listing directories (what the
    /// loader does on every re-stat) sends nothing; a write does. The
    /// marker's write comes after the reads in the same queue, so every
    /// message before it is one the reads sent.
    #[test]
    fn reads_of_watched_files_send_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("kitty-specs/001-a");
        std::fs::create_dir_all(m.join("tasks")).unwrap();
        std::fs::write(m.join("meta.json"), "{}").unwrap();
        let (tx, rx) = mpsc::channel();
        let mut w = notify::recommended_watcher(move |res| {
            if let Some(msg) = message(res) {
                let _ = tx.send(msg);
            }
        })
        .unwrap();
        w.watch(dir.path(), RecursiveMode::Recursive).unwrap();
        for _ in 0..3 {
            std::fs::read(m.join("meta.json")).unwrap();
            std::fs::read_dir(m.join("tasks")).unwrap().for_each(drop);
            std::fs::read_dir(&m).unwrap().for_each(drop);
        }
        let marker = m.join("tasks/WP01.md");
        std::fs::write(&marker, "x").unwrap();
        // The first message after the reads must be the marker's.
        match rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the write's event")
        {
            Msg::Paths(p) => assert!(p.contains(&marker), "a read sent {p:?}"),
            Msg::Rescan => panic!("a read sent a rescan"),
        }
    }

    /// A view is published with its index page already rendered (the
    /// first `GET /` renders nothing), and the page is that view's.
    #[test]
    fn a_view_is_published_with_its_index_rendered() {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("kitty-specs/001-a");
        std::fs::create_dir_all(m.join("tasks")).unwrap();
        std::fs::write(m.join("meta.json"), "{}").unwrap();
        let mut loader = Loader::new(crate::project::Project::at(dir.path()));
        let (tx, rx) = watch::channel(Arc::new(ProjectView::pending(dir.path())));
        assert!(rx.borrow().index_page.get().is_none());
        for _ in 0..2 {
            publish(&tx, loader.refresh(None, true));
            let v = rx.borrow().clone();
            let page = v
                .index_page
                .get()
                .expect("rendered before it was published");
            assert_eq!(&page[..], super::super::views::index(&v).as_bytes());
            assert!(std::str::from_utf8(page).unwrap().contains("001-a"));
        }
        assert_eq!(rx.borrow().version, 2);
        // Nothing changed: nothing published, nothing rendered.
        publish(&tx, loader.refresh(None, false));
        assert_eq!(rx.borrow().version, 2);
    }

    #[test]
    fn paths_map_to_missions() {
        let specs = Path::new("/p/kitty-specs");
        let k = Path::new("/p/.kittify");
        let m = |p: &str| match classify(Path::new(p), specs, k) {
            Some(Touched::Mission(d)) => d.to_string_lossy().into_owned(),
            Some(Touched::Specs) => "specs".into(),
            Some(Touched::Project) => "project".into(),
            None => "none".into(),
        };
        assert_eq!(
            m("/p/kitty-specs/001-a/tasks/WP01.md"),
            "/p/kitty-specs/001-a"
        );
        assert_eq!(m("/p/kitty-specs/001-a/meta.json"), "/p/kitty-specs/001-a");
        assert_eq!(m("/p/kitty-specs/001-a"), "specs");
        assert_eq!(m("/p/kitty-specs"), "specs");
        assert_eq!(m("/p/.kittify/charter/charter.md"), "project");
        assert_eq!(m("/p/.kittify/.dashboard"), "none");
        assert_eq!(m("/p/README.md"), "none");
    }
}
