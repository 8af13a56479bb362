//! The operator's setup actions, taken without the API: what `nbw server admin` and
//! `nbw standalone` do to a server they open (create users, register the embedded agent, load
//! a project). They go through the same services as the API, so the same rules hold.

use bytes::Bytes;
use nbw_core::api::{
    Bundle, CreateUser, Pipeline, PipelineInput, RegisterAgent, Role, User, Workflow, WorkflowInput,
};

use crate::auth::access::ProjectAccess;
use crate::auth::{accounts, agents};
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::{agents as agent_rows, projects, users};

/// Setup actions on one server; see [`crate::Server::admin`].
#[derive(Debug, Clone, Copy)]
pub struct Admin<'a> {
    state: &'a AppState,
}

impl<'a> Admin<'a> {
    pub(crate) fn new(state: &'a AppState) -> Admin<'a> {
        Admin { state }
    }

    /// Whether any user exists.
    pub async fn has_users(&self) -> Result<bool> {
        Ok(!users::list(&self.state.db).await?.is_empty())
    }

    /// Creates a user: `Invalid` for a bad name or password, `Conflict` when the name is taken.
    pub async fn create_user(&self, input: CreateUser) -> Result<User> {
        Ok(accounts::create_user(&self.state.db, input).await?.to_api())
    }

    /// The id of the user `username`, if there is one.
    pub async fn user_id(&self, username: &str) -> Result<Option<String>> {
        Ok(users::by_username(&self.state.db, username).await?.map(|user| user.id))
    }

    /// Registers an agent named `name` (created by `created_by`, a user id) and returns its
    /// token; the earlier agents of that name are revoked.
    pub async fn replace_agent(&self, name: &str, created_by: &str) -> Result<String> {
        let earlier = agent_rows::list_agents(&self.state.db).await?;
        for old in earlier.into_iter().filter(|a| a.name == name && !a.revoked) {
            agents::revoke(self.state, &old.id).await?;
        }
        let input = RegisterAgent { name: name.to_owned(), labels: Default::default() };
        Ok(agents::register(self.state, &input, created_by).await?.token)
    }

    /// The id of the project `name`, if there is one.
    pub async fn project_id(&self, name: &str) -> Result<Option<String>> {
        Ok(crate::auth::access::project_by_name(&self.state.db, name).await?)
    }

    /// Creates a project owned by the user `owner` (an id); returns its id.
    pub async fn create_project(&self, name: &str, description: &str, owner: &str) -> Result<String> {
        let project = projects::create(&self.state.db, name, description, owner)
            .await?
            .ok_or_else(|| Error::Conflict(format!("a project named {name:?} exists already")))?;
        Ok(project.id)
    }

    /// Stores a bundle archive under `version`, uploaded by the user `uploaded_by` (an id).
    pub async fn store_bundle(
        &self,
        project_id: &str,
        version: &str,
        archive: Bytes,
        uploaded_by: &str,
    ) -> Result<Bundle> {
        Ok(crate::bundles::store(self.state, project_id, version, archive, uploaded_by).await?.bundle)
    }

    /// Creates a workflow in the project.
    pub async fn create_workflow(&self, project_id: &str, input: WorkflowInput) -> Result<Workflow> {
        crate::workflows::create(self.state, project_id, input).await
    }

    /// Creates or replaces a pipeline of the project, checked as the API checks it.
    pub async fn put_pipeline(&self, project_id: &str, name: &str, input: PipelineInput) -> Result<Pipeline> {
        let access =
            ProjectAccess { project_id: project_id.to_owned(), name: String::new(), role: Role::Owner };
        crate::pipelines::put(self.state, &access, name, input).await
    }

    /// Sets a project secret.
    pub async fn set_secret(&self, project_id: &str, name: &str, value: &str) -> Result<()> {
        Ok(crate::secrets::write_secret(self.state, project_id, name, value).await?)
    }
}
