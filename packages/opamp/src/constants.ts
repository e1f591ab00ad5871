/**
 * Named bits of the OpAMP bitmask fields. The values equal the generated proto enums (a unit test
 * checks every one); these short names read like the specification's prose.
 */

/** Bits of AgentToServer.capabilities. */
export const AgentCapabilities = {
  ReportsStatus: 0x1,
  AcceptsRemoteConfig: 0x2,
  ReportsEffectiveConfig: 0x4,
  AcceptsPackages: 0x8,
  ReportsPackageStatuses: 0x10,
  ReportsOwnTraces: 0x20,
  ReportsOwnMetrics: 0x40,
  ReportsOwnLogs: 0x80,
  AcceptsOpAMPConnectionSettings: 0x100,
  AcceptsOtherConnectionSettings: 0x200,
  AcceptsRestartCommand: 0x400,
  ReportsHealth: 0x800,
  ReportsRemoteConfig: 0x1000,
  ReportsHeartbeat: 0x2000,
  ReportsAvailableComponents: 0x4000,
  ReportsConnectionSettingsStatus: 0x8000,
} as const;

/** Bits of ServerToAgent.capabilities. */
export const ServerCapabilities = {
  AcceptsStatus: 0x1,
  OffersRemoteConfig: 0x2,
  AcceptsEffectiveConfig: 0x4,
  OffersPackages: 0x8,
  AcceptsPackagesStatus: 0x10,
  OffersConnectionSettings: 0x20,
  AcceptsConnectionSettingsRequest: 0x40,
} as const;

/** Bits of AgentToServer.flags. */
export const AgentToServerFlags = {
  RequestInstanceUid: 0x1,
} as const;

/** Bits of ServerToAgent.flags. */
export const ServerToAgentFlags = {
  ReportFullState: 0x1,
  ReportAvailableComponents: 0x2,
} as const;

/** Values of ServerErrorResponse.type. */
export const ServerErrorResponseType = {
  Unknown: 0,
  BadRequest: 1,
  Unavailable: 2,
} as const;

/**
 * True when every bit of `bits` is set in `mask` (false for `bits` = 0).
 * `bits` must be below 2^31, which every defined capability and flag is; `mask` may be any
 * non-negative safe integer (its bits above 31 are ignored).
 */
export function hasCapability(mask: number, bits: number): boolean {
  return bits > 0 && (mask & bits) === bits;
}
