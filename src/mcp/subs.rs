//! Pushed updates. Two ways in, one watcher behind them:
//!
//! - protocol 2025-11-25 and older: `resources/subscribe` / `resources/unsubscribe`,
//!   then `notifications/resources/updated` for each subscribed URI that changed;
//! - protocol 2026-07-28: a `subscriptions/listen` request that stays open, its
//!   filter naming the URIs (`resourceSubscriptions`); the same notification is
//!   sent on that stream, tagged with the listen request's id (rmcp's
//!   [`SubscriptionSink`] does the tagging and refuses URIs not accepted).
//!
//! The first subscription starts the dashboard's watcher
//! ([`crate::dashboard::watch`]: a file watcher with a periodic re-stat behind
//! it). Each time it publishes a new view, every subscribed URI is re-read and
//! its content hashed; only a URI whose content really changed is announced, so
//! a `move-task` announces the mission's state, events and board, and a WP file
//! edit only that WP.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use rmcp::model::ResourceUpdatedNotificationParam;
use rmcp::service::{Peer, RoleServer, SubscriptionSendError, SubscriptionSink};

use super::resources::{self, Uri};
use crate::dashboard::model::Loader;
use crate::project::Project;

/// What one subscribed URI last looked like (a hash of its content or error).
type Seen = u64;

#[derive(Default)]
struct State {
    /// The legacy subscriber (one peer per stdio session) and its URIs.
    legacy: Option<Peer<RoleServer>>,
    legacy_uris: BTreeSet<String>,
    /// Open `subscriptions/listen` streams.
    listeners: Vec<(u64, SubscriptionSink)>,
    next_listener: u64,
    seen: BTreeMap<String, Seen>,
    watching: bool,
}

/// The subscriptions of one server.
pub struct Hub {
    project: Project,
    root: PathBuf,
    state: Mutex<State>,
    stop: Arc<AtomicBool>,
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

fn lock(m: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn fingerprint(project: &Project, root: &std::path::Path, uri: &str) -> Seen {
    let mut h = DefaultHasher::new();
    match Uri::parse(uri).map(|u| resources::read(project, root, &u)) {
        Some(Ok(c)) => c.text.hash(&mut h),
        Some(Err(e)) => e.message().hash(&mut h),
        None => 0u8.hash(&mut h),
    }
    h.finish()
}

impl Hub {
    pub fn new(project: Project, root: PathBuf) -> Arc<Hub> {
        Arc::new(Hub {
            project,
            root,
            state: Mutex::new(State::default()),
            stop: Arc::new(AtomicBool::new(false)),
        })
    }

    /// Note the current content of `uris`, so only later changes are announced.
    fn remember(&self, uris: &[String]) {
        let fresh: Vec<(String, Seen)> = uris
            .iter()
            .filter(|u| !lock(&self.state).seen.contains_key(*u))
            .map(|u| (u.clone(), fingerprint(&self.project, &self.root, u)))
            .collect();
        let mut st = lock(&self.state);
        for (u, s) in fresh {
            st.seen.entry(u).or_insert(s);
        }
    }

    /// `resources/subscribe`.
    pub fn subscribe_legacy(self: &Arc<Self>, peer: Peer<RoleServer>, uri: String) {
        self.remember(std::slice::from_ref(&uri));
        {
            let mut st = lock(&self.state);
            st.legacy = Some(peer);
            st.legacy_uris.insert(uri);
        }
        self.ensure_watching();
    }

    /// `resources/unsubscribe`.
    pub fn unsubscribe_legacy(&self, uri: &str) {
        lock(&self.state).legacy_uris.remove(uri);
    }

    /// A `subscriptions/listen` stream opened; returns its key for [`Self::drop_listener`].
    pub fn add_listener(self: &Arc<Self>, sink: SubscriptionSink) -> u64 {
        let uris = sink
            .accepted()
            .resource_subscriptions
            .clone()
            .unwrap_or_default();
        self.remember(&uris);
        let key = {
            let mut st = lock(&self.state);
            st.next_listener += 1;
            let key = st.next_listener;
            st.listeners.push((key, sink));
            key
        };
        self.ensure_watching();
        key
    }

    pub fn drop_listener(&self, key: u64) {
        lock(&self.state).listeners.retain(|(k, _)| *k != key);
    }

    fn ensure_watching(self: &Arc<Self>) {
        {
            let mut st = lock(&self.state);
            if st.watching {
                return;
            }
            st.watching = true;
        }
        let mut loader = Loader::new(self.project.clone());
        let Some(first) = loader.refresh(None, true) else {
            return;
        };
        let (tx, mut rx) = tokio::sync::watch::channel(Arc::new(first));
        match crate::dashboard::watch::spawn(loader, tx, self.stop.clone()) {
            Ok(mode) => eprintln!("spec-kitty mcp: watching for changes ({})", mode.as_str()),
            Err(e) => {
                eprintln!("spec-kitty mcp: cannot watch for changes: {e}");
                return;
            }
        }
        let hub = Arc::downgrade(self);
        tokio::spawn(async move {
            while rx.changed().await.is_ok() {
                let Some(hub) = hub.upgrade() else { break };
                hub.announce().await;
            }
        });
    }

    /// Re-read every subscribed URI and announce those whose content changed.
    async fn announce(&self) {
        let (uris, legacy, listeners) = {
            let st = lock(&self.state);
            let mut uris: BTreeSet<String> = st.legacy_uris.clone();
            for (_, sink) in &st.listeners {
                if let Some(list) = &sink.accepted().resource_subscriptions {
                    uris.extend(list.iter().cloned());
                }
            }
            (uris, st.legacy.clone(), st.listeners.clone())
        };
        let mut changed = Vec::new();
        for uri in uris {
            let now = fingerprint(&self.project, &self.root, &uri);
            let mut st = lock(&self.state);
            if st.seen.insert(uri.clone(), now) != Some(now) {
                changed.push(uri);
            }
        }
        for uri in changed {
            let legacy_wants = lock(&self.state).legacy_uris.contains(&uri);
            if let (true, Some(peer)) = (legacy_wants, legacy.as_ref()) {
                let _ = peer
                    .notify_resource_updated(ResourceUpdatedNotificationParam::new(uri.clone()))
                    .await;
            }
            for (key, sink) in &listeners {
                let wants = sink
                    .accepted()
                    .resource_subscriptions
                    .as_ref()
                    .is_some_and(|l| l.contains(&uri));
                if !wants {
                    continue;
                }
                if let Err(SubscriptionSendError::SubscriptionClosed) =
                    sink.notify_resource_updated(uri.clone()).await
                {
                    self.drop_listener(*key);
                }
            }
        }
    }
}
