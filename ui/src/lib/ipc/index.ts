// The one door to the Rust side: generated commands, with `Result`s unwrapped so a
// failure arrives as a thrown `AppError` carrying the stable error code.
import { commands, events } from "./bindings";
export { Channel } from "@tauri-apps/api/core";
import type * as B from "./bindings";

export { commands, events };

// What the backend sends: the `_Serialize` side of each generated type.
export type AppEvent = B.AppEvent_Serialize;
export type AuditEntry = B.AuditEntry_Serialize;
export type AuditVerification = B.AuditVerification_Serialize;
export type Config = B.Config_Serialize;
export type Doctor = B.Doctor_Serialize;
export type IpcError = B.IpcError_Serialize;
export type LoadedConfig = B.LoadedConfig_Serialize;
export type ConnectReport = B.ConnectReport_Serialize;
export type ConnectStatus = B.ConnectStatus_Serialize;
export type DemoShown = B.DemoShown;
export type FleetView = B.FleetView_Serialize;
export type FleetRow = B.FleetRow_Serialize;
export type FleetDiff = B.FleetDiff_Serialize;
export type ClustersView = B.ClustersView;
export type DrillRecord = B.DrillRecord_Serialize;
export type ReviewRecord = B.ReviewRecord_Serialize;
export type UpdatesView = B.UpdatesView_Serialize;
export type CleanupView = B.CleanupView_Serialize;
export type CostView = B.CostView_Serialize;
export type CapacityView = B.CapacityView_Serialize;
export type { HpaReplicas } from "./bindings";
export type AccessReport = B.AccessReport_Serialize;
export type NetworkReport = B.NetworkReport;
export type ServiceRef = B.ServiceRef;
export type Alert = B.Alert_Serialize;
export type AlertsView = B.AlertsView_Serialize;
export type ChartView = B.ChartView_Serialize;
export type DrillScenario = B.DrillScenario;
export type Freshness = B.Freshness_Serialize;
export type HealthView = B.HealthView_Serialize;
export type KeyMetric = B.KeyMetric_Serialize;
export type KeyMetricsView = B.KeyMetricsView_Serialize;
export type MorningView = B.MorningView_Serialize;
export type Silence = B.Silence_Serialize;
export type SloReport = B.SloReport_Serialize;
export type SloStatus = B.SloStatus_Serialize;
export type ThresholdView = B.ThresholdView_Serialize;
export type PodRow = B.PodRow_Serialize;
export type Revision = B.Revision_Serialize;
export type Permission = B.Permission_Serialize;
export type ChangeRequest = B.ChangeRequest_Deserialize;
export type Top = B.Top_Serialize;
export type TopRow = B.TopRow_Serialize;
export type ClusterView = B.ClusterView_Serialize;
export type EventRow = B.EventRow_Serialize;
export type WatchState = B.WatchState_Serialize;
export type { DfReport, DfRow, FollowEvent, LogLine } from "./bindings";
export type IncidentView = B.IncidentView_Serialize;
export type IncidentDetail = B.IncidentDetail_Serialize;
export type Incident = B.Incident_Serialize;
export type { TimelineEvent } from "./bindings";
export type SlackPost = B.SlackPost_Serialize;
export type SeverityStats = B.SeverityStats_Serialize;
export type TeamOverview = B.TeamOverview_Serialize;
export type NewIncident = B.NewIncident_Deserialize;
export type IncidentFilter = B.IncidentFilter_Deserialize;
export type { IncidentStatus, Severity, SlackMessage, StatusUpdate } from "./bindings";
export type CalendarView = B.CalendarView_Serialize;
export type { OccurrenceView } from "./bindings";
export type OccurrenceDetail = B.OccurrenceDetail_Serialize;
export type MaintenanceView = B.MaintenanceView_Serialize;
export type { GatesView } from "./bindings";
export type { GateResult } from "./bindings";
export type NewWindow = B.NewWindow;
export type { Report, ReportKind } from "./bindings";
export type DatasetPreview = B.DatasetPreview_Serialize;
export type Experiment = B.Experiment_Serialize;
export type ExperimentRequest = B.ExperimentRequest_Deserialize;
export type ExperimentSummary = B.ExperimentSummary_Serialize;
export type SelectionReport = B.SelectionReport_Serialize;
export type {
  BackendChoice, ColumnKind, ColumnPreview, DatasetFormat, ExperimentStatus, OuterValidation, Progress, SelectedFeature, SizeChoice, SizePoint,
  Stage, StageReport, Validation,
} from "./bindings";
export type OnCallView = B.OnCallView_Serialize;
export type MemberView = B.MemberView_Serialize;
export type { Coverage, Gap, Override, OverrideInput, Rotation, Shift, ShiftSource } from "./bindings";
export type FollowUpView = B.FollowUpView_Serialize;
export type FollowUpFilter = B.FollowUpFilter_Deserialize;
export type NewFollowUp = B.NewFollowUp_Deserialize;
export type { Due, FollowUpLine, FollowUpState, Role } from "./bindings";
export type RoleHolder = B.RoleHolder_Serialize;
export type PostMortemView = B.PostMortemView_Serialize;
export type PostMortem = B.PostMortem_Serialize;
export type Entry = B.Entry_Serialize;
export type Impact = B.Impact_Serialize;
export type BudgetImpact = B.BudgetImpact_Serialize;
export type { SourceNote } from "./bindings";
/** Where a post-mortem timeline entry comes from (`Source` in the bindings). */
export type TimelineSource = B.Source;
export type StakeholderPreview = B.StakeholderPreview_Serialize;
export type StakeholderPost = B.StakeholderPost_Serialize;
export type { ComponentStatus, PageRequest, PageStatus, StakeholderUpdate } from "./bindings";
export type GpuView = B.GpuView_Serialize;
export type GpuHistory = B.GpuHistory_Serialize;
export type GpuBucket = B.GpuBucket_Serialize;
export type GpuAlert = B.GpuAlert_Serialize;
export type DeviceReading = B.DeviceReading_Serialize;
export type DeviceAlerts = B.DeviceAlerts_Serialize;
export type LocalGpuReading = B.LocalGpuReading_Serialize;
export type GpuProcess = B.GpuProcess_Serialize;
export type { GpuRange, GpuThresholds } from "./bindings";
export type {
  ChangeOutcome, DeploymentRow, JobOutcome, NodeRow, RolloutStatus, RunbookJob,
  ChartKind, Checklist, CheckItem, CheckOutcome, ConfigProblem, ErrorCode, KeyDoc, Level, MonitorTick, Theme,
} from "./bindings";

export class AppError extends Error {
  readonly code: IpcError["code"];
  readonly detail: string | null;
  constructor(e: IpcError) {
    super(e.message);
    this.code = e.code;
    this.detail = e.detail;
  }
}

type Res<T> = { status: "ok"; data: T } | { status: "error"; error: IpcError };

/** Awaits a generated command that returns a Result, throwing AppError on failure. */
export async function call<T>(p: Promise<Res<T>>): Promise<T> {
  const r = await p;
  if (r.status === "error") throw new AppError(r.error);
  return r.data;
}

/** Anything caught → an IpcError-shaped object for the error state. */
export function toIpcError(e: unknown): IpcError {
  if (e instanceof AppError) return { code: e.code, message: e.message, detail: e.detail };
  return { code: "internal", message: e instanceof Error ? e.message : String(e), detail: null };
}
