//! The team routes of [`UserClient`]: user accounts and agents (administrators), projects and
//! their members (`nbw admin ...`, `nbw project ...`, `nbw members ...`).

use nbw_core::api::{
    Agent, AgentCreated, CreateUser, Member, Project, RegisterAgent, ResetPassword, Role, SetMember, User,
};
use reqwest::Method;

use crate::ClientError;
use crate::user::{UserClient, segment};

impl UserClient {
    // --- users (administrators) -----------------------------------------------------------

    /// Every user account.
    pub async fn users(&self) -> Result<Vec<User>, ClientError> {
        self.http.json::<(), _>(Method::GET, "/v1/users", None).await
    }

    /// Creates a user account.
    pub async fn create_user(&self, input: &CreateUser) -> Result<User, ClientError> {
        self.http.json(Method::POST, "/v1/users", Some(input)).await
    }

    /// Disables (`true`) or enables again (`false`) a user account.
    pub async fn set_user_disabled(&self, username: &str, disabled: bool) -> Result<User, ClientError> {
        let verb = if disabled { "disable" } else { "enable" };
        let path = format!("/v1/users/{}/{verb}", segment(username));
        self.http.json::<(), _>(Method::POST, &path, None).await
    }

    /// Sets a user's password; every login of the account ends.
    pub async fn reset_password(&self, username: &str, password: &str) -> Result<User, ClientError> {
        let path = format!("/v1/users/{}/password", segment(username));
        self.http.json(Method::PUT, &path, Some(&ResetPassword { password: password.to_owned() })).await
    }

    // --- agents (administrators) ----------------------------------------------------------

    /// Every agent, revoked ones included.
    pub async fn agents(&self) -> Result<Vec<Agent>, ClientError> {
        self.http.json::<(), _>(Method::GET, "/v1/agents", None).await
    }

    /// Registers an agent; the answer holds its token, which the server never shows again.
    pub async fn register_agent(&self, input: &RegisterAgent) -> Result<AgentCreated, ClientError> {
        self.http.json(Method::POST, "/v1/agents", Some(input)).await
    }

    /// Revokes an agent: its token stops working.
    pub async fn revoke_agent(&self, id: &str) -> Result<(), ClientError> {
        self.http.call::<()>(Method::DELETE, &format!("/v1/agents/{}", segment(id)), None).await
    }

    // --- projects and members -------------------------------------------------------------

    /// The caller's projects, with the caller's role in each.
    pub async fn projects(&self) -> Result<Vec<Project>, ClientError> {
        self.http.json::<(), _>(Method::GET, "/v1/projects", None).await
    }

    /// Deletes a project and everything in it (owners only).
    pub async fn delete_project(&self, project: &str) -> Result<(), ClientError> {
        self.http.call::<()>(Method::DELETE, &format!("/v1/projects/{}", segment(project)), None).await
    }

    /// The project's members.
    pub async fn members(&self, project: &str) -> Result<Vec<Member>, ClientError> {
        self.http
            .json::<(), _>(Method::GET, &format!("/v1/projects/{}/members", segment(project)), None)
            .await
    }

    /// Adds a member or changes their role (owners only).
    pub async fn set_member(&self, project: &str, username: &str, role: Role) -> Result<Member, ClientError> {
        let path = format!("/v1/projects/{}/members/{}", segment(project), segment(username));
        self.http.json(Method::PUT, &path, Some(&SetMember { role })).await
    }

    /// Removes a member (owners only); the last owner cannot be removed.
    pub async fn remove_member(&self, project: &str, username: &str) -> Result<(), ClientError> {
        let path = format!("/v1/projects/{}/members/{}", segment(project), segment(username));
        self.http.call::<()>(Method::DELETE, &path, None).await
    }
}
