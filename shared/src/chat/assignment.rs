//! Agents work as a team: a session is held by at most one agent. Claim, transfer and release
//! each change the holder in one transaction with their activity entry, conditioned on who
//! holds it, so two agents racing for one session never both win. A support reply claims an
//! unassigned session in its own transaction and is refused in another agent's session unless
//! forced (logged).

use super::{ChatError, ChatService};
use crate::ids::{MessageId, SessionId};
use crate::sign_in::auth::VerifiedAdmin;
use crate::store::items::{ActivityAction, Assignee, SessionItem};
use crate::store::{HolderGuard, Reassign, ReassignOutcome};
use serde::Serialize;
use serde_json::{json, Value};

/// Attempts of a holder change that met another transaction on the session at the same moment.
const MAX_REASSIGN_ATTEMPTS: usize = 5;

/// A session's holder after a claim, transfer or release (`null`: unassigned).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Assignment {
    pub session_id: SessionId,
    pub assigned_to: Option<Assignee>,
}

/// The active agents (`data.agents`: the envelope's `data` is always an object).
#[derive(Debug, Clone, Serialize)]
pub struct ActiveAgents {
    pub agents: Vec<AgentSummary>,
}

/// An active agent, as the dashboard's transfer picker shows them.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentSummary {
    pub admin_id: String,
    pub name: String,
}

/// What a support reply does about the session's holder: claim it, or require that the holder
/// is still who it was when the reply was drafted.
pub(crate) struct SendAssignment {
    pub guard: HolderGuard,
    /// The holder a forced reply went past.
    pub forced_over: Option<Assignee>,
}

/// The change an agent asks for.
struct Change<'a> {
    action: ActivityAction,
    to: Option<Assignee>,
    if_unassigned: bool,
    if_held_by_me: bool,
    details: Value,
    admin: &'a VerifiedAdmin,
}

fn assignee(admin: &VerifiedAdmin) -> Assignee {
    Assignee {
        admin_id: admin.admin_id.clone(),
        name: admin.name.clone(),
    }
}

impl ChatService {
    /// The agent takes the session: from nobody, or again from themselves (no change, 200).
    pub async fn claim_session(
        &self,
        admin: &VerifiedAdmin,
        session_id: &SessionId,
    ) -> Result<Assignment, ChatError> {
        let change = Change {
            action: ActivityAction::ClaimedSession,
            to: Some(assignee(admin)),
            if_unassigned: true,
            if_held_by_me: false,
            details: json!({}),
            admin,
        };
        self.change_holder(session_id, change).await
    }

    /// The holder (or anyone, while nobody holds it) hands the session to an active agent.
    pub async fn transfer_session(
        &self,
        admin: &VerifiedAdmin,
        session_id: &SessionId,
        to_admin_id: &str,
    ) -> Result<Assignment, ChatError> {
        let target = self
            .store
            .admin(to_admin_id)
            .await?
            .filter(|target| target.active)
            .ok_or(ChatError::InvalidTransferTarget)?;
        let change = Change {
            action: ActivityAction::TransferredSession,
            to: Some(Assignee {
                admin_id: target.admin_id.clone(),
                name: target.name.clone(),
            }),
            if_unassigned: true,
            if_held_by_me: true,
            details: json!({ "toAdminId": target.admin_id, "toName": target.name }),
            admin,
        };
        self.change_holder(session_id, change).await
    }

    /// The holder gives the session back to the team; releasing an unassigned one is a no-op.
    pub async fn release_session(
        &self,
        admin: &VerifiedAdmin,
        session_id: &SessionId,
    ) -> Result<Assignment, ChatError> {
        let change = Change {
            action: ActivityAction::ReleasedSession,
            to: None,
            if_unassigned: false,
            if_held_by_me: true,
            details: json!({}),
            admin,
        };
        self.change_holder(session_id, change).await
    }

    /// The agents a session can be transferred to: the active ones.
    pub async fn active_agents(&self) -> Result<ActiveAgents, ChatError> {
        let mut agents: Vec<AgentSummary> = self
            .store
            .admins()
            .await?
            .into_iter()
            .filter(|admin| admin.active)
            .map(|admin| AgentSummary {
                admin_id: admin.admin_id,
                name: admin.name,
            })
            .collect();
        agents.sort_by_key(|agent| agent.name.to_lowercase());
        Ok(ActiveAgents { agents })
    }

    /// One conditional transaction; a refusal is read from the session DynamoDB hands back.
    async fn change_holder(
        &self,
        session_id: &SessionId,
        change: Change<'_>,
    ) -> Result<Assignment, ChatError> {
        let me = change.admin.admin_id.as_str();
        let target = change
            .to
            .as_ref()
            .filter(|_| change.action == ActivityAction::TransferredSession);
        for _ in 0..MAX_REASSIGN_ATTEMPTS {
            let activity = self.activity(me, session_id, change.action, change.details.clone());
            let outcome = self
                .store
                .reassign(Reassign {
                    session: session_id,
                    to: change.to.as_ref(),
                    if_unassigned: change.if_unassigned,
                    if_held_by: change.if_held_by_me.then_some(me),
                    target_active: target.map(|t| t.admin_id.as_str()),
                    activity: &activity,
                })
                .await?;
            let old = match outcome {
                ReassignOutcome::Done => {
                    return Ok(Assignment {
                        session_id: session_id.clone(),
                        assigned_to: change.to,
                    })
                }
                ReassignOutcome::TargetInactive => return Err(ChatError::InvalidTransferTarget),
                ReassignOutcome::Conflict => continue,
                ReassignOutcome::Refused(old) => old,
            };
            let session = old
                .filter(|s| s.status.is_active())
                .ok_or(ChatError::SessionNotFound)?;
            let held_by = |a: &Option<Assignee>| a.as_ref().map(|a| a.admin_id.clone());
            match session.assigned_to {
                Some(holder) if holder.admin_id != me => {
                    return Err(ChatError::AlreadyAssigned(holder))
                }
                // Already as asked (a claim of one's own session, a release of a free one):
                // nothing to change, nothing to log.
                current if held_by(&current) == held_by(&change.to) => {
                    return Ok(Assignment {
                        session_id: session_id.clone(),
                        assigned_to: current,
                    })
                }
                // It changed between the check and now: decide again.
                _ => continue,
            }
        }
        Err(ChatError::Contention)
    }

    /// What a reply by `admin` requires of the session's holder, decided from the session the
    /// send drafted from: refused in another agent's session unless `force`.
    pub(crate) fn send_assignment(
        &self,
        session: &SessionItem,
        admin: &VerifiedAdmin,
        force: bool,
    ) -> Result<SendAssignment, ChatError> {
        match &session.assigned_to {
            None => Ok(SendAssignment {
                guard: HolderGuard::Claim(assignee(admin)),
                forced_over: None,
            }),
            Some(holder) if holder.admin_id == admin.admin_id => Ok(SendAssignment {
                guard: HolderGuard::HeldBy(holder.admin_id.clone()),
                forced_over: None,
            }),
            Some(holder) if force => Ok(SendAssignment {
                guard: HolderGuard::HeldBy(holder.admin_id.clone()),
                forced_over: Some(holder.clone()),
            }),
            Some(holder) => Err(ChatError::AlreadyAssigned(holder.clone())),
        }
    }
}

/// The `SENT_MESSAGE` entry's details: the message; that the reply claimed the session; or
/// whose session a forced reply went into. One entry, so the log's order never depends on two
/// entries written at the same millisecond.
pub(crate) fn sent_details(message_id: MessageId, assignment: Option<&SendAssignment>) -> Value {
    match assignment {
        Some(SendAssignment {
            forced_over: Some(holder),
            ..
        }) => json!({ "messageId": message_id, "forced": true, "assignedTo": holder }),
        Some(SendAssignment {
            guard: HolderGuard::Claim(_),
            ..
        }) => json!({ "messageId": message_id, "claimed": true }),
        _ => json!({ "messageId": message_id }),
    }
}
