// Types shared by the per-action modules and the registry (typed over the
// generated action map, so a mistyped handler fails tsc).
import type { ActionMap, CpInitiatedAction, CsmsInitiatedAction } from '../generated/action-map.js';

export type CpAction = CpInitiatedAction;
export type CsmsAction = CsmsInitiatedAction;
export type RequestOf<A extends keyof ActionMap> = ActionMap[A]['request'];
export type ResponseOf<A extends keyof ActionMap> = ActionMap[A]['response'];
