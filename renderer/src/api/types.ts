/**
 * The renderer's view of the API contract: types only (plus the error class), so the bundle carries
 * the contract's shapes without any engine code. Everything the UI calls is typed from here.
 */
export type {
  MethodName, MethodInput, MethodOutput, SavedConnection, ConnectionDraft, ConnectionTestResult,
  BrowseCursor, BrowseRowsInput, BrowseRowsOutput, BrowseCountOutput, FilterValidateOutput, SortSpec,
  FlowSummary, SavedFlow, DropResult, WatchInfo, DemoStatus, AppInfo,
} from '../../../core/api/contract';
export type { ApiEvent, EventName, EventPayload } from '../../../core/api/events';
export type { Envelope, ApiErrorCode } from '../../../core/api/errors';
export type { TableSyncBridge } from '../../../core/api/contract.transport';
export type {
  Cell, ColumnInfo, TableInfo, TableDescription, Plan, PlanStep, SampleRow, RowCounts, ApplyProgress,
  ApplyResult, ChangeEvent, ListenerStatus, Hazard, VerifyResult, VerifyRow, InitialLoadChoice,
} from '../../../core/api/model';
export type { Flow, FlowInput, VectorIndexSpec, SqlAttachmentSpec, ColumnOverride, ReplicationSpec } from '../../../core/flow/schema';
export type { SetSpec, SetSpecInput } from '../../../core/flow/schema.set';
export type { SetPlan, SetApplyResult, SetApplyProgress, SetVerifyResult, RefusedTable, StaleSetMember } from '../../../core/api/model.set';
export type { SetSummary } from '../../../core/api/contract';
export type {
  TableStructure, ConstraintInfo, ForeignKeyInfo, IndexInfo, TriggerInfo, SchemaObjects, SequenceInfo, FunctionInfo, DatabaseInfo,
} from '../../../core/api/contract.inspect';
export type { ConsoleResult, ConsolePage, ConsoleColumn, PlanNode, CompletionSchema } from '../../../core/api/contract.console';
export type { ExportProgress, ExportStartInput, ExportSource, ExportFormat } from '../../../core/api/contract.export';
