//! An incident carried through: the on-call rotation, roles, follow-up actions, the
//! post-mortem and stakeholder updates. Each command calls one hsof-core function; what
//! is shared leaves with the team sync (every 5 s), stakeholder updates with the outbox
//! flush right after they are queued.

use chrono::Utc;
use hsof_core::followthrough::{
    FollowUpFilter, FollowUpView, MemberView, NewFollowUp, OnCallView, OverrideInput, PostMortemView,
    StakeholderPreview,
};
use hsof_core::incidents::IncidentDetail;
use hsof_core::{os_user, IpcError};
use hsof_ops::incidents::followups::FollowUpState;
use hsof_ops::incidents::roles::Role;
use hsof_ops::incidents::statuspage::StakeholderUpdate;
use hsof_ops::oncall::Rotation;

use crate::active::Ctx;

/// The schedule and what it means now: on call, tonight, next, the week.
#[tauri::command]
#[specta::specta]
pub fn oncall_view(ctx: Ctx) -> Result<OnCallView, IpcError> {
    Ok(ctx.oncall(Utc::now())?)
}

/// Adds a member (or updates their user and contact).
#[tauri::command]
#[specta::specta]
pub fn oncall_member_add(
    ctx: Ctx,
    name: String,
    user: Option<String>,
    contact: Option<String>,
) -> Result<Vec<MemberView>, IpcError> {
    Ok(ctx.oncall_member_add(&name, user.as_deref(), contact.as_deref(), Utc::now())?)
}

/// Removes a member; their open follow-ups come back, to reassign.
#[tauri::command]
#[specta::specta]
pub fn oncall_member_remove(ctx: Ctx, name: String) -> Result<Vec<FollowUpView>, IpcError> {
    Ok(ctx.oncall_member_remove(&name, Utc::now())?)
}

/// Sets the rotation.
#[tauri::command]
#[specta::specta]
pub fn oncall_rotation_set(ctx: Ctx, rotation: Rotation) -> Result<OnCallView, IpcError> {
    Ok(ctx.oncall_rotation_set(&rotation, Utc::now())?)
}

/// Adds an override.
#[tauri::command]
#[specta::specta]
pub fn oncall_override_add(ctx: Ctx, input: OverrideInput) -> Result<OnCallView, IpcError> {
    Ok(ctx.oncall_override_add(&input, &os_user(), Utc::now())?)
}

/// Cancels an override.
#[tauri::command]
#[specta::specta]
pub fn oncall_override_cancel(ctx: Ctx, id: String) -> Result<OnCallView, IpcError> {
    Ok(ctx.oncall_override_cancel(&id, Utc::now())?)
}

/// Writes the rotation's next `weeks` weeks as an .ics file to `path`.
#[tauri::command]
#[specta::specta]
pub fn oncall_export_ics(ctx: Ctx, path: String, weeks: u32) -> Result<String, IpcError> {
    let ics = ctx.oncall_ics(weeks, Utc::now())?;
    hsof_core::calendar::write_atomically(std::path::Path::new(&path), &ics)?;
    Ok(path)
}

/// Follow-ups matching `filter`, overdue first.
#[tauri::command]
#[specta::specta]
pub fn followups_list(ctx: Ctx, filter: FollowUpFilter) -> Result<Vec<FollowUpView>, IpcError> {
    Ok(ctx.followups(&filter, Utc::now())?)
}

/// Creates a follow-up.
#[tauri::command]
#[specta::specta]
pub fn followup_create(ctx: Ctx, followup: NewFollowUp) -> Result<FollowUpView, IpcError> {
    Ok(ctx.followup_create(&followup, &os_user(), Utc::now())?)
}

/// Moves a follow-up to `state` (won't do needs a reason).
#[tauri::command]
#[specta::specta]
pub fn followup_state(
    ctx: Ctx,
    name: String,
    state: FollowUpState,
    reason: Option<String>,
) -> Result<FollowUpView, IpcError> {
    Ok(ctx.followup_state(&name, state, reason.as_deref(), &os_user(), Utc::now())?)
}

/// Gives a follow-up to another member.
#[tauri::command]
#[specta::specta]
pub fn followup_assign(ctx: Ctx, name: String, owner: String) -> Result<FollowUpView, IpcError> {
    Ok(ctx.followup_assign(&name, &owner, &os_user(), Utc::now())?)
}

/// Moves a follow-up's due date.
#[tauri::command]
#[specta::specta]
pub fn followup_due(ctx: Ctx, name: String, due: String) -> Result<FollowUpView, IpcError> {
    Ok(ctx.followup_due(&name, &due, &os_user(), Utc::now())?)
}

/// Assigns a role on an incident (or hands it over).
#[tauri::command]
#[specta::specta]
pub fn incident_role(ctx: Ctx, id: f64, role: Role, who: String) -> Result<IncidentDetail, IpcError> {
    Ok(ctx.incident_role(id as i64, role, &who, &os_user(), Utc::now())?)
}

/// Who the declare form proposes as commander: on call now.
#[tauri::command]
#[specta::specta]
pub fn incident_proposed_commander(ctx: Ctx) -> Option<String> {
    ctx.proposed_commander(Utc::now())
}

/// The post-mortem, assembled now.
#[tauri::command]
#[specta::specta]
pub async fn incident_postmortem(ctx: Ctx, id: f64) -> Result<PostMortemView, IpcError> {
    Ok(ctx.incident_postmortem(id as i64, Utc::now()).await?)
}

/// Writes the team's parts of a post-mortem (contributing factors, lessons).
#[tauri::command]
#[specta::specta]
pub async fn incident_postmortem_edit(
    ctx: Ctx,
    id: f64,
    factors: Option<String>,
    lessons: Option<String>,
) -> Result<PostMortemView, IpcError> {
    Ok(ctx.incident_postmortem_edit(id as i64, factors.as_deref(), lessons.as_deref(), &os_user(), Utc::now()).await?)
}

/// Writes a post-mortem's Markdown to `path`.
#[tauri::command]
#[specta::specta]
pub async fn incident_postmortem_export(ctx: Ctx, id: f64, path: String) -> Result<String, IpcError> {
    let pm = ctx.incident_postmortem(id as i64, Utc::now()).await?;
    hsof_core::calendar::write_atomically(std::path::Path::new(&path), &pm.markdown)?;
    Ok(path)
}

/// What a stakeholder update would send.
#[tauri::command]
#[specta::specta]
pub fn incident_stakeholder_preview(ctx: Ctx, id: f64, body: String) -> Result<StakeholderPreview, IpcError> {
    Ok(ctx.incident_stakeholder_preview(id as i64, &body, Utc::now())?)
}

/// What sending the edited `update` would do (the exact request or webhook body).
#[tauri::command]
#[specta::specta]
pub fn incident_stakeholder_render(
    ctx: Ctx,
    id: f64,
    update: StakeholderUpdate,
) -> Result<StakeholderPreview, IpcError> {
    Ok(ctx.incident_stakeholder_render(id as i64, &update, Utc::now())?)
}

/// Queues a stakeholder update and sends it in the background.
#[tauri::command]
#[specta::specta]
pub fn incident_stakeholder_send(
    app: tauri::AppHandle,
    ctx: Ctx,
    id: f64,
    update: StakeholderUpdate,
) -> Result<IncidentDetail, IpcError> {
    let now = Utc::now();
    ctx.incident_stakeholder_send(id as i64, &update, &os_user(), now)?;
    let c = ctx.clone();
    // Sent now if it can be; the incident's page hears the outcome.
    tauri::async_runtime::spawn(async move {
        match c.flush_slack(Utc::now()).await {
            Ok(_) => crate::poller::incident_tick(&app),
            Err(e) => tracing::warn!(error = %e, "outbox flush failed"),
        }
    });
    Ok(ctx.incident_detail(id as i64, now)?)
}

/// Puts a refused stakeholder update back in the queue: this desktop's (`outbox_id`) or the
/// shared incident's (`shared_id`).
#[tauri::command]
#[specta::specta]
pub async fn stakeholder_retry(
    ctx: Ctx,
    incident_id: f64,
    outbox_id: f64,
    shared_id: Option<String>,
) -> Result<bool, IpcError> {
    Ok(ctx.stakeholder_retry(incident_id as i64, outbox_id as i64, shared_id.as_deref(), Utc::now()).await?)
}
