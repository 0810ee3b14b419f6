//! The rmcp [`ServerHandler`]: maps each request to one operation (a tool, a
//! resource read, a subscription) and renders its outcome.

use std::path::PathBuf;
use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, Implementation, ListResourceTemplatesResult,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams,
    ReadResourceResponse, ReadResourceResult, ResourceContents, ServerCapabilities, ServerConfig,
    SubscribeRequestParams, SubscriptionFilter, UnsubscribeRequestParams,
};
use rmcp::service::{RequestContext, RoleServer, SubscriptionContext};
use rmcp::{ErrorData, ServerHandler};

use super::resources::{self, ReadError, Uri};
use super::subs::Hub;
use super::tools::{self, CallError};
use crate::project::Project;

const INSTRUCTIONS: &str =
    "spec-kitty drives spec-driven missions. Call next_step with your agent \
name to learn what to do; read spec-kitty://board or subscribe to \
spec-kitty://mission/<slug>/state to learn when a work package changes lane.";

/// One server over one project.
#[derive(Clone)]
pub struct Server {
    project: Project,
    root: PathBuf,
    hub: Arc<Hub>,
    /// Held (shared) by every running tool call; [`Server::drained`] takes it
    /// exclusively, so a shutdown waits for operations already under way (a
    /// merge is never cut short by SIGTERM or the client leaving).
    inflight: Arc<tokio::sync::RwLock<()>>,
}

impl Server {
    pub fn new(project: Project) -> Server {
        let root = std::fs::canonicalize(&project.root).unwrap_or_else(|_| project.root.clone());
        let hub = Hub::new(project.clone(), root.clone());
        Server {
            project,
            root,
            hub,
            inflight: Arc::new(tokio::sync::RwLock::new(())),
        }
    }

    /// Resolves once no tool call is running (and none can start).
    pub fn drained(&self) -> impl std::future::Future<Output = ()> + 'static {
        let lock = self.inflight.clone();
        async move {
            let _all = lock.write_owned().await;
        }
    }
}

fn read_error(uri: &str, e: ReadError) -> ErrorData {
    match e {
        ReadError::NotFound(m) => {
            ErrorData::resource_not_found(m, Some(serde_json::json!({ "uri": uri })))
        }
        ReadError::Failed(m) => {
            ErrorData::internal_error(m, Some(serde_json::json!({ "uri": uri })))
        }
    }
}

fn parse_uri(uri: &str) -> Result<Uri, ErrorData> {
    Uri::parse(uri).ok_or_else(|| {
        ErrorData::resource_not_found(
            format!("unknown resource {uri:?}: spec-kitty://board or spec-kitty://mission/<slug>/state|lanes|events|wp/<WPnn>"),
            Some(serde_json::json!({ "uri": uri })),
        )
    })
}

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .enable_resources_subscribe()
                .build(),
        )
        .with_server_info(Implementation::new("spec-kitty", crate::VERSION))
        .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(tools::list()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let project = self.project.clone();
        let name = request.name.to_string();
        let args = request.arguments;
        let running = self.inflight.clone().read_owned().await;
        eprintln!("spec-kitty mcp: tool {name}");
        // Operations read and write files (and git): off the async thread.
        let outcome = tokio::task::spawn_blocking(move || {
            let _running = running;
            tools::call(&project, &name, args)
        })
        .await
        .map_err(|e| ErrorData::internal_error(format!("tool panicked: {e}"), None))?;
        match outcome {
            Ok(o) => Ok(tools::render(o).into()),
            Err(CallError::UnknownTool(n)) => Err(ErrorData::invalid_params(
                format!("unknown tool {n:?}"),
                None,
            )),
            Err(CallError::BadArguments(m)) => Err(ErrorData::invalid_params(
                format!("invalid arguments for {}: {m}", request.name),
                None,
            )),
        }
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let project = self.project.clone();
        let list = tokio::task::spawn_blocking(move || resources::list(&project))
            .await
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        Ok(ListResourcesResult::with_all_items(list))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(ListResourceTemplatesResult::with_all_items(
            resources::templates(),
        ))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let uri = parse_uri(&request.uri)?;
        let (project, root) = (self.project.clone(), self.root.clone());
        let read = tokio::task::spawn_blocking(move || resources::read(&project, &root, &uri))
            .await
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        let c = read.map_err(|e| read_error(&request.uri, e))?;
        Ok(ReadResourceResult::new(vec![
            ResourceContents::text(c.text, request.uri).with_mime_type(c.mime)
        ])
        .into())
    }

    #[allow(deprecated)]
    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        parse_uri(&request.uri)?;
        let hub = self.hub.clone();
        let peer = context.peer.clone();
        // The first subscription loads the project view: off the async thread.
        tokio::task::spawn_blocking(move || {
            let rt = tokio::runtime::Handle::current();
            let _g = rt.enter();
            hub.subscribe_legacy(peer, request.uri)
        })
        .await
        .map_err(|e| ErrorData::internal_error(e.to_string(), None))
    }

    #[allow(deprecated)]
    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.hub.unsubscribe_legacy(&request.uri);
        Ok(())
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        // Only resource updates are pushed; only URIs this server knows are accepted.
        let uris: Vec<String> = requested
            .resource_subscriptions
            .iter()
            .flatten()
            .filter(|u| Uri::parse(u).is_some())
            .cloned()
            .collect();
        Some(
            SubscriptionFilter::builder()
                .resource_subscriptions(uris)
                .build(),
        )
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), ErrorData> {
        let hub = self.hub.clone();
        let sink = context.sink().clone();
        let key = tokio::task::spawn_blocking(move || {
            let rt = tokio::runtime::Handle::current();
            let _g = rt.enter();
            hub.add_listener(sink)
        })
        .await
        .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        context.cancelled().await;
        self.hub.drop_listener(key);
        Ok(())
    }
}
